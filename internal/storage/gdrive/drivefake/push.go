package drivefake

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Push notification limits, as Drive has them.
const (
	// maxChannelTTL is the longest a changes channel lives; a later
	// expiration is cut to it (files channels get a day; the fake has
	// none).
	maxChannelTTL = 7 * 24 * time.Hour
	// defaultChannelTTL is the lifetime of a channel asked for without an
	// expiration.
	defaultChannelTTL = time.Hour
	// defaultNotificationTimeout bounds one notification POST.
	defaultNotificationTimeout = 2 * time.Second
	// pushUserAgent is the User-Agent Google's push notifications carry.
	pushUserAgent = "APIs-Google; (+https://developers.google.com/webmasters/APIs-Google.html)"
)

// watchChannel is a channel opened by changes.watch. All access is under
// Server.mu.
type watchChannel struct {
	id, resourceID, resourceURI string
	token, address              string
	expires                     time.Time
	scope                       corpus
	lastMessage                 int64 // X-Goog-Message-Number of the last message
	// pending marks a change message queued and not yet sent: changes
	// recorded meanwhile ride on it, as several changes close together
	// may give one message in Drive.
	pending bool
	stopped bool
}

// sees reports whether a changes.list call with this corpus would list
// the change: the feed of one shared drive, or My Drive's with shared
// drive items only when they were asked for.
func (c corpus) sees(ch change) bool {
	switch {
	case ch.fileID == "":
		return false
	case c.driveID != "":
		return ch.driveID == c.driveID
	}
	return !ch.departure && (ch.driveID == "" || c.include && c.allDrives)
}

// watchRequest is the channel a changes.watch call sends.
type watchRequest struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Address string `json:"address"`
	Token   string `json:"token"`
	// Expiration is Unix milliseconds, as a JSON string (the Go client's
	// form) or a number.
	Expiration json.RawMessage `json:"expiration"`
}

// handleWatch serves changes.watch: it opens a channel on the changes feed
// the parameters select (as changes.list would read it), sends the
// address a "sync" message, and then a "change" message whenever a change
// that feed would list is recorded.
func (s *Server) handleWatch(w http.ResponseWriter, r *http.Request, _ string) {
	v := r.URL.Query()
	raw := v.Get("pageToken")
	if raw == "" {
		writeError(w, http.StatusBadRequest, "required", "Required parameter: pageToken", "pageToken", "parameter")
		return
	}
	var req watchRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error", "", "")
		return
	}
	if req.ID == "" {
		writeError(w, http.StatusBadRequest, "required", "Required", "", "")
		return
	}
	if req.Type != "web_hook" {
		writeError(w, http.StatusBadRequest, "push.channelTypeNotSupported", fmt.Sprintf("Channel type %q is not supported.", req.Type), "", "")
		return
	}
	if reason, msg := checkAddress(req.Address); reason != "" {
		writeError(w, http.StatusBadRequest, reason, msg, "", "")
		return
	}
	var wished int64
	if e := strings.Trim(string(req.Expiration), `"`); e != "" && e != "null" {
		var err error
		if wished, err = strconv.ParseInt(e, 10, 64); err != nil {
			writeError(w, http.StatusBadRequest, "parseError", "Parse Error", "", "")
			return
		}
	}
	c := corpusOf(v)

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
	now := s.opts.Now()
	s.dropExpired(now)
	if _, taken := s.channels[req.ID]; taken {
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "channelIdNotUnique", "Channel id not unique", "", "")
		return
	}
	expires := now.Add(defaultChannelTTL)
	if wished != 0 {
		expires = time.UnixMilli(wished)
	}
	if limit := now.Add(maxChannelTTL); expires.After(limit) {
		expires = limit
	}
	expires = expires.Truncate(time.Millisecond)
	ch := &watchChannel{
		id: req.ID, resourceID: randomToken(""), resourceURI: s.changesURI(v),
		token: req.Token, address: req.Address, expires: expires, scope: c,
	}
	s.channels[ch.id] = ch
	s.push.enqueue(func(ctx context.Context) { s.deliver(ctx, ch, "sync") })
	s.mu.Unlock()

	body := map[string]any{
		"kind":        "api#channel",
		"id":          ch.id,
		"resourceId":  ch.resourceID,
		"resourceUri": ch.resourceURI,
		"expiration":  strconv.FormatInt(expires.UnixMilli(), 10),
	}
	if ch.token != "" {
		body["token"] = ch.token
	}
	s.respond(w, v, body, nil)
}

