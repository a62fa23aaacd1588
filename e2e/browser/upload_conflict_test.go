package browser

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelf-dam/shelf/internal/testenv"
)

// widths sets the tab to desktop, then phone width, as a loop runs over
// the names it yields.
func (b *browser) widths(ctx context.Context) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		b.desktop(ctx)
		if !yield("desktop") {
			return
		}
		b.phone(ctx)
		yield("phone")
	}
}

// uploadAndWait chooses files in the library's upload control and waits
// for the upload's summary; it returns the summary's text. answer, when
// set, runs while the upload waits (to answer the conflict dialog).
func uploadAndWait(b *browser, ctx context.Context, files []string, answer func()) string {
	b.t.Helper()
	eval[bool](b, ctx, `(() => { const s = document.getElementById('upload-summary'); if (s) s.remove(); return true; })()`)
	b.do(ctx, "choosing the files", chromedp.SetUploadFiles(chromedp.ID("upload-input"), files))
	if answer != nil {
		answer()
	}
	b.waitFor(ctx, "the upload summary", `document.getElementById('upload-summary')`)
	return eval[string](b, ctx, `document.getElementById('upload-summary').innerText`)
}

// answerConflict waits for the conflict dialog, checks that it asks about
// one of names (uploads run side by side: any may ask first), optionally
// ticks "for every other name", saves a screenshot when shot is set and
// presses the button of mode.
func answerConflict(b *browser, ctx context.Context, names []string, mode string, all bool, shot string) {
	b.t.Helper()
	b.waitFor(ctx, "the conflict dialog", `(() => { const d = document.getElementById('conflict-dialog'); return !!d && d.open; })()`)
	title := eval[string](b, ctx, `document.getElementById('conflict-dialog').querySelector('h2').textContent`)
	if !slices.ContainsFunc(names, func(n string) bool { return title == "“"+n+"” already exists" }) {
		b.t.Errorf("the conflict dialog asks %q; want one of %q", title, names)
	}
	if all {
		b.do(ctx, "ticking for all", chromedp.Click(chromedp.ID("conflict-all")))
	}
	if shot != "" {
		b.checkPage(ctx, shot)
	}
	b.do(ctx, "answering "+mode, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#conflict-dialog button[value=%q]`, mode))))
}

// TestUploadConflictDialog: at desktop and phone width, uploading names
// that already exist asks replace / keep both / skip; "keep both" for all
// stores every conflicting file under "name (2).ext" after one question,
// "replace" keeps the asset (id, title) with the new content, "skip"
// stores nothing, and the summary counts each outcome and the failures
// with their reasons (before, a second upload of a name failed with
// "already exists" and the summary counted only successes).
func TestUploadConflictDialog(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "conflicts@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stored := func(name string) string {
		data, err := os.ReadFile(filepath.Join(s.Root, name))
		if err != nil {
			return "(missing)"
		}
		return string(data)
	}

	for width := range b.widths(ctx) {
		b.open(ctx, s.URL, "/library")
		report, notes, fresh := "report-"+width+".txt", "notes-"+width+".txt", "fresh-"+width+".txt"

		if got := uploadAndWait(b, ctx, []string{write(report, "v1"), write(notes, "n1")}, nil); got != "Uploaded 2 files." {
			t.Fatalf("%s: first upload summary %q", width, got)
		}
		code, list := apiJSON(b, ctx, "GET", "/assets?q="+report, nil)
		assets, _ := list["assets"].([]any)
		if code != http.StatusOK || len(assets) != 1 {
			t.Fatalf("%s: finding %s: %d %v", width, report, code, list)
		}
		id := int64(assets[0].(map[string]any)["id"].(float64))
		if code, _ := apiJSON(b, ctx, "PATCH", fmt.Sprintf("/assets/%d", id), map[string]any{"title": "Quarterly"}); code != http.StatusOK {
			t.Fatalf("%s: setting the title: %d", width, code)
		}
		b.open(ctx, s.URL, "/library")

		// Keep both, for all: one question for two conflicts.
		got := uploadAndWait(b, ctx, []string{write(report, "v2"), write(notes, "n2"), write(fresh, "f1")}, func() {
			answerConflict(b, ctx, []string{report, notes}, "keep_both", true, "upload-conflict-dialog-"+width)
		})
		if got != "Uploaded 3 files (2 under a new name)." {
			t.Errorf("%s: keep-both summary %q", width, got)
		}
		for name, want := range map[string]string{report: "v1", notes: "n1", "report-" + width + " (2).txt": "v2", "notes-" + width + " (2).txt": "n2", fresh: "f1"} {
			if c := stored(name); c != want {
				t.Errorf("%s: %s holds %q, want %q", width, name, c, want)
			}
		}
		if n := eval[int](b, ctx, `document.querySelectorAll('#conflict-dialog').length`); n != 0 {
			t.Errorf("%s: a conflict dialog is still open", width)
		}

		// A name that carries a number: the dialog names the number the
		// server continues with, not "(2) (2)".
		second := "report-" + width + " (2).txt"
		got = uploadAndWait(b, ctx, []string{write(second, "v2b")}, func() {
			b.waitFor(ctx, "the conflict dialog", `(() => { const d = document.getElementById('conflict-dialog'); return !!d && d.open; })()`)
			text := eval[string](b, ctx, `document.getElementById('conflict-text').textContent`)
			if want := "“report-" + width + " (3).txt”"; !strings.Contains(text, want) {
				t.Errorf("%s: the dialog for %s says %q; want it to name %s", width, second, text, want)
			}
			answerConflict(b, ctx, []string{second}, "skip", false, "")
		})
		if got != "Skipped 1 file." {
			t.Errorf("%s: skip summary %q", width, got)
		}

		// Replace: the same asset, its title kept, the new content.
		got = uploadAndWait(b, ctx, []string{write(report, "v3")}, func() {
			answerConflict(b, ctx, []string{report}, "replace", false, "")
		})
		if got != "Replaced 1 file." {
			t.Errorf("%s: replace summary %q", width, got)
		}
		if c := stored(report); c != "v3" {
			t.Errorf("%s: after replace %s holds %q", width, report, c)
		}
		code, one := apiJSON(b, ctx, "GET", fmt.Sprintf("/assets/%d", id), nil)
		if a, _ := one["asset"].(map[string]any); code != http.StatusOK || a["title"] != "Quarterly" || a["name"] != report {
			t.Errorf("%s: after replace asset %d is %d %v; want the same asset with its title", width, id, code, one)
		}

		// Skip for all, and a file the server refuses: the summary counts
		// the failure and says why.
		odd := write(" lead-space-"+width+".txt", "x")
		got = uploadAndWait(b, ctx, []string{write(report, "v4"), write(notes, "n4"), odd}, func() {
			answerConflict(b, ctx, []string{report, notes}, "skip", true, "")
		})
		if !strings.HasPrefix(got, "Skipped 2 files, 1 file failed.") || !strings.Contains(got, "lead-space-"+width+".txt: ") || !strings.Contains(got, "space") {
			t.Errorf("%s: skip summary %q; want 2 skipped and the failure with its reason", width, got)
		}
		if stored(report) != "v3" || stored(notes) != "n1" {
			t.Errorf("%s: skipped files were written", width)
		}
		b.checkPage(ctx, "upload-summary-"+width)
	}
}

