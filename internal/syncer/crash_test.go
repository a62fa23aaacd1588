package syncer_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/syncer"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// Environment of the crash test's child process.
const (
	crashEnvDB      = "SHELF_SYNCER_CRASH_DB"
	crashEnvDir     = "SHELF_SYNCER_CRASH_DIR"
	crashEnvAccount = "SHELF_SYNCER_CRASH_ACCOUNT"
)

// TestCrashChild is the sync process the crash test starts and kills; it
// does nothing in a normal test run.
func TestCrashChild(t *testing.T) {
	dbPath := os.Getenv(crashEnvDB)
	if dbPath == "" {
		t.Skip("only runs as the child process of TestCrashConvergence")
	}
	account, _ := strconv.ParseInt(os.Getenv(crashEnvAccount), 10, 64)
	ctx := context.Background()
	store, err := catalog.Open(ctx, dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv(crashEnvDir)
	conn, err := localfs.New(dir, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	eng, err := syncer.New(syncer.Config{Store: store, BatchSize: 10, BulkAfter: crashBulkAfter})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Println(crashStartMarker)
	if _, err := eng.Run(ctx, syncer.Job{AccountID: account, Conn: conn}); err != nil {
		t.Fatal(err)
	}
	fmt.Println(crashDoneMarker)
}

// The child prints these around its sync; the parent times kills from the
// first.
const (
	crashStartMarker = "CHILD-SYNC-START"
	crashDoneMarker  = "CHILD-SYNC-DONE"
)

// crashBulkAfter makes the crash test's syncs defer search indexing early,
// so kills land in that path too.
const crashBulkAfter = 50

// TestCrashConvergence kills a sync process at random points (at least 20
// kills that land while it runs), changing the storage between runs, and
// after each kill checks that one clean sync makes the catalog mirror the
// storage exactly with every asset's metadata still on it, and that the
// search index, once caught up, is exact. On SQLite and PostgreSQL.
func TestCrashConvergence(t *testing.T) {
	if testing.Short() {
		t.Skip("the crash test starts and kills child processes; skipped with -short")
	}
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			crashConvergence(t, db)
		})
	}
}

func crashConvergence(t *testing.T, db string) {
	e := newEnv(t, db, "local", syncer.Config{BatchSize: 10, BulkAfter: crashBulkAfter})
	dbPath := filepath.Join(t.TempDir(), "crash.db")
	if db == "postgres" {
		dbPath = testenv.PostgresURL(t)
	}
	// The child processes need a catalog of their own making: reopen the
	// env on a known path.
	e.store.Close()
	store := openStoreAt(t, dbPath)
	acct, err := store.CreateAccount(e.ctx, catalog.NewAccount{Name: "Crash"}, e.clock.now)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.PutConnection(e.ctx, catalog.Connection{AccountID: acct.ID, Kind: "local", RootKey: e.st.dir}, e.clock.now); err != nil {
		t.Fatal(err)
	}
	e.store, e.account = store, acct.ID
	e.engine, err = syncer.New(syncer.Config{Store: store, BatchSize: 10, BulkAfter: crashBulkAfter, MassDeleteShare: -1})
	if err != nil {
		t.Fatal(err)
	}

	rng := rand.New(rand.NewPCG(7, 11))
	w := &crashWorld{t: t, dir: e.st.dir, rng: rng, tags: map[string]string{}}
	w.seed(8, 3, 25)
	e.mustSync()
	e.checkMirror()
	// Tag every tenth file.
	for i, p := range w.files() {
		if i%10 == 0 {
			tag := fmt.Sprintf("t%03d", i)
			e.setMeta(p, []string{tag}, "metadata of "+tag)
			w.tags[p] = tag
		}
	}

	// One uninterrupted child run measures how long a run takes.
	w.mutate()
	_, span := runChild(t, dbPath, w.dir, acct.ID, 0)
	t.Logf("an uninterrupted child sync takes %v", span)
	// The first run pays for cold caches: on a busy machine it can take
	// several times as long as the later ones, and a kill window that long
	// mostly lands after the child is done. Every run that finishes before
	// its kill narrows the window a little, never below what it took.
	e.mustSync()
	w.check(e)

	kills := 0
	for round := 0; kills < 20; round++ {
		if round >= 120 {
			t.Fatalf("only %d of %d runs were killed while working", kills, round)
		}
		w.mutate()
		delay := time.Duration(rng.Int64N(int64(span)))
		killed, took := runChild(t, dbPath, w.dir, acct.ID, delay)
		if killed {
			kills++
		} else if took < span {
			span = max(took, span*3/4)
		}
		res := e.mustSync()
		w.check(e)
		checkSearch(t, e)
		t.Logf("round %d: killed after %v; clean run: %+v", round, delay, res.Counts)
	}
}

