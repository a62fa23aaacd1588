package syncer_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
	"github.com/shelf-dam/shelf/internal/syncer"
	"github.com/shelf-dam/shelf/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ with the results")

// databases the catalog-backed tests run on.
var databases = []string{"sqlite", "postgres"}

// connectorKinds the scenarios run on: the local folder, S3 on the
// in-process fake, Drive on drivefake, and S3 on the real versitygw server
// of the full test run (skipped when it is not running).
var connectorKinds = []string{"local", "s3", "gdrive", "versitygw"}

// env is one test's catalog, account and storage.
type env struct {
	t       *testing.T
	ctx     context.Context
	store   *catalog.Store
	account int64
	engine  *syncer.Engine
	clock   *fakeClock
	st      *fixture
	cursor  string
	lastFS  *time.Time
}

// fakeClock is a settable clock. With step set, every reading moves it on
// by step (time passing as the engine works).
type fakeClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// openStore opens a migrated catalog on the named database.
func openStore(t testing.TB, db string) *catalog.Store {
	t.Helper()
	var url string
	switch db {
	case "sqlite":
		url = filepath.Join(t.TempDir(), "catalog.db")
	case "postgres":
		url = testenv.PostgresURL(t)
	default:
		t.Fatalf("unknown database %q", db)
	}
	ctx := context.Background()
	s, err := catalog.Open(ctx, url, testLogger(t))
	if err != nil {
		t.Fatalf("opening catalog: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("migrating catalog: %v", err)
	}
	return s
}

// newEnv sets up a catalog on db, an account connected to a fresh storage
// of kind, and an engine with cfg (Store, Logger and Clock filled in).
func newEnv(t *testing.T, db, kind string, cfg syncer.Config) *env {
	t.Helper()
	ctx := context.Background()
	store := openStore(t, db)
	clock := &fakeClock{now: time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)}
	acct, err := store.CreateAccount(ctx, catalog.NewAccount{Name: "Test team"}, clock.now)
	if err != nil {
		t.Fatalf("creating account: %v", err)
	}
	st := newFixture(t, kind)
	if _, err := store.PutConnection(ctx, catalog.Connection{AccountID: acct.ID, Kind: string(st.conn.Kind()), RootKey: "test-root"}, clock.now); err != nil {
		t.Fatalf("creating connection: %v", err)
	}
	cfg.Store, cfg.Logger, cfg.Clock = store, testLogger(t), clock.Now
	eng, err := syncer.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, store: store, account: acct.ID, engine: eng, clock: clock, st: st}
}

// sync runs one sync the way the jobs worker does (cursor and last full
// scan carried from the previous run) and returns its result.
func (e *env) sync(confirm bool) (syncer.Result, error) {
	e.t.Helper()
	return e.syncWith(e.st.conn, confirm)
}

// syncPaths runs a live batch re-reading only paths.
func (e *env) syncPaths(paths []string) (syncer.Result, error) {
	e.t.Helper()
	e.clock.now = e.clock.now.Add(time.Minute)
	if paths == nil {
		paths = []string{}
	}
	return e.engine.Run(e.ctx, syncer.Job{AccountID: e.account, Conn: e.st.conn, Cursor: e.cursor, LastFullScan: e.lastFS, Paths: paths})
}

func (e *env) syncWith(conn storage.Connector, confirm bool) (syncer.Result, error) {
	e.clock.now = e.clock.now.Add(time.Minute)
	res, err := e.engine.Run(e.ctx, syncer.Job{
		AccountID: e.account, Conn: conn, Cursor: e.cursor, LastFullScan: e.lastFS, ConfirmedMassDelete: confirm,
	})
	if err == nil && res.State == catalog.RunSucceeded {
		e.cursor = res.Cursor
		if res.FullScan {
			t := e.clock.now
			e.lastFS = &t
		}
	}
	return res, err
}

func (e *env) mustSync() syncer.Result {
	e.t.Helper()
	res, err := e.sync(false)
	if err != nil {
		e.t.Fatalf("sync failed: %v", err)
	}
	return res
}

// countsLine prints a run's outcome for golden files.
func countsLine(res syncer.Result, err error) string {
	if err != nil {
		return fmt.Sprintf("failed: %s (seen=%d added=%d updated=%d moved=%d removed=%d errors=%d)",
			failureKind(err), res.Counts.Seen, res.Counts.Added, res.Counts.Updated, res.Counts.Moved, res.Counts.Removed, res.Counts.Errors)
	}
	return fmt.Sprintf("%s full=%v seen=%d added=%d updated=%d moved=%d removed=%d errors=%d pending_removals=%d",
		res.State, res.FullScan, res.Counts.Seen, res.Counts.Added, res.Counts.Updated, res.Counts.Moved, res.Counts.Removed, res.Counts.Errors, res.PendingRemovals)
}

