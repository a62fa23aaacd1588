// Package storagetest is the conformance suite every storage connector
// must pass: scan, read, put, overwrite, create without replacing (also
// when writers race), move, delete, make folder, root scoping, odd names
// and error classes. Each connector's tests call Run
// with a function that makes a fresh, empty connector per test; backends
// add their own cases through Config.Extra.
package storagetest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Fixture is one fresh connector under test, with an empty root.
type Fixture struct {
	Conn storage.Connector
	// Outside gives direct access to storage next to the root but outside
	// it (a sibling folder, a sibling key prefix). nil skips the checks
	// that a sibling is never listed, read, written or deleted.
	Outside Outside
}

// Outside reads and writes storage outside a connector's root, bypassing
// the connector.
type Outside interface {
	// Put writes a file named name outside the root.
	Put(t *testing.T, name string, content []byte)
	// Get reads it back; ok is false when it is gone.
	Get(t *testing.T, name string) (content []byte, ok bool)
	// Names are the names Put may use. Backends may map them onto several
	// kinds of sibling (for S3: "rootx/secret" next to prefix "root/").
	Names() []string
}

// Case is a backend-specific test run with the suite.
type Case struct {
	Name string
	Run  func(t *testing.T, f Fixture)
}

// Config describes a backend to the suite.
type Config struct {
	// New returns a fresh fixture with an empty root; it registers its own
	// cleanup with t.
	New func(t *testing.T) Fixture
	// Extra cases for behaviour only this backend has (Drive: the same
	// name twice in one folder).
	Extra []Case
	// Sequential runs the cases one after another instead of in parallel
	// (for backends whose fixtures share a scarce resource).
	Sequential bool
	// CreateChecksFirst and MoveChecksFirst mark a backend whose Create or
	// Move looks at the destination and then writes, in two steps another
	// writer can come between (Drive has no conditional create; versitygw
	// ignores If-None-Match on copies). The race cases, which need one
	// step, are skipped; Shelf's library claims the path in its catalog
	// before such a write.
	CreateChecksFirst, MoveChecksFirst bool
}

// Run runs the whole suite against the backend cfg describes.
func Run(t *testing.T, cfg Config) {
	cases := []Case{
		{"EmptyRoot", testEmptyRoot},
		{"PutReadStat", testPutReadStat},
		{"PutCreatesParents", testPutCreatesParents},
		{"PutUnknownSizeNonSeekable", testPutUnknownSize},
		{"PutLargerFile", testPutLargerFile},
		{"PutRefusesWrongSize", testPutWrongSize},
		{"PutOfAFailingBodyStoresNothing", testPutFailingBody},
		{"Overwrite", testOverwrite},
		{"Create", testCreate},
		{"CreateRefusesToReplace", testCreateRefusesToReplace},
		{"ScanTree", testScanTree},
		{"ScanStopsWhenEmitFails", testScanStops},
		{"ScanMatchesStat", testScanMatchesStat},
		{"MoveFile", testMoveFile},
		{"MoveFolderWithContents", testMoveFolder},
		{"MoveRefusals", testMoveRefusals},
		{"DeleteFile", testDeleteFile},
		{"DeleteFolderWithContents", testDeleteFolder},
		{"MakeFolder", testMakeFolder},
		{"NotFound", testNotFound},
		{"InvalidPathsRefused", testInvalidPaths},
		{"NothingOutsideRootVisible", testOutsideInvisible},
		{"OddNames", testOddNames},
		{"OddNamesSortedScan", testOddNamesSorted},
	}
	if !cfg.CreateChecksFirst {
		cases = append(cases, Case{"CreateRace", testCreateRace})
	}
	if !cfg.MoveChecksFirst {
		cases = append(cases, Case{"MoveRace", testMoveRace})
	}
	cases = append(cases, cfg.Extra...)
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			if !cfg.Sequential {
				t.Parallel()
			}
			c.Run(t, cfg.New(t))
		})
	}
}

// Helpers shared by the cases.

