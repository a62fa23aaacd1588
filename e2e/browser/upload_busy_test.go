package browser

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelf-dam/shelf/internal/config"
)

// TestManyDroppedFilesAllUpload: a dozen files chosen at once all upload
// although the server serves one transfer per account at a time: the page
// sends a few at a time and sends again after the Retry-After of a 429
// (before, every file past the server's share failed with "too many
// requests").
func TestManyDroppedFilesAllUpload(t *testing.T) {
	s := startShelfWith(t, func(c *config.Config) {
		c.TransferConcurrency, c.TransferConcurrencyPerAccount = 2, 1
		c.AdmissionQueue, c.AdmissionWait = 1, 200*time.Millisecond
	})
	b := newBrowser(t)
	ctx := b.newTab()
	b.signUp(ctx, s.URL, "busy@studio.example")
	b.connectLocal(ctx, s.URL, s.Root)
	waitIdle(b, ctx)
	b.open(ctx, s.URL, "/library")

	const n = 12
	var files []string
	for i := range n {
		p := filepath.Join(t.TempDir(), fmt.Sprintf("busy-%02d.txt", i))
		if err := os.WriteFile(p, []byte(fmt.Sprintf("file %d\n", i)), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, p)
	}
	b.do(ctx, "choosing the files", chromedp.SetUploadFiles(chromedp.ID("upload-input"), files))
	b.waitFor(ctx, "every upload to end", fmt.Sprintf(`document.querySelectorAll('#uploads li').length === %d &&
		[...document.querySelectorAll('#uploads li')].every(li => li.classList.contains('failed') || li.lastElementChild.textContent === 'done')`, n))
	if failed := eval[string](b, ctx, `[...document.querySelectorAll('#uploads li.failed')].map(li => li.textContent).join(' | ')`); failed != "" {
		t.Fatalf("uploads failed: %s", failed)
	}
	for i := range n {
		if _, err := os.Stat(filepath.Join(s.Root, fmt.Sprintf("busy-%02d.txt", i))); err != nil {
			t.Errorf("busy-%02d.txt is not in the storage: %v", i, err)
		}
	}
}