// failureKind names the class of a failed run (the wording may evolve).
func failureKind(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "storage root is empty"):
		return "root-empty"
	case strings.Contains(msg, "nothing was deleted"):
		return "scan-failed, nothing deleted"
	}
	return msg
}

// catalogItem is a folder or asset as tests compare them.
type catalogItem struct {
	Path, Name      string
	Dir             bool
	Parent          string // parent folder path ("" for the root)
	Size            int64
	Tags, Desc      string
	Preview         string
	Removed, Native bool
}

// dump reads the account's folders and assets (tombstones included).
func (e *env) dump() []catalogItem {
	e.t.Helper()
	db := e.store.DB()
	var out []catalogItem
	rows, err := db.QueryContext(e.ctx, e.store.Rebind(`SELECT f.path, f.name, COALESCE(p.path, '') FROM folders f
LEFT JOIN folders p ON p.id = f.parent_id WHERE f.account_id = ?`), e.account)
	if err != nil {
		e.t.Fatal(err)
	}
	for rows.Next() {
		it := catalogItem{Dir: true}
		if err := rows.Scan(&it.Path, &it.Name, &it.Parent); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, it)
	}
	rows.Close()
	rows, err = db.QueryContext(e.ctx, e.store.Rebind(`SELECT a.path, a.name, COALESCE(p.path, ''), a.size, a.tags, a.description,
	a.preview_state, a.removed_at IS NOT NULL, a.native
FROM assets a LEFT JOIN folders p ON p.id = a.folder_id WHERE a.account_id = ?`), e.account)
	if err != nil {
		e.t.Fatal(err)
	}
	for rows.Next() {
		var it catalogItem
		if err := rows.Scan(&it.Path, &it.Name, &it.Parent, &it.Size, &it.Tags, &it.Desc, &it.Preview, &it.Removed, &it.Native); err != nil {
			e.t.Fatal(err)
		}
		if it.Removed {
			it.Parent = "" // a tombstone's folder may be gone
		}
		out = append(out, it)
	}
	rows.Close()
	// Drive allows duplicate paths: ties are broken on every field shown.
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		switch {
		case a.Path != b.Path:
			return a.Path < b.Path
		case a.Dir != b.Dir:
			return !a.Dir
		case a.Size != b.Size:
			return a.Size < b.Size
		case a.Removed != b.Removed:
			return !a.Removed
		}
		return a.Tags+a.Desc < b.Tags+b.Desc
	})
	return out
}