func ctxFor(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func put(t *testing.T, c storage.Connector, p, content string) storage.Entry {
	t.Helper()
	e, err := c.Put(ctxFor(t), p, strings.NewReader(content), int64(len(content)), "")
	if err != nil {
		t.Fatalf("Put(%q): %v", p, err)
	}
	return e
}

func mkdir(t *testing.T, c storage.Connector, p string) storage.Entry {
	t.Helper()
	e, err := c.MkDir(ctxFor(t), p)
	if err != nil {
		t.Fatalf("MkDir(%q): %v", p, err)
	}
	return e
}

func read(t *testing.T, c storage.Connector, p string) string {
	t.Helper()
	rc, err := c.Open(ctxFor(t), p)
	if err != nil {
		t.Fatalf("Open(%q): %v", p, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("reading %q: %v", p, err)
	}
	return string(b)
}

func readBytes(t *testing.T, c storage.Connector, p string) []byte {
	t.Helper()
	return []byte(read(t, c, p))
}

// scan collects a full Scan and checks the invariants every scan keeps:
// no entry twice, every parent before its children, valid paths.
func scan(t *testing.T, c storage.Connector) []storage.Entry {
	t.Helper()
	var got []storage.Entry
	if err := c.Scan(ctxFor(t), func(e storage.Entry) error {
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatalf("Scan: %v", err)
	}
	checkTree(t, "Scan", got)
	return got
}

// scanSorted collects ScanSorted and checks its order; ok is false when
// the connector has no sorted scan.
func scanSorted(t *testing.T, c storage.Connector) ([]storage.Entry, bool) {
	t.Helper()
	ss, ok := c.(storage.SortedScanner)
	if !ok {
		return nil, false
	}
	var got []storage.Entry
	if err := ss.ScanSorted(ctxFor(t), func(e storage.Entry) error {
		got = append(got, e)
		return nil
	}); err != nil {
		t.Fatalf("ScanSorted: %v", err)
	}
	checkTree(t, "ScanSorted", got)
	for i := 1; i < len(got); i++ {
		a, b := storage.SortKey(got[i-1].Path, got[i-1].IsDir), storage.SortKey(got[i].Path, got[i].IsDir)
		if a >= b {
			t.Fatalf("ScanSorted out of order: %q then %q", a, b)
		}
	}
	return got, true
}

func checkTree(t *testing.T, what string, entries []storage.Entry) {
	t.Helper()
	seenIDs := map[string]bool{}
	seenPaths := map[string]bool{}
	for _, e := range entries {
		if _, err := storage.CleanPath(e.Path, false); err != nil {
			t.Fatalf("%s reported an invalid path %q: %v", what, e.Path, err)
		}
		if e.Name != storage.Base(e.Path) {
			t.Fatalf("%s: entry %q has Name %q, want the last path element", what, e.Path, e.Name)
		}
		if e.ID == "" || seenIDs[e.ID] {
			t.Fatalf("%s: entry %q has an empty or repeated ID %q", what, e.Path, e.ID)
		}
		key := storage.SortKey(e.Path, e.IsDir)
		if seenPaths[key] {
			t.Fatalf("%s reported %q twice", what, key)
		}
		if e.ParentID != "" && !seenIDs[e.ParentID] {
			t.Fatalf("%s reported %q before its parent (ParentID %q)", what, e.Path, e.ParentID)
		}
		if dir := storage.Dir(e.Path); dir != "" && !seenPaths[dir+"/"] {
			t.Fatalf("%s reported %q before its folder %q", what, e.Path, dir)
		}
		seenIDs[e.ID] = true
		seenPaths[key] = true
	}
}

// keys returns the sort keys of entries, sorted.
func keys(entries []storage.Entry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, storage.SortKey(e.Path, e.IsDir))
	}
	slices.Sort(out)
	return out
}

func wantKeys(t *testing.T, what string, entries []storage.Entry, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := keys(entries); !slices.Equal(got, want) {
		t.Fatalf("%s lists\n  %q\nwant\n  %q", what, got, want)
	}
}

func wantClass(t *testing.T, what string, err, class error) {
	t.Helper()
	if !errors.Is(err, class) {
		t.Fatalf("%s: error = %v, want one classified %v", what, err, class)
	}
}

func sameContent(a, b []byte) bool { return bytes.Equal(a, b) }