// checkSearch catches the search index up and checks it is exact: every
// live asset is found by its name.
func checkSearch(t *testing.T, e *env) {
	t.Helper()
	for {
		done, err := e.store.FillSearchBacklog(e.ctx, e.account, 100)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
	}
	all, _, err := e.store.ListAssets(e.ctx, catalog.AssetQuery{AccountID: e.account, Recursive: true, Limit: catalog.MaxAssetPage})
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range all {
		if i%7 != 0 {
			continue // a sample keeps the test quick
		}
		found, _, err := e.store.ListAssets(e.ctx, catalog.AssetQuery{AccountID: e.account, Recursive: true, Q: a.Name, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.ContainsFunc(found, func(f catalog.Asset) bool { return f.ID == a.ID }) {
			t.Fatalf("search for %q does not find the asset after the catch-up", a.Name)
		}
	}
}

// openStoreAt opens a migrated catalog at a path (SQLite) or URL.
func openStoreAt(t *testing.T, path string) *catalog.Store {
	t.Helper()
	s, err := catalog.Open(context.Background(), path, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

// runChild starts a child sync and kills it delay after the child says
// its sync has started (0: lets it finish), so process start-up and opening
// the catalog never use up the kill window. It reports whether the kill
// landed before the sync completed and, for a sync that completed, how long
// the sync itself took.
func runChild(t *testing.T, db, dir string, account int64, delay time.Duration) (killed bool, took time.Duration) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvDB+"="+db, crashEnvDir+"="+dir, crashEnvAccount+"="+strconv.FormatInt(account, 10))
	out := &markerWriter{started: make(chan time.Time, 1)}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	fail := func(err error) {
		t.Fatalf("child sync failed: %v\n%s", err, out.String())
	}
	var syncStart time.Time
	select {
	case syncStart = <-out.started:
	case err := <-done:
		fail(fmt.Errorf("exited before its sync started: %v", err))
	}
	if delay == 0 {
		if err := <-done; err != nil {
			fail(err)
		}
		return false, out.doneAt().Sub(syncStart)
	}
	select {
	case err := <-done:
		if err != nil {
			fail(err)
		}
		return false, out.doneAt().Sub(syncStart)
	case <-time.After(delay):
		_ = cmd.Process.Kill()
		<-done
		if at := out.doneAt(); !at.IsZero() {
			return false, at.Sub(syncStart) // it finished just before the kill
		}
		return true, 0
	}
}

// markerWriter collects a child's output and notes when it printed the
// start and done markers.
type markerWriter struct {
	mu       sync.Mutex
	buf      bytes.Buffer
	started  chan time.Time
	sawStart bool
	done     time.Time
}

func (w *markerWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := time.Now()
	w.buf.Write(p)
	if !w.sawStart && strings.Contains(w.buf.String(), crashStartMarker) {
		w.sawStart = true
		w.started <- now
	}
	if w.done.IsZero() && strings.Contains(w.buf.String(), crashDoneMarker) {
		w.done = now
	}
	return len(p), nil
}

func (w *markerWriter) doneAt() time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.done
}

func (w *markerWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// crashWorld is the local folder the crash test changes, with the path of
// every tagged file tracked through its moves.
type crashWorld struct {
	t     *testing.T
	dir   string
	rng   *rand.Rand
	tags  map[string]string // path -> tag
	n     int
	stamp time.Time
	// touched are the paths moved this round: a file both moved and
	// edited in one sync cannot be recognised as moved (S3 and local
	// match moves by content), so edits leave them alone.
	touched []string
}

func (w *crashWorld) isTouched(p string) bool {
	for _, t := range w.touched {
		if p == t || strings.HasPrefix(p, t+"/") {
			return true
		}
	}
	return false
}

func (w *crashWorld) write(p, body string) {
	full := filepath.Join(w.dir, filepath.FromSlash(p))
	if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
		w.t.Fatal(err)
	}
	// A time of its own per write: size and time tell files apart.
	w.stamp = w.stamp.Add(time.Second)
	if err := os.Chtimes(full, w.stamp, w.stamp); err != nil {
		w.t.Fatal(err)
	}
}

func (w *crashWorld) seed(top, sub, per int) {
	w.stamp = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range top {
		for j := range sub {
			for k := range per {
				w.n++
				w.write(fmt.Sprintf("top%d/sub%d/file%03d.jpg", i, j, k), fmt.Sprintf("file %d", w.n))
			}
		}
	}
}

// files lists the files under the root, sorted.
func (w *crashWorld) files() []string {
	var out []string
	err := filepath.WalkDir(w.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() {
			rel, _ := filepath.Rel(w.dir, p)
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

func (w *crashWorld) topFolders() []string {
	des, err := os.ReadDir(w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, d := range des {
		if d.IsDir() {
			out = append(out, d.Name())
		}
	}
	return out
}

func (w *crashWorld) rename(from, to string) {
	if err := os.MkdirAll(filepath.Dir(filepath.Join(w.dir, to)), 0o755); err != nil {
		w.t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(w.dir, from), filepath.Join(w.dir, to)); err != nil {
		w.t.Fatal(err)
	}
	w.touched = append(w.touched, to)
	moved := map[string]string{}
	for p, tag := range w.tags {
		switch {
		case p == from:
			moved[to] = tag
		case strings.HasPrefix(p, from+"/"):
			moved[to+strings.TrimPrefix(p, from)] = tag
		default:
			moved[p] = tag
		}
	}
	w.tags = moved
}

// mutate changes the storage the way people do between syncs: a folder
// renamed, files moved, edited, deleted and added.
func (w *crashWorld) mutate() {
	w.n++
	w.touched = nil
	tops := w.topFolders()
	w.rename(tops[w.rng.IntN(len(tops))], fmt.Sprintf("renamed%d", w.n))
	files := w.files()
	for range 3 {
		f := files[w.rng.IntN(len(files))]
		if _, err := os.Stat(filepath.Join(w.dir, f)); err != nil {
			continue
		}
		w.rename(f, fmt.Sprintf("moved%d/%s", w.rng.IntN(3), strings.ReplaceAll(f, "/", "-")))
	}
	files = w.files()
	for range 2 {
		f := files[w.rng.IntN(len(files))]
		if !w.isTouched(f) {
			w.write(f, fmt.Sprintf("edited in round %d: %s", w.n, f))
		}
	}
	for range 2 {
		f := files[w.rng.IntN(len(files))]
		if _, tagged := w.tags[f]; tagged {
			continue
		}
		if err := os.Remove(filepath.Join(w.dir, f)); err != nil && !os.IsNotExist(err) {
			w.t.Fatal(err)
		}
	}
	for i := range 5 {
		w.write(fmt.Sprintf("new%d/file%d.jpg", w.n%4, i+10*w.n), fmt.Sprintf("new file %d-%d", w.n, i))
	}
}

// check fails unless the catalog mirrors the storage and every tag sits on
// the live asset at its file's current path.
func (w *crashWorld) check(e *env) {
	w.t.Helper()
	e.checkMirror()
	byPath := map[string]catalogItem{}
	tagged := 0
	for _, it := range e.dump() {
		if it.Removed || it.Dir {
			continue
		}
		byPath[it.Path] = it
		if it.Tags != "[]" {
			tagged++
		}
	}
	for p, tag := range w.tags {
		it, ok := byPath[p]
		if !ok || it.Tags != `["`+tag+`"]` || it.Desc != "metadata of "+tag {
			w.t.Fatalf("metadata lost: %s should carry tag %s, catalog has %+v (present %v)", p, tag, it, ok)
		}
	}
	if tagged != len(w.tags) {
		w.t.Fatalf("%d live assets carry tags, want %d", tagged, len(w.tags))
	}
}
