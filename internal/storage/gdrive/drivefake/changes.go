package drivefake

import (
	"net/http"
	"strconv"
)

func (s *Server) handleStartToken(w http.ResponseWriter, r *http.Request, _ string) {
	v := r.URL.Query()
	s.mu.Lock()
	tok := s.st.startToken()
	if c := corpusOf(v); c.driveID != "" && !s.sharedDrive(c) {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "notFound", "Shared drive not found: "+c.driveID, "driveId", "parameter")
		return
	}
	s.mu.Unlock()
	s.respond(w, v, map[string]any{"kind": "drive#startPageToken", "startPageToken": strconv.FormatInt(tok, 10)}, nil)
}

// sharedDrive reports whether the call's driveId names a shared drive the
// user can reach (Drive answers 404 "Shared drive not found" otherwise).
// Called with s.mu held.
func (s *Server) sharedDrive(c corpus) bool {
	f, ok := s.st.files[c.driveID]
	return ok && f.parent == "" && f.driveID == c.driveID && c.allDrives && s.st.visible(f)
}

// handleChanges serves changes.list. Each file appears once, at its latest
// change, with its current state (as Drive reports it); files deleted for
// good or no longer visible appear as removed.
func (s *Server) handleChanges(w http.ResponseWriter, r *http.Request, _ string) {
	v := r.URL.Query()
	raw := v.Get("pageToken")
	if raw == "" {
		writeError(w, http.StatusBadRequest, "required", "Required parameter: pageToken", "pageToken", "parameter")
		return
	}
	size, err := pageSize(v, 100, 1000)
	if err != nil {
		writeInvalid(w, "pageSize", err.Error())
		return
	}
	c := corpusOf(v)
	includeRemoved := v.Get("includeRemoved") != "false"

	s.mu.Lock()
	if c.driveID != "" && !s.sharedDrive(c) {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "notFound", "Shared drive not found: "+c.driveID, "driveId", "parameter")
		return
	}
	tok, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || tok > s.st.startToken() {
		s.mu.Unlock()
		writeInvalid(w, "pageToken", "")
		return
	}
	if tok < s.st.minToken {
		how := s.st.tokenRejection
		s.mu.Unlock()
		writeTokenRejected(w, how)
		return
	}
	var items []any
	var seqs []int64
	for seq := tok; seq < s.st.startToken(); seq++ {
		ch := s.st.changes[seq-1]
		if ch.fileID == "" {
			continue
		}
		if c.driveID != "" {
			// A shared drive's feed: the drive's own changes, each file
			// once at its latest; a file that left the drive is removed.
			if ch.driveID != c.driveID || s.st.lastInDrive[driveKey(c.driveID, ch.fileID)] != seq {
				continue
			}
		} else if ch.departure || s.st.lastSeq[ch.fileID] != seq || ch.driveID != "" && !(c.include && c.allDrives) {
			continue // superseded, or a shared drive item the caller did not ask for
		}
		item := map[string]any{"kind": "drive#change", "changeType": "file", "fileId": ch.fileID, "time": ch.at.UTC().Format("2006-01-02T15:04:05.000Z"), "removed": true}
		if ch.driveID != "" {
			item["driveId"] = ch.driveID
		}
		if f, ok := s.st.files[ch.fileID]; ok && !ch.removed && s.st.visible(f) && f.driveID == ch.driveID {
			item["removed"] = false
			item["file"] = f.json()
		} else if !includeRemoved {
			continue
		}
		items = append(items, item)
		seqs = append(seqs, seq)
	}
	body := map[string]any{"kind": "drive#changeList"}
	switch {
	case s.opts.EmptyPageEvery > 0 && len(seqs) > 0 && seqs[0] != tok && tok%int64(s.opts.EmptyPageEvery) == 0:
		// The token points at changes this caller cannot see: an empty
		// page that moves on to the next visible change.
		items = nil
		body["nextPageToken"] = strconv.FormatInt(seqs[0], 10)
	default:
		if s.opts.MaxPageSize > 0 {
			size = min(size, s.opts.MaxPageSize)
		}
		to := min(size, len(items))
		if to < len(items) {
			body["nextPageToken"] = strconv.FormatInt(seqs[to], 10)
		} else {
			body["newStartPageToken"] = strconv.FormatInt(s.st.startToken(), 10)
		}
		items = items[:to]
	}
	s.mu.Unlock()
	if items == nil {
		items = []any{}
	}
	body["changes"] = items
	s.respond(w, v, body, defaultChangeFields)
}
