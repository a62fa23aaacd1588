package web

import (
	"bufio"
	"io"
	"net/http"
	"strconv"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/media"
)

// handleAnimation serves the original of a GIF or WebP asset for the asset
// page to play (media.Animates): only when its content is one of those
// formats, with that image type whatever the storage claims, and headers
// that keep a browser from treating it as anything but an image.
func (s *Server) handleAnimation(w http.ResponseWriter, r *http.Request, p *principal) {
	a, ok := s.loadAsset(w, r, p)
	if !ok {
		return
	}
	if !media.Animates(a) {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "%s is not a GIF or WebP image of at most %d MiB with a preview; download it instead", a.Name, media.MaxAnimationBytes>>20))
		return
	}
	// A revalidation is answered before the storage is read: the version
	// names the content.
	etag := strconv.Quote(media.Version(a) + "-original")
	validator := func() {
		w.Header().Set("Cache-Control", "private, no-cache")
		w.Header().Set("ETag", etag)
	}
	if r.Header.Get("If-None-Match") == etag {
		validator()
		w.WriteHeader(http.StatusNotModified)
		return
	}
	rc, ok := s.openOriginal(w, r, p, a)
	if !ok {
		return
	}
	defer rc.Close()
	br := bufio.NewReader(rc)
	head, _ := br.Peek(16)
	ctype := media.AnimationType(head)
	if ctype == "" {
		s.writeError(w, r, errorf(http.StatusConflict, "not_an_animation", "%s no longer holds a GIF or WebP image; a sync brings its new content into the library", a.Name))
		return
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	validator()
	if _, err := br.WriteTo(w); err != nil {
		s.logger.WarnContext(r.Context(), "animation interrupted", "asset_id", a.ID, "err", err)
	}
}

// openOriginal opens asset a's file in the account's storage, answering
// the request with the failure when it cannot.
func (s *Server) openOriginal(w http.ResponseWriter, r *http.Request, p *principal, a catalog.Asset) (io.ReadCloser, bool) {
	conn, err := s.conns.Connector(r.Context(), p.Account.ID)
	if err != nil {
		s.writeError(w, r, errorf(http.StatusBadGateway, "storage_error", "%v", err))
		return nil, false
	}
	rc, err := conn.Open(r.Context(), a.Path)
	if err != nil {
		s.conns.MarkFailure(r.Context(), p.Account.ID, err)
		s.writeError(w, r, errorf(http.StatusBadGateway, "storage_error", "could not read %s from the storage: %v; a sync may be needed if it was changed there", a.Path, err))
		return nil, false
	}
	return rc, true
}