// screenColours takes screenshots of the element sel for up to three
// seconds and returns the colours seen at its centre ("blue,red" once both
// were seen). A canvas cannot tell: it always draws an animation's first
// frame.
func screenColours(b *browser, ctx context.Context, sel string) string {
	b.t.Helper()
	seen := map[string]bool{}
	for range 50 {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		shot, err := chromedp.Run(tctx, chromedp.Screenshot(chromedp.CSS(sel)))
		cancel()
		if err != nil {
			b.t.Fatalf("screenshot of %s: %v", sel, err)
		}
		img, err := png.Decode(bytes.NewReader(shot))
		if err != nil {
			b.t.Fatalf("decoding the screenshot: %v", err)
		}
		bd := img.Bounds()
		r, _, bl, _ := img.At(bd.Min.X+bd.Dx()/2, bd.Min.Y+bd.Dy()/2).RGBA()
		switch {
		case r > 0x9000 && bl < 0x5000:
			seen["red"] = true
		case bl > 0x9000 && r < 0x5000:
			seen["blue"] = true
		default:
			seen["other"] = true
		}
		if seen["red"] && seen["blue"] {
			break
		}
		time.Sleep(60 * time.Millisecond)
	}
	return strings.Join(slices.Sorted(maps.Keys(seen)), ",")
}

