package library_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/shelf-dam/shelf/internal/media"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
	"github.com/shelf-dam/shelf/internal/syncer"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// backend makes a fresh, empty storage for one test.
type backend struct {
	name string
	new  func(t *testing.T) storage.Connector
}

var localBackend = backend{name: "Local", new: func(t *testing.T) storage.Connector {
	dir := t.TempDir()
	c, err := localfs.New(dir, []string{dir})
	if err != nil {
		t.Fatal(err)
	}
	return c
}}

// s3FakeBackend starts one in-process S3 server per test.
var s3FakeBackend = backend{name: "S3Fake", new: func(t *testing.T) storage.Connector {
	srv := s3fake.Start()
	t.Cleanup(srv.Close)
	bucket := testenv.RandomName("lib")
	if err := srv.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	c, err := s3.New(context.Background(), s3.Config{Bucket: bucket, Prefix: "root", Endpoint: srv.URL, PathStyle: true,
		AccessKeyID: "fake", SecretAccessKey: "fake"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}}

// versitygwBackend uses a new bucket on the real S3 server of the full test
// run (skipped without it).
var versitygwBackend = backend{name: "Versitygw", new: func(t *testing.T) storage.Connector {
	real := testenv.RealS3(t)
	bucket := testenv.RandomName("shelf-lib-")
	raw := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(real.Endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(real.AccessKey, real.SecretKey, "")})
	if _, err := raw.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("creating bucket %s: %v", bucket, err)
	}
	t.Cleanup(func() { emptyAndDeleteBucket(t, raw, bucket) })
	c, err := s3.New(context.Background(), s3.Config{Bucket: bucket, Prefix: "root", Endpoint: real.Endpoint, PathStyle: true,
		AccessKeyID: real.AccessKey, SecretAccessKey: real.SecretKey}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}}

// emptyAndDeleteBucket removes a test bucket from the shared S3 server.
func emptyAndDeleteBucket(t *testing.T, raw *awss3.Client, bucket string) {
	ctx := context.Background()
	p := awss3.NewListObjectsV2Paginator(raw, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Logf("emptying bucket %s: %v", bucket, err)
			return
		}
		for _, o := range page.Contents {
			_, _ = raw.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		}
	}
	if _, err := raw.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Logf("deleting bucket %s: %v", bucket, err)
	}
}

