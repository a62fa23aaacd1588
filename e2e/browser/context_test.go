package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestSearchContextAndErrorsInPlace: at desktop and phone width, a search
// says how many files match what and where, and each same-named result
// shows its folder with a link there; the folder and rename dialogs keep
// their errors at the field in plain words (a name of only spaces, a name
// too long, a name taken), renaming selects the name without its
// extension and warns before changing it; a title too long is refused at
// the title field; an unknown address gets the styled 404 page.
func TestSearchContextAndErrorsInPlace(t *testing.T) {
	s := startShelf(t)
	twins := []string{"file-0500.txt", "Brand/Logos/file-0500.txt", "Photography/Studio/file-0500.txt"}
	for _, p := range twins {
		if err := os.WriteFile(filepath.Join(s.Root, p), []byte("same name, other folder\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t)
	ctx := b.ctx
	b.signUp(ctx, s.URL, "context@example.com")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)

	for i, width := range []string{"desktop", "phone"} {
		if width == "desktop" {
			b.desktop(ctx)
		} else {
			b.phone(ctx)
		}

		// Search: the count, the query and where each result lives.
		b.open(ctx, s.URL, "/library?q=file-0500")
		if got := eval[string](b, ctx, textOf("#search-summary")); got != "3 files match “file-0500” everywhere" {
			t.Errorf("%s: search summary %q", width, got)
		}
		folders := eval[[]string](b, ctx, `[...document.querySelectorAll('#items .card .asset-folder')].map(a => a.textContent.replace('In folder ', '').trim()).sort()`)
		if strings.Join(folders, "|") != "Brand/Logos|Photography/Studio|Top level" {
			t.Errorf("%s: result folders %q", width, folders)
		}
		b.checkPage(ctx, "search-"+width)
		b.do(ctx, "opening a result's folder", chromedp.Click(chromedp.CSS(`#items .card .asset-folder[title$="Brand/Logos"]`)))
		b.waitFor(ctx, "the result's folder", `document.getElementById('folder-title') && document.getElementById('folder-title').textContent.trim() === 'Logos'`)

		// New folder: errors stay in the dialog, at the field.
		b.open(ctx, s.URL, "/library")
		b.folderAction(ctx, "new-folder")
		answerDialog(b, ctx, "   ")
		b.waitFor(ctx, "the only-spaces message", `document.querySelector('dialog[open] #ask-error:not([hidden])') && document.getElementById('ask-error').textContent.includes('only spaces')`)
		long := strings.Repeat("n", 305)
		answerDialog(b, ctx, long)
		b.waitFor(ctx, "the too-long message", `document.querySelector('dialog[open] #ask-error:not([hidden])') && document.getElementById('ask-error').textContent.includes('305 bytes long')`)
		answerDialog(b, ctx, "Brand")
		b.waitFor(ctx, "the server's refusal at the field", `document.querySelector('dialog[open]') && document.getElementById('ask-error').textContent.includes('Brand')`)
		if !eval[bool](b, ctx, `document.getElementById('ask-input').getAttribute('aria-invalid') === 'true' && !document.querySelector('#toasts .toast.error')`) {
			t.Errorf("%s: the refusal is not marked on the field, or went to a toast", width)
		}
		b.checkPage(ctx, "folder-error-"+width)
		name := fmt.Sprintf("Fresh %d", i)
		answerDialog(b, ctx, name)
		b.waitFor(ctx, "the new folder", fmt.Sprintf(`!document.querySelector('dialog[open]') && [...document.querySelectorAll('.subfolders a')].some(a => a.textContent.trim() === %q)`, name))
		if eval[bool](b, ctx, fmt.Sprintf(`document.getElementById('toasts').textContent.includes(%q)`, long)) {
			t.Errorf("%s: a toast echoes the 305-character name", width)
		}

		// Rename a file: the name is selected without its extension, and
		// changing the extension asks again first.
		code, res := apiJSON(b, ctx, "GET", "/assets?q=file-0500", nil)
		var assetID int64
		for _, a := range res["assets"].([]any) {
			if m := a.(map[string]any); m["path"] == twins[i+1] {
				assetID = int64(m["id"].(float64))
			}
		}
		if code != 200 || assetID == 0 {
			t.Fatalf("%s: finding %s: %d %v", width, twins[i+1], code, res)
		}
		b.open(ctx, s.URL, fmt.Sprintf("/assets/%d", assetID))
		b.do(ctx, "rename", chromedp.Click(chromedp.ID("rename-asset")))
		b.waitFor(ctx, "the rename dialog", "document.querySelector('dialog[open] #ask-input')")
		if sel := eval[string](b, ctx, `(() => { const i = document.getElementById('ask-input'); return i.value.slice(i.selectionStart, i.selectionEnd); })()`); sel != "file-0500" {
			t.Errorf("%s: rename selects %q, want the name without its extension", width, sel)
		}
		answerDialog(b, ctx, "file-0500-notes.md")
		b.waitFor(ctx, "the extension warning", `document.querySelector('dialog[open] #ask-warning:not([hidden])') && document.getElementById('ask-warning').textContent.includes('“.txt” to “.md”')`)
		b.checkPage(ctx, "rename-warning-"+width)
		if _, err := os.Stat(filepath.Join(s.Root, filepath.Dir(twins[i+1]), "file-0500-notes.md")); err == nil {
			t.Fatalf("%s: the file was renamed before the warning was answered", width)
		}
		b.do(ctx, "rename anyway", chromedp.Click(chromedp.CSS("dialog[open] button.primary")))
		b.waitFor(ctx, "the renamed file", `document.querySelector('#rename-asset') && document.getElementById('rename-asset').dataset.name === 'file-0500-notes.md'`)
		if _, err := os.Stat(filepath.Join(s.Root, filepath.Dir(twins[i+1]), "file-0500-notes.md")); err != nil {
			t.Errorf("%s: the renamed file is not in storage: %v", width, err)
		}

		// A title too long is refused at the title field.
		b.do(ctx, "a long title",
			chromedp.SetValue(chromedp.ID("m-title"), strings.Repeat("t", 600)),
			chromedp.Click(chromedp.CSS("#meta-form button[type=submit]")),
		)
		b.waitFor(ctx, "the title's error at its field", `!document.getElementById('title-error').hidden && document.getElementById('title-error').textContent.includes('title') && document.getElementById('m-title').getAttribute('aria-invalid') === 'true'`)
		if !eval[bool](b, ctx, `(() => { const r = document.getElementById('title-error').getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; })()`) {
			t.Errorf("%s: the title's error is not on screen", width)
		}
		b.checkPage(ctx, "title-error-"+width)

		// An unknown address: the styled 404 page.
		b.open(ctx, s.URL, "/no/such/page")
		if got := eval[string](b, ctx, textOf("h1")); got != "Page not found" {
			t.Errorf("%s: unknown address shows %q", width, got)
		}
		if !eval[bool](b, ctx, `!!document.querySelector('nav, header') && !!document.querySelector('a[href="/library"]')`) {
			t.Errorf("%s: the 404 page lacks the app's layout or the way back", width)
		}
		b.checkPage(ctx, "not-found-"+width)
	}
}