// TestAnimatedImagesPlayOnTheAssetPage: at desktop and phone width, an
// animated GIF's asset page plays the animation (its frames change on
// screen) while its grid thumbnail is the first frame; an SVG's asset page
// shows the raster preview the server rendered, never the drawing itself
// (before, the asset page showed a still JPEG of the first frame and an
// SVG got a type icon).
func TestAnimatedImagesPlayOnTheAssetPage(t *testing.T) {
	s := startShelf(t)
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "motion@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)

	spin := testenv.TwoFrameGIF(120, 80, 25)
	dir := t.TempDir()
	_, rsvgErr := exec.LookPath("rsvg-convert")
	for width := range b.widths(ctx) {
		b.open(ctx, s.URL, "/library")
		name := "spinner-" + width + ".gif"
		svgName := "logo-" + width + ".svg"
		files := []string{filepath.Join(dir, name)}
		if err := os.WriteFile(files[0], spin, 0o644); err != nil {
			t.Fatal(err)
		}
		if rsvgErr == nil {
			svg := `<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="200" height="100" fill="#0a0"/><script>window.__svgRan = true</script></svg>`
			files = append(files, filepath.Join(dir, svgName))
			if err := os.WriteFile(files[1], []byte(svg), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		b.do(ctx, "choosing the files", chromedp.SetUploadFiles(chromedp.ID("upload-input"), files))
		card := fmt.Sprintf(`document.querySelector('#items .card[data-name=%q]')`, name)
		b.waitFor(ctx, "the GIF's thumbnail", fmt.Sprintf(`(() => { const c = %s; const i = c && c.querySelector('img.thumb');
			return !!i && c.dataset.preview === 'ready' && i.complete && i.naturalWidth > 0; })()`, card))
		// The thumbnail is the first (red) frame.
		thumbColour := eval[string](b, ctx, fmt.Sprintf(`(() => { const i = %s.querySelector('img.thumb'); const c = document.createElement('canvas');
			c.width = i.naturalWidth; c.height = i.naturalHeight; const g = c.getContext('2d'); g.drawImage(i, 0, 0);
			const d = g.getImageData(c.width / 2, c.height / 2, 1, 1).data; return d[0] > 150 && d[2] < 80 ? 'red' : 'other'; })()`, card))
		if thumbColour != "red" {
			t.Errorf("%s: the thumbnail is not the first frame", width)
		}
		href := eval[string](b, ctx, card+`.querySelector('a.thumb-link').getAttribute('href')`)
		b.open(ctx, s.URL, href)
		b.waitFor(ctx, "the animation on the asset page", `(() => { const i = document.querySelector('figure.preview img'); return !!i && i.complete && i.naturalWidth === 120; })()`)
		// Screenshots of the image on screen show both frames.
		seen := screenColours(b, ctx, "figure.preview img")
		if !strings.Contains(seen, "blue") || !strings.Contains(seen, "red") {
			t.Errorf("%s: the asset page shows a still image (colours seen: %s)", width, seen)
		}
		b.checkPage(ctx, "animated-gif-asset-"+width)

		if rsvgErr != nil {
			t.Logf("rsvg-convert is not installed (scripts/test-all installs librsvg2-bin): the SVG part is skipped")
			continue
		}
		b.open(ctx, s.URL, "/library")
		svgCard := fmt.Sprintf(`document.querySelector('#items .card[data-name=%q]')`, svgName)
		b.waitFor(ctx, "the SVG's thumbnail", fmt.Sprintf(`(() => { const c = %s; return !!c && c.dataset.preview === 'ready'; })()`, svgCard))
		b.open(ctx, s.URL, eval[string](b, ctx, svgCard+`.querySelector('a.thumb-link').getAttribute('href')`))
		b.waitFor(ctx, "the SVG's rendered preview", `(() => { const i = document.querySelector('figure.preview img'); return !!i && i.complete && i.naturalWidth === 1600 && i.src.includes('/thumb?size=preview'); })()`)
		if eval[bool](b, ctx, `window.__svgRan === true || !!document.querySelector('figure.preview svg, figure.preview object, figure.preview iframe')`) {
			t.Errorf("%s: the SVG was put into the page", width)
		}
		b.checkPage(ctx, "svg-asset-"+width)
	}
}
