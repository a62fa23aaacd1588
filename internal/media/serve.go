package media

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// ServeThumb answers an HTTP request for the derived image of size
// (SizeThumb or SizePreview) of asset a, which the caller has already loaded
// and authorised. Pages may add ?v=Version(a) to the URL so browsers cache
// the image for good. A ready preview missing on this node's disk (made by
// another node) is regenerated on the spot; an asset without a preview gets
// its type icon as SVG.
func (s *Service) ServeThumb(w http.ResponseWriter, r *http.Request, a catalog.Asset, size string) {
	if size != SizePreview {
		size = SizeThumb
	}
	a = s.retryInstalledTool(r.Context(), a)
	if a.PreviewState == StateReady && a.RemovedAt == nil {
		path := s.cfg.Thumbs.Path(a, size)
		if !s.cfg.Thumbs.Has(a, size) {
			s.regenerate(r.Context(), a)
		}
		if f, err := os.Open(path); err == nil {
			defer func() { _ = f.Close() }()
			if st, err := f.Stat(); err == nil {
				w.Header().Set("Content-Type", "image/jpeg")
				w.Header().Set("Cache-Control", cacheControl(r, a))
				w.Header().Set("ETag", strconv.Quote(Version(a)+"-"+size))
				http.ServeContent(w, r, "", st.ModTime(), f)
				return
			}
		}
	}
	ServeIcon(w, r, IconName(a.Name, a.MIME))
}

// cacheControl lets a browser keep a preview for good when the URL names
// its version (?v=Version(a): a new version gets a new URL); without it the
// browser revalidates with the ETag, so a changed file never shows a stale
// preview.
func cacheControl(r *http.Request, a catalog.Asset) string {
	if r.URL.Query().Get("v") == Version(a) {
		return "private, max-age=31536000, immutable"
	}
	return "private, no-cache"
}

// ServeIcon answers with a type icon (SVG). Browsers revalidate it (the
// asset's preview may be ready soon) and get a 304 while it stays the icon.
func ServeIcon(w http.ResponseWriter, r *http.Request, name string) {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "private, no-cache")
	w.Header().Set("ETag", strconv.Quote("icon-"+name))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(Icon(name)))
}

// regenerateTimeout bounds an on-demand regeneration.
const regenerateTimeout = 2 * time.Minute

// regenerate remakes a's previews on this node, once per asset version even
// when many requests miss at the same time, and at most OnMissLimit at once.
func (s *Service) regenerate(ctx context.Context, a catalog.Asset) {
	key := fmt.Sprintf("%d/%d/%s", a.AccountID, a.ID, Version(a))
	_, _, _ = s.flight.Do(key, func() (any, error) {
		select {
		case s.onMiss <- struct{}{}:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		defer func() { <-s.onMiss }()
		// Finish even if this request goes away: other requests wait on it.
		gctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), regenerateTimeout)
		defer cancel()
		if err := s.Generate(gctx, a.AccountID, a.ID); err != nil {
			s.cfg.Logger.Warn("regenerating a missing preview failed",
				slog.Int64("account_id", a.AccountID), slog.Int64("asset_id", a.ID), slog.String("error", err.Error()))
			return nil, err
		}
		return nil, nil
	})
}
