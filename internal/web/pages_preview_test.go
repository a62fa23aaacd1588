package web

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/media"
)

func TestPreviewStateOnCardsAndAssetPage(t *testing.T) {
	t.Parallel()
	forEachDialect(t, testPreviewStateOnCardsAndAssetPage)
}

func testPreviewStateOnCardsAndAssetPage(t *testing.T, f *fixture) {
	ctx := context.Background()
	c, sb := f.signup("admin@example.com", "Team")
	acct := accountIDOf(t, sb)
	var photoID, videoID int64
	err := f.store.SyncApply(ctx, acct, f.clock(), func(tx *catalog.SyncTx) error {
		var err error
		if photoID, err = tx.AddAsset(nil, catalog.SyncFile{StorageID: "photo.jpg", Name: "photo.jpg", Path: "photo.jpg", Size: 5, MIME: "image/jpeg", ETag: "e1"}); err != nil {
			return err
		}
		videoID, err = tx.AddAsset(nil, catalog.SyncFile{StorageID: "broken.mp4", Name: "broken.mp4", Path: "broken.mp4", Size: 5, MIME: "video/mp4", ETag: "e2"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	// While the preview is being made the card says so, and its thumbnail
	// URL names the pending state.
	photo, _ := f.store.GetAsset(ctx, acct, photoID)
	_, _, body := c.get("/library")
	card := between(body, fmt.Sprintf(`data-asset="%d"`, photoID), "</article>")
	if !strings.Contains(card, `data-preview="pending"`) || !strings.Contains(card, ">Processing…</span>") {
		t.Errorf("a pending card does not say it is processing: %s", card)
	}
	pendingURL := fmt.Sprintf("/api/v1/assets/%d/thumb?v=%s", photoID, media.ThumbVersion(photo))
	if !strings.Contains(card, pendingURL) {
		t.Errorf("card lacks the versioned thumbnail URL %s: %s", pendingURL, card)
	}

	// Once ready, the URL changes (so the browser drops the icon it kept)
	// and "Processing…" is gone.
	if ok, err := f.store.SetAssetPreview(ctx, photo, catalog.PreviewUpdate{State: media.StateReady}, f.clock()); err != nil || !ok {
		t.Fatalf("recording the preview: %v %v", ok, err)
	}
	photo, _ = f.store.GetAsset(ctx, acct, photoID)
	_, _, body = c.get("/library")
	card = between(body, fmt.Sprintf(`data-asset="%d"`, photoID), "</article>")
	readyURL := fmt.Sprintf("/api/v1/assets/%d/thumb?v=%s", photoID, media.ThumbVersion(photo))
	if readyURL == pendingURL || !strings.Contains(card, readyURL) || strings.Contains(card, "Processing") {
		t.Errorf("a ready card: want %s and no processing note: %s", readyURL, card)
	}
	code, res := c.do("GET", "/api/v1/assets", nil)
	if code != http.StatusOK {
		t.Fatalf("listing: %d", code)
	}
	for _, a := range res["assets"].([]any) {
		if num(obj(a)["id"]) == photoID && obj(a)["thumb_url"] != readyURL {
			t.Errorf("API thumb_url %v, want %s", obj(a)["thumb_url"], readyURL)
		}
	}

	// A preview that failed with a tool's raw message (recorded before
	// reasons were worded for people) shows plain words, never a server path.
	video, _ := f.store.GetAsset(ctx, acct, videoID)
	raw := "cannot read this video: ffprobe failed (exit status 1): /tmp/shelf-media-42.mp4: Invalid data found when processing input"
	if ok, err := f.store.SetAssetPreview(ctx, video, catalog.PreviewUpdate{State: media.StateError, Error: raw}, f.clock()); err != nil || !ok {
		t.Fatalf("recording the failure: %v %v", ok, err)
	}
	_, _, body = c.get(fmt.Sprintf("/assets/%d", videoID))
	want := "No preview: This video could not be read (it may be damaged or in a format the server&#39;s tools do not know)."
	if !strings.Contains(body, want) || strings.Contains(body, "/tmp/") || strings.Contains(body, "ffprobe") {
		t.Errorf("asset page: want %q and no tool output; got %s", want, between(body, `id="preview-note"`, "</figcaption>"))
	}
	_, _, body = c.get("/library")
	card = between(body, fmt.Sprintf(`data-asset="%d"`, videoID), "</article>")
	if !strings.Contains(card, ">No preview</span>") || strings.Contains(card, "/tmp/") {
		t.Errorf("failed card: %s", card)
	}
	_, res = c.do("GET", "/api/v1/assets", nil)
	for _, a := range res["assets"].([]any) {
		if num(obj(a)["id"]) == videoID && strings.Contains(fmt.Sprint(obj(a)["preview_error"]), "/tmp/") {
			t.Errorf("API shows the raw tool error: %v", obj(a)["preview_error"])
		}
	}
}