// checkAddress checks a channel's address as Drive does: https only. The
// fake also takes plain http to a loopback host, so that tests can receive
// on an httptest server.
func checkAddress(address string) (reason, msg string) {
	u, err := url.Parse(address)
	if err != nil || u.Host == "" {
		return "push.webhookUrlNoHostOrAddress", "No host or address found in WebHook callback: " + address
	}
	if u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname()) {
		return "", ""
	}
	return "push.webhookUrlNotHttps", "WebHook callback must be HTTPS: " + address
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// changesURI is the resourceUri of a watch: the changes.list call it
// watches.
func (s *Server) changesURI(v url.Values) string {
	q := url.Values{}
	for k, vs := range v {
		switch k {
		case "fields", "prettyPrint", "key", "quotaUser":
		default:
			q[k] = vs
		}
	}
	q.Set("alt", "json")
	return s.URL() + "/drive/v3/changes?" + q.Encode()
}

// channelStop is the body of a channels.stop call.
type channelStop struct {
	ID         string `json:"id"`
	ResourceID string `json:"resourceId"`
}

// handleStop serves channels.stop: 204 for a live channel named by its ID
// and resource ID, 404 for any other (unknown, stopped or expired).
func (s *Server) handleStop(w http.ResponseWriter, r *http.Request, _ string) {
	var req channelStop
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "parseError", "Parse Error", "", "")
		return
	}
	s.mu.Lock()
	s.dropExpired(s.opts.Now())
	ch, ok := s.channels[req.ID]
	if !ok || ch.resourceID != req.ResourceID {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "notFound", fmt.Sprintf("Channel '%s' not found for project 'drivefake'", req.ID), "", "")
		return
	}
	ch.stopped = true
	delete(s.channels, ch.id)
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// dropExpired forgets expired channels. Called with s.mu held.
func (s *Server) dropExpired(now time.Time) {
	for id, ch := range s.channels {
		if !now.Before(ch.expires) {
			ch.stopped = true
			delete(s.channels, id)
		}
	}
}

// changeRecorded queues a "change" message for each live channel whose
// feed lists the change. Called with s.mu held, from the store.
func (s *Server) changeRecorded(c change) {
	s.dropExpired(s.opts.Now())
	for _, ch := range s.channels {
		if ch.pending || !ch.scope.sees(c) {
			continue
		}
		ch.pending = true
		s.push.enqueue(func(ctx context.Context) { s.deliver(ctx, ch, "change") })
	}
}

// deliver POSTs one message of a channel, unless the channel was stopped
// or expired meanwhile. Like Drive, it ignores what the receiver answers
// and gives up on a receiver that fails or is slow.
func (s *Server) deliver(ctx context.Context, ch *watchChannel, state string) {
	s.mu.Lock()
	if state == "change" {
		ch.pending = false
	}
	if ch.stopped || !s.opts.Now().Before(ch.expires) {
		s.mu.Unlock()
		return
	}
	ch.lastMessage++
	h := http.Header{}
	h.Set("X-Goog-Channel-ID", ch.id)
	if ch.token != "" {
		h.Set("X-Goog-Channel-Token", ch.token)
	}
	h.Set("X-Goog-Channel-Expiration", ch.expires.UTC().Format(http.TimeFormat))
	h.Set("X-Goog-Resource-ID", ch.resourceID)
	h.Set("X-Goog-Resource-URI", ch.resourceURI)
	h.Set("X-Goog-Resource-State", state)
	h.Set("X-Goog-Message-Number", strconv.FormatInt(ch.lastMessage, 10))
	h.Set("User-Agent", pushUserAgent)
	address := ch.address
	client := s.opts.NotificationClient
	if client == nil {
		client = s.notifyClient
	}
	timeout := s.opts.NotificationTimeout
	if timeout <= 0 {
		timeout = defaultNotificationTimeout
	}
	s.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, address, http.NoBody)
	if err != nil {
		return
	}
	req.Header = h
	resp, err := client.Do(req)
	if err != nil {
		return
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
}

// FlushNotifications waits until every push notification queued so far
// was delivered or given up, so a test can assert that nothing more
// arrives.
func (s *Server) FlushNotifications() { s.push.flush() }
