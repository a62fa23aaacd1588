package gdrive_test

import (
	"fmt"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

// TestScanCallCountAtScale checks the cost model of a scan: about one
// files.list call per 50 folders plus one per 1000 items. The timed figure
// is bench/drive's.
func TestScanCallCountAtScale(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10k-folder tree")
	}
	t.Parallel()
	b := setup(t, drivefake.Options{})
	const top, perTop, filesPerFolder = 100, 99, 2
	folders, files := 0, 0
	for i := range top {
		d := b.fake.CreateFolder(b.rootID, fmt.Sprintf("top%03d", i))
		folders++
		for j := range perTop {
			s := b.fake.CreateFolder(d, fmt.Sprintf("sub%02d", j))
			folders++
			for k := range filesPerFolder {
				b.fake.CreateFile(s, fmt.Sprintf("f%d.jpg", k), "image/jpeg", nil)
				files++
			}
		}
	}
	b.fake.ResetCalls()
	got := scanAll(t, b.conn)
	if len(got) != folders+files {
		t.Fatalf("scan found %d entries, want %d", len(got), folders+files)
	}
	calls := b.fake.Calls("files.list")
	const levels = 3 // root, top folders, subfolders
	limit := (folders+1)/50 + (folders+files)/1000 + 2*levels
	t.Logf("scan of %d folders and %d files: %d files.list calls (folders/50 + items/1000 = %d)",
		folders, files, calls, (folders+1)/50+(folders+files)/1000)
	if calls > limit {
		t.Errorf("scan took %d files.list calls, want at most %d", calls, limit)
	}
	if other := b.fake.TotalCalls() - calls; other > 1 {
		t.Errorf("scan made %d calls besides files.list, want at most 1 (resolving the root)", other)
	}
}
