package browser

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/media"
)

// TestThumbnailsUpdateByThemselves: at desktop and phone width, a JPEG
// uploaded through the page gets its thumbnail without a reload; a card
// whose preview is being made says "Processing…" and swaps in the
// thumbnail when the preview job announces it; a video that cannot be read
// says why in plain words, without the tool's output or a server path.
func TestThumbnailsUpdateByThemselves(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "previews@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	acct := accountID(b, ctx)

	dir := t.TempDir()
	photo := filepath.Join(dir, "photo.jpg")
	img := image.NewRGBA(image.Rect(0, 0, 640, 480))
	for x := range 640 {
		for y := range 480 {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 120, 255})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(photo, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	for _, width := range []string{"desktop", "phone"} {
		if width == "desktop" {
			b.desktop(ctx)
		} else {
			b.phone(ctx)
		}
		b.open(ctx, s.URL, "/library")
		eval[bool](b, ctx, `window.__sameLoad = true`)

		// Upload: the card turns from the icon to the thumbnail by itself.
		name := "fresh-" + width + ".jpg"
		local := filepath.Join(dir, name)
		if err := os.WriteFile(local, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		b.do(ctx, "choosing the photo", chromedp.SetUploadFiles(chromedp.ID("upload-input"), []string{local}))
		card := fmt.Sprintf(`document.querySelector('#items .card[data-name=%q]')`, name)
		thumbLoaded := func(card string) string {
			return fmt.Sprintf(`(() => { const c = %s; const i = c && c.querySelector('img.thumb');
				return !!i && c.dataset.preview === 'ready' && i.complete && i.naturalWidth === 400 && c.querySelector('.preview-status').hidden; })()`, card)
		}
		b.waitFor(ctx, "the uploaded photo's thumbnail", thumbLoaded(card))
		if !eval[bool](b, ctx, `window.__sameLoad === true`) {
			t.Errorf("%s: the page reloaded to show the thumbnail", width)
		}

		// A preview being made: "Processing…" on the card, then the
		// thumbnail when the job announces it — no reload.
		id := int64(eval[float64](b, ctx, card+`.dataset.asset * 1`))
		a, err := s.App.Store.GetAsset(context.Background(), acct, id)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := s.App.Store.SetAssetPreview(context.Background(), a, catalog.PreviewUpdate{State: media.StatePending}, time.Now()); err != nil || !ok {
			t.Fatalf("marking the preview pending: %v %v", ok, err)
		}
		b.open(ctx, s.URL, "/library")
		eval[bool](b, ctx, `window.__sameLoad = true`)
		status := eval[string](b, ctx, card+`.querySelector('.preview-status').textContent`)
		if status != "Processing…" || !eval[bool](b, ctx, card+`.querySelector('img.thumb').src.endsWith('-pending')`) {
			t.Errorf("%s: a card being processed shows %q", width, status)
		}
		b.checkPage(ctx, "preview-processing-"+width)
		if err := s.Svc.Queue.Enqueue(context.Background(), media.ThumbArgs{AccountID: a.AccountID, AssetID: id}); err != nil {
			t.Fatal(err)
		}
		b.waitFor(ctx, "the thumbnail swapped in", thumbLoaded(card))
		if !eval[bool](b, ctx, `window.__sameLoad === true`) {
			t.Errorf("%s: the page reloaded to show the thumbnail", width)
		}
		b.checkPage(ctx, "preview-ready-"+width)

		// A broken video: a plain reason, on the card and the asset page.
		broken := filepath.Join(dir, "broken-"+width+".mp4")
		if err := os.WriteFile(broken, []byte("\x00\x00\x00\x18ftypmp42"+strings.Repeat("\xde\xad", 200)), 0o644); err != nil {
			t.Fatal(err)
		}
		b.do(ctx, "choosing the video", chromedp.SetUploadFiles(chromedp.ID("upload-input"), []string{broken}))
		vcard := fmt.Sprintf(`document.querySelector('#items .card[data-name=%q]')`, filepath.Base(broken))
		b.waitFor(ctx, "the video's failure on its card", fmt.Sprintf(`(() => { const c = %s; return !!c && c.dataset.preview === 'error'; })()`, vcard))
		if got := eval[string](b, ctx, vcard+`.querySelector('.preview-status').textContent`); got != "No preview" {
			t.Errorf("%s: failed card says %q", width, got)
		}
		href := eval[string](b, ctx, vcard+`.querySelector('a.thumb-link').getAttribute('href')`)
		b.open(ctx, s.URL, href)
		note := eval[string](b, ctx, `document.getElementById('preview-note').textContent`)
		want := "No preview: This video could not be read (it may be damaged or in a format the server's tools do not know)."
		if note != want {
			t.Errorf("%s: asset page says %q, want %q", width, note, want)
		}
		if txt := eval[string](b, ctx, `document.body.innerText`); strings.Contains(txt, "/tmp") || strings.Contains(txt, "ffprobe") {
			t.Errorf("%s: the asset page shows the tool's output", width)
		}
		b.checkPage(ctx, "preview-failed-"+width)
	}
}