// render prints a dump for a golden file.
func render(items []catalogItem) string {
	var b strings.Builder
	for _, it := range items {
		switch {
		case it.Dir:
			fmt.Fprintf(&b, "  folder %s/\n", it.Path)
		default:
			state := "asset "
			if it.Removed {
				state = "tomb  "
			}
			fmt.Fprintf(&b, "  %s %s size=%d preview=%s", state, it.Path, it.Size, it.Preview)
			if it.Native {
				b.WriteString(" native")
			}
			if it.Tags != "[]" || it.Desc != "" {
				fmt.Fprintf(&b, " tags=%s desc=%q", it.Tags, it.Desc)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

// checkMirror fails unless the live catalog holds exactly what the storage
// lists (paths and kinds), each item under the right parent folder.
func (e *env) checkMirror() {
	e.t.Helper()
	var want []string
	err := e.st.conn.Scan(e.ctx, func(en storage.Entry) error {
		want = append(want, mirrorLine(en.Path, en.IsDir, storage.Dir(en.Path)))
		return nil
	})
	if err != nil {
		e.t.Fatalf("scanning storage to compare: %v", err)
	}
	var got []string
	for _, it := range e.dump() {
		if it.Removed {
			continue
		}
		got = append(got, mirrorLine(it.Path, it.Dir, it.Parent))
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(want, "\n") != strings.Join(got, "\n") {
		e.t.Fatalf("catalog does not mirror the storage:\nstorage:\n%s\ncatalog:\n%s", strings.Join(want, "\n"), strings.Join(got, "\n"))
	}
}

func mirrorLine(path string, dir bool, parent string) string {
	if dir {
		return fmt.Sprintf("%s/ in %q", path, parent)
	}
	return fmt.Sprintf("%s in %q", path, parent)
}

// setMeta gives the live asset at path tags and a description.
func (e *env) setMeta(path string, tags []string, desc string) {
	e.t.Helper()
	e.setMetaID(e.assetID(path), tags, desc)
}

func (e *env) setMetaID(id int64, tags []string, desc string) {
	e.t.Helper()
	if _, err := e.store.UpdateAssetMetadata(e.ctx, e.account, id, catalog.MetadataUpdate{Tags: &tags, Description: &desc}, e.clock.now); err != nil {
		e.t.Fatalf("setting metadata on asset %d: %v", id, err)
	}
}

// setPreviewReady marks the live asset at path's preview as made.
func (e *env) setPreviewReady(path string) {
	e.t.Helper()
	if _, err := e.store.DB().ExecContext(e.ctx, e.store.Rebind(`UPDATE assets SET preview_state = 'ready' WHERE id = ?`), e.assetID(path)); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) assetID(path string) int64 {
	e.t.Helper()
	var id int64
	err := e.store.DB().QueryRowContext(e.ctx, e.store.Rebind(`SELECT id FROM assets WHERE account_id = ? AND path = ? AND removed_at IS NULL`),
		e.account, path).Scan(&id)
	if err != nil {
		e.t.Fatalf("finding live asset %s: %v", path, err)
	}
	return id
}

// checkGolden compares got with testdata/name, or rewrites it with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading golden file (run with -update to create it): %v", err)
	}
	if !bytes.Equal(want, []byte(got)) {
		t.Fatalf("result differs from %s (run with -update if the change is intended)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// fixture is a storage of one kind with its connector, plus the fake
// server behind it where there is one.
type fixture struct {
	kind    string
	conn    storage.Connector
	dir     string               // local
	s3      *s3fake.Server       // s3
	drive   *drivefake.Server    // gdrive
	root    string               // gdrive root folder ID
	stamps  int                  // local: modification times handed out
	stamped map[string]time.Time // local: the last one per path
}

func newFixture(t *testing.T, kind string) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{kind: kind}
	switch kind {
	case "local":
		f.dir = t.TempDir()
		c, err := localfs.New(f.dir, []string{f.dir})
		if err != nil {
			t.Fatal(err)
		}
		f.conn = c
	case "s3":
		f.s3 = s3fake.Start()
		t.Cleanup(f.s3.Close)
		bucket := testenv.RandomName("sync")
		if err := f.s3.CreateBucket(bucket); err != nil {
			t.Fatal(err)
		}
		c, err := s3.New(ctx, s3.Config{Bucket: bucket, Prefix: "lib", Endpoint: f.s3.URL, PathStyle: true,
			AccessKeyID: "fake", SecretAccessKey: "fake",
			Pacer: storage.PacerConfig{MaxAttempts: 3, Sleep: noSleep}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.conn = c
	case "versitygw":
		real := testenv.RealS3(t)
		bucket := testenv.RandomName("shelf-sync-")
		raw := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(real.Endpoint), UsePathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(real.AccessKey, real.SecretKey, "")})
		if _, err := raw.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatalf("creating bucket on versitygw: %v", err)
		}
		t.Cleanup(func() { emptyAndDeleteBucket(raw, bucket) })
		c, err := s3.New(ctx, s3.Config{Bucket: bucket, Prefix: "lib", Endpoint: real.Endpoint, PathStyle: true,
			AccessKeyID: real.AccessKey, SecretAccessKey: real.SecretKey,
			Pacer: storage.PacerConfig{MaxAttempts: 3, Sleep: noSleep}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.conn = c
	case "gdrive":
		f.drive = drivefake.New(t, drivefake.Options{})
		f.root = f.drive.CreateFolder("root", "Shelf")
		c, err := gdrive.New(ctx, gdrive.Config{FolderID: f.root, Endpoint: f.drive.URL(), HTTPClient: f.drive.Client(),
			Pacer: storage.NewPacer(storage.PacerConfig{MaxAttempts: 3, Sleep: noSleep})}, nil)
		if err != nil {
			t.Fatal(err)
		}
		f.conn = c
	default:
		t.Fatalf("unknown connector %q", kind)
	}
	return f
}

// stampLocal gives a local file written by a scenario a modification time
// of its own (a second after the previous one), so results do not depend on
// two writes landing in the same millisecond.
func (f *fixture) stampLocal(t *testing.T, path string) {
	if f.kind != "local" {
		return
	}
	f.stamps++
	ts := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(f.stamps) * time.Second)
	if f.stamped == nil {
		f.stamped = map[string]time.Time{}
	}
	f.stamped[path] = ts
	f.chtimes(t, path, ts)
}

// restampLocal gives a local file back the modification time stampLocal
// last gave it.
func (f *fixture) restampLocal(t *testing.T, path string) {
	if f.kind == "local" {
		f.chtimes(t, path, f.stamped[path])
	}
}

func (f *fixture) chtimes(t *testing.T, path string, ts time.Time) {
	if err := os.Chtimes(filepath.Join(f.dir, filepath.FromSlash(path)), ts, ts); err != nil {
		t.Fatal(err)
	}
}

// emptyAndDeleteBucket removes a test bucket from the real S3 server.
func emptyAndDeleteBucket(c *awss3.Client, bucket string) {
	ctx := context.Background()
	p := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return
		}
		for _, o := range page.Contents {
			_, _ = c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		}
	}
	_, _ = c.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(bucket)})
}

func noSleep(ctx context.Context, d time.Duration) error { return ctx.Err() }