// driveFakeBackend connects to a folder in an in-process Drive fake.
var driveFakeBackend = backend{name: "DriveFake", new: func(t *testing.T) storage.Connector {
	fake := drivefake.New(t, drivefake.Options{})
	root := fake.CreateFolder("root", "Shelf")
	c, err := gdrive.New(context.Background(), gdrive.Config{FolderID: root, Endpoint: fake.URL(), HTTPClient: fake.Client(),
		Pacer: storage.NewPacer(storage.PacerConfig{Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}}

// database opens a fresh catalog for one test.
type database struct {
	name string
	url  func(t *testing.T) string
}

var (
	sqliteDB   = database{name: "SQLite", url: func(t *testing.T) string { return filepath.Join(t.TempDir(), "shelf.db") }}
	postgresDB = database{name: "Postgres", url: func(t *testing.T) string { return testenv.PostgresURL(t) }}
)

// fixture is a library service on a real catalog and a real connector,
// with the real sync engine to check that the storage and the catalog agree.
type fixture struct {
	t      *testing.T
	ctx    context.Context
	dbURL  string // the catalog's database, for a second process (secondNode)
	store  *catalog.Store
	conn   storage.Connector
	acct   catalog.Account
	user   catalog.User
	engine *syncer.Engine
	svc    *library.Service

	mu     sync.Mutex
	thumbs []int64
	events []notify.Event
}

// options adjust the service a fixture builds.
type options struct {
	now       func() time.Time
	wrap      func(storage.Connector) storage.Connector
	intentTTL time.Duration
	meta      library.MetadataWriter
	catalog   func(library.Catalog) library.Catalog
}

func newFixture(t *testing.T, db database, be backend, opts ...func(*options)) *fixture {
	t.Helper()
	var o options
	for _, fn := range opts {
		fn(&o)
	}
	ctx := context.Background()
	dbURL := db.url(t)
	store, err := catalog.Open(ctx, dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatalf("opening catalog: %v", err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatalf("migrating catalog: %v", err)
	}
	acct, user, err := store.CreateAccountWithAdmin(ctx, catalog.NewAccount{Name: "Team"},
		catalog.NewUser{Email: testenv.RandomName("u") + "@example.com", PasswordHash: "x", Role: catalog.RoleEditor}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	engine, err := syncer.New(syncer.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, ctx: ctx, dbURL: dbURL, store: store, conn: be.new(t), acct: acct, user: user, engine: engine}
	libConn := f.conn
	if o.wrap != nil {
		libConn = o.wrap(f.conn)
	}
	var libCat library.Catalog = store
	if o.catalog != nil {
		libCat = o.catalog(store)
	}
	f.svc = library.New(library.Config{
		Catalog: libCat,
		Connect: func(context.Context, int64) (storage.Connector, error) { return libConn, nil },
		Jobs: thumbRecorder(func(assetID int64) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.thumbs = append(f.thumbs, assetID)
		}),
		Publish: func(_ context.Context, ev notify.Event) error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.events = append(f.events, ev)
			return nil
		},
		Now:       o.now,
		IntentTTL: o.intentTTL,
		Meta:      o.meta,
	})
	return f
}

// seed writes a tree into the storage directly (as someone using the
// storage would) and syncs it into the catalog. Paths ending in "/" are
// folders.
func (f *fixture) seed(paths ...string) {
	f.t.Helper()
	for _, p := range paths {
		var err error
		if strings.HasSuffix(p, "/") {
			_, err = f.conn.MkDir(f.ctx, strings.TrimSuffix(p, "/"))
		} else {
			body := []byte("content of " + p)
			_, err = f.conn.Put(f.ctx, p, bytes.NewReader(body), int64(len(body)), "")
		}
		if err != nil {
			f.t.Fatalf("seeding %s: %v", p, err)
		}
	}
	if c := f.sync(nil); c.Added == 0 {
		f.t.Fatalf("the seeding sync added nothing: %+v", c)
	}
}

// sync runs a full sync the way the sync worker does: take the lease, wait
// for library writes in flight, run the engine (during runs first, while
// the lease is held), release. It returns the run's counts.
func (f *fixture) sync(during func(runID int64)) catalog.Counts {
	f.t.Helper()
	run, lease := f.lock()
	f.waitForIntents()
	if during != nil {
		during(run.ID)
	}
	counts := f.runEngine(run.ID)
	f.unlock(run, lease)
	return counts
}

// runEngine runs the sync engine for run; the caller holds the lease.
func (f *fixture) runEngine(runID int64) catalog.Counts {
	f.t.Helper()
	res, err := f.engine.Run(f.ctx, syncer.Job{AccountID: f.acct.ID, RunID: runID, Conn: f.conn, Kind: syncer.ScanFull})
	if err != nil {
		f.t.Fatalf("sync: %v", err)
	}
	return res.Counts
}

// lock starts a sync run and takes the library lease for it.
func (f *fixture) lock() (catalog.SyncRun, catalog.Lease) {
	f.t.Helper()
	now := time.Now()
	run, err := f.store.CreateSyncRun(f.ctx, catalog.SyncRun{AccountID: f.acct.ID, Trigger: catalog.TriggerCLI,
		State: catalog.RunRunning, StartedAt: &now}, now)
	if err != nil {
		f.t.Fatalf("creating sync run: %v", err)
	}
	lease, err := f.store.AcquireLease(f.ctx, f.acct.ID, run.ID, "test-sync", now, time.Hour)
	if err != nil {
		f.t.Fatalf("taking the lease: %v", err)
	}
	return run, lease
}

func (f *fixture) unlock(run catalog.SyncRun, lease catalog.Lease) {
	f.t.Helper()
	if err := f.store.ReleaseLease(f.ctx, f.acct.ID, run.ID, lease.Holder); err != nil {
		f.t.Fatal(err)
	}
	now := time.Now()
	run.State, run.FinishedAt = catalog.RunSucceeded, &now
	if err := f.store.UpdateSyncRun(f.ctx, run); err != nil {
		f.t.Fatal(err)
	}
}

// waitForIntents waits, like the sync worker, until no library write is
// in flight.
func (f *fixture) waitForIntents() {
	f.t.Helper()
	for {
		n, err := f.store.CountOpenWriteIntents(f.ctx, f.acct.ID, time.Now())
		if err != nil {
			f.t.Fatal(err)
		}
		if n == 0 {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// noDiff asserts that a sync now finds the storage and the catalog equal.
func (f *fixture) noDiff() {
	f.t.Helper()
	c := f.sync(nil)
	if c.Added+c.Updated+c.Moved+c.Removed+c.Errors != 0 {
		f.t.Fatalf("the next sync found differences between storage and catalog: %+v", c)
	}
}

// storageTree lists every path in the storage ("dir/" for folders), sorted.
func (f *fixture) storageTree() []string {
	f.t.Helper()
	var out []string
	err := f.conn.Scan(f.ctx, func(e storage.Entry) error {
		p := e.Path
		if e.IsDir {
			p += "/"
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		f.t.Fatalf("scanning storage: %v", err)
	}
	sort.Strings(out)
	return out
}

// content reads a file from the storage.
func (f *fixture) content(path string) string {
	f.t.Helper()
	rc, err := f.conn.Open(f.ctx, path)
	if err != nil {
		f.t.Fatalf("reading %s from storage: %v", path, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		f.t.Fatal(err)
	}
	return string(b)
}

func (f *fixture) inStorage(path string) bool {
	f.t.Helper()
	_, err := f.conn.Stat(f.ctx, path)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		f.t.Fatalf("stat %s: %v", path, err)
	}
	return err == nil
}

func (f *fixture) folder(path string) catalog.Folder {
	f.t.Helper()
	fo, err := f.store.GetFolderByPath(f.ctx, f.acct.ID, path)
	if err != nil {
		f.t.Fatalf("folder %q in catalog: %v", path, err)
	}
	return fo
}

func (f *fixture) folderID(path string) *int64 {
	f.t.Helper()
	id := f.folder(path).ID
	return &id
}

// asset finds a live asset by path.
func (f *fixture) asset(path string) catalog.Asset {
	f.t.Helper()
	a, ok := f.findAsset(path)
	if !ok {
		f.t.Fatalf("no asset at %q in the catalog", path)
	}
	return a
}

func (f *fixture) findAsset(path string) (catalog.Asset, bool) {
	f.t.Helper()
	assets, _, err := f.store.ListAssets(f.ctx, catalog.AssetQuery{AccountID: f.acct.ID, Recursive: true, Limit: catalog.MaxAssetPage})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, a := range assets {
		if a.Path == path {
			return a, true
		}
	}
	return catalog.Asset{}, false
}

// catalogTree lists every live asset and folder path ("dir/" for folders),
// sorted, for comparing with storageTree.
func (f *fixture) catalogTree() []string {
	f.t.Helper()
	var out []string
	var walk func(parent *int64)
	walk = func(parent *int64) {
		folders, err := f.store.ListFolders(f.ctx, f.acct.ID, parent)
		if err != nil {
			f.t.Fatal(err)
		}
		for _, fo := range folders {
			out = append(out, fo.Path+"/")
			walk(&fo.ID)
		}
	}
	walk(nil)
	cursor := ""
	for {
		assets, next, err := f.store.ListAssets(f.ctx, catalog.AssetQuery{AccountID: f.acct.ID, Recursive: true,
			Limit: catalog.MaxAssetPage, Cursor: cursor})
		if err != nil {
			f.t.Fatal(err)
		}
		for _, a := range assets {
			out = append(out, a.Path)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	sort.Strings(out)
	return out
}

func (f *fixture) eventTypes() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, ev := range f.events {
		out = append(out, ev.Type)
	}
	return out
}

func (f *fixture) thumbsQueued() []int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.thumbs)
}

// wantKind asserts err is a library error of kind.
func wantKind(t *testing.T, err, kind error, what string) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("%s: got %v, want %v", what, err, kind)
	}
	var le *library.Error
	if !errors.As(err, &le) || le.Message == "" {
		t.Fatalf("%s: %v is not a *library.Error with a message", what, err)
	}
}

func body(s string) (io.Reader, int64) { return strings.NewReader(s), int64(len(s)) }

func fmtTree(tree []string) string { return fmt.Sprintf("%q", tree) }

// thumbRecorder records the assets whose previews were queued.
type thumbRecorder func(assetID int64)

func (r thumbRecorder) Enqueue(_ context.Context, args river.JobArgs) error {
	if a, ok := args.(media.ThumbArgs); ok {
		r(a.AssetID)
	}
	return nil
}

func ptr[T any](v T) *T { return &v }
