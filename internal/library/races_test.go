package library_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// Two shelf processes on one catalog database share nothing but the
// database and the storage. These tests build the second process's library
// service on its own connection pool (secondNode) and make the two race for
// one name at the worst moment: both past the check that the name is free
// before either writes.

// secondNode returns a library service for the fixture's account as another
// process would run it: its own catalog store on the same database, the
// same storage (through wrap, when not nil).
func (f *fixture) secondNode(wrap func(storage.Connector) storage.Connector) *library.Service {
	f.t.Helper()
	store, err := catalog.Open(f.ctx, f.dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		f.t.Fatalf("opening the catalog for a second node: %v", err)
	}
	f.t.Cleanup(func() { store.Close() })
	conn := f.conn
	if wrap != nil {
		conn = wrap(conn)
	}
	return library.New(library.Config{
		Catalog: store,
		Connect: func(context.Context, int64) (storage.Connector, error) { return conn, nil },
	})
}

// rendezvous holds the first callers of arrive until n of them have come,
// or a second has passed (a caller that comes alone goes on after that).
type rendezvous struct {
	n    int
	mu   sync.Mutex
	come int
	all  chan struct{}
}

func newRendezvous(n int) *rendezvous { return &rendezvous{n: n, all: make(chan struct{})} }

func (r *rendezvous) arrive() {
	r.mu.Lock()
	r.come++
	if r.come == r.n {
		close(r.all)
	}
	r.mu.Unlock()
	select {
	case <-r.all:
	case <-time.After(time.Second):
	}
}

// meetConn makes the writers of one contested path meet right before the
// storage write (Put or Create of the path, Move onto it): each has passed
// the library's check that the path is free, and neither has written yet.
// Both nodes use the same meetConn.
type meetConn struct {
	storage.Connector
	path    string
	writing *rendezvous
}

func newMeetConn(c storage.Connector, path string) *meetConn {
	return &meetConn{Connector: c, path: path, writing: newRendezvous(2)}
}

func (m *meetConn) Put(ctx context.Context, p string, r io.Reader, size int64, mime string) (storage.Entry, error) {
	if p == m.path {
		m.writing.arrive()
	}
	return m.Connector.Put(ctx, p, r, size, mime)
}

func (m *meetConn) Create(ctx context.Context, p string, r io.Reader, size int64, mime string) (storage.Entry, error) {
	if p == m.path {
		m.writing.arrive()
	}
	return m.Connector.Create(ctx, p, r, size, mime)
}

func (m *meetConn) Move(ctx context.Context, from, to string) (storage.Entry, error) {
	if to == m.path {
		m.writing.arrive()
	}
	return m.Connector.Move(ctx, from, to)
}

// testTwoNodesRename: node 1 renames s-a.txt and node 2 renames s-b.txt to
// t.txt at the same moment. One wins, the other is told the name is taken,
// and no file is lost: t.txt holds the winner's content, the loser's file is
// where it was, and the catalog says the same.
func testTwoNodesRename(t *testing.T, db database, be backend) {
	var meet *meetConn
	wrap := func(c storage.Connector) storage.Connector {
		if meet == nil {
			meet = newMeetConn(c, "t.txt")
		}
		return meet
	}
	f := newFixture(t, db, be, func(o *options) { o.wrap = wrap })
	other := f.secondNode(wrap)
	f.seed("s-a.txt", "s-b.txt")
	a, b := f.asset("s-a.txt"), f.asset("s-b.txt")

	type result struct {
		asset catalog.Asset
		err   error
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i, node := range []*library.Service{f.svc, other} {
		id := []int64{a.ID, b.ID}[i]
		wg.Go(func() {
			got, err := node.EditAsset(f.ctx, f.acct.ID, f.user.ID, id, library.AssetEdit{Name: ptr("t.txt")})
			results[i] = result{got, err}
		})
	}
	wg.Wait()

	winner, loser := -1, -1
	for i, r := range results {
		switch {
		case r.err == nil:
			winner = i
		case errors.Is(r.err, library.ErrConflict):
			loser = i
		default:
			t.Fatalf("node %d: rename failed with %v, want success or a conflict", i+1, r.err)
		}
	}
	if winner < 0 || loser < 0 {
		t.Fatalf("renames: node 1 %v, node 2 %v; want one success and one conflict", results[0].err, results[1].err)
	}
	from := []string{"s-a.txt", "s-b.txt"}
	if got, want := f.content("t.txt"), "content of "+from[winner]; got != want {
		t.Errorf("t.txt holds %q, want the renamed file's %q", got, want)
	}
	if !f.inStorage(from[loser]) || f.content(from[loser]) != "content of "+from[loser] {
		t.Errorf("the refused rename's file %s is gone from the storage", from[loser])
	}
	if got := f.asset("t.txt"); got.ID != results[winner].asset.ID {
		t.Errorf("the catalog has asset %d at t.txt, want the renamed asset %d", got.ID, results[winner].asset.ID)
	}
	if got := f.asset(from[loser]); got.ID != []int64{a.ID, b.ID}[loser] {
		t.Errorf("the catalog has asset %d at %s, want the unchanged asset %d", got.ID, from[loser], []int64{a.ID, b.ID}[loser])
	}
	f.noDiff()
}

// testTwoNodesUpload: each node uploads same.txt at the same moment. One
// upload lands, the other is refused, and the file in the storage is the
// one the landed upload sent.
func testTwoNodesUpload(t *testing.T, db database, be backend) {
	var meet *meetConn
	wrap := func(c storage.Connector) storage.Connector {
		if meet == nil {
			meet = newMeetConn(c, "same.txt")
		}
		return meet
	}
	f := newFixture(t, db, be, func(o *options) { o.wrap = wrap })
	other := f.secondNode(wrap)
	f.seed("docs/", "docs/readme.txt")

	errs := make([]error, 2)
	ids := make([]int64, 2)
	var wg sync.WaitGroup
	for i, node := range []*library.Service{f.svc, other} {
		wg.Go(func() {
			r, n := body(fmt.Sprintf("from node %d", i+1))
			a, err := node.Upload(f.ctx, f.acct.ID, f.user.ID, nil, "same.txt", r, n, "")
			errs[i], ids[i] = err, a.ID
		})
	}
	wg.Wait()
	wantOneWinner(t, f, errs, ids, "same.txt", func(i int) string { return fmt.Sprintf("from node %d", i+1) })
}

// wantOneWinner checks the outcome of uploads racing for path: exactly one
// landed, every other was refused as a conflict, and the storage and the
// catalog hold the landed one.
func wantOneWinner(t *testing.T, f *fixture, errs []error, ids []int64, path string, content func(i int) string) {
	t.Helper()
	winner, conflicts := -1, 0
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("uploads %d and %d both landed (assets %d and %d)", winner+1, i+1, ids[winner], ids[i])
		case err == nil:
			winner = i
		case errors.Is(err, library.ErrConflict):
			conflicts++
		default:
			t.Errorf("upload %d failed with %v, want success or a conflict", i+1, err)
		}
	}
	if winner < 0 || conflicts != len(errs)-1 {
		t.Fatalf("%d uploads were refused as conflicts of %d; want all but one", conflicts, len(errs))
	}
	if got, want := f.content(path), content(winner); got != want {
		t.Errorf("the storage holds %q at %s, but the upload that landed sent %q", got, path, want)
	}
	if got := f.asset(path); got.ID != ids[winner] {
		t.Errorf("the catalog has asset %d at %s, want the landed upload's %d", got.ID, path, ids[winner])
	}
	f.noDiff()
}

// testTwoNodesUploadStorm: ten uploads of one name through each node at
// once, a few rounds.
func testTwoNodesUploadStorm(t *testing.T, db database, be backend) {
	f := newFixture(t, db, be)
	other := f.secondNode(nil)
	f.seed("docs/", "docs/readme.txt")
	const perNode, rounds = 10, 3
	for round := range rounds {
		name := fmt.Sprintf("storm-%d.txt", round)
		errs := make([]error, 2*perNode)
		ids := make([]int64, 2*perNode)
		content := func(i int) string { return fmt.Sprintf("round %d upload %d", round, i) }
		var wg sync.WaitGroup
		for i := range errs {
			node := []*library.Service{f.svc, other}[i%2]
			wg.Go(func() {
				r, n := body(content(i))
				a, err := node.Upload(f.ctx, f.acct.ID, f.user.ID, nil, name, r, n, "")
				errs[i], ids[i] = err, a.ID
			})
		}
		wg.Wait()
		wantOneWinner(t, f, errs, ids, name, content)
	}
}

// s3SlowCopyBackend is an S3 fake whose copies (an S3 move is a copy and a
// delete) take a moment, so that two moves that start together both look
// at the destination before either copy lands.
var s3SlowCopyBackend = backend{name: "S3FakeSlowCopy", new: func(t *testing.T) storage.Connector {
	srv := s3fake.Start()
	t.Cleanup(srv.Close)
	srv.SetLatency(s3fake.OpCopy, 300*time.Millisecond)
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

func TestTwoNodesRenameToOneName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		db database
		be backend
	}{{sqliteDB, s3SlowCopyBackend}, {sqliteDB, localBackend}, {postgresDB, s3SlowCopyBackend}, {postgresDB, localBackend}} {
		t.Run(c.be.name+c.db.name, func(t *testing.T) {
			t.Parallel()
			testTwoNodesRename(t, c.db, c.be)
		})
	}
}

func TestTwoNodesUploadOneName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		db database
		be backend
	}{{sqliteDB, s3FakeBackend}, {sqliteDB, localBackend}, {sqliteDB, driveFakeBackend}, {postgresDB, s3FakeBackend}, {postgresDB, localBackend}} {
		t.Run(c.be.name+c.db.name, func(t *testing.T) {
			t.Parallel()
			testTwoNodesUpload(t, c.db, c.be)
		})
	}
}

func TestTwoNodesUploadStorm(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		db database
		be backend
	}{{sqliteDB, localBackend}, {postgresDB, s3FakeBackend}} {
		t.Run(c.be.name+c.db.name, func(t *testing.T) {
			t.Parallel()
			testTwoNodesUploadStorm(t, c.db, c.be)
		})
	}
}

// TestClaimOfADeadNodeExpires: a process that died in the middle of an
// upload leaves its claim behind; the name is refused only until the
// claim's write intent expires.
func TestClaimOfADeadNodeExpires(t *testing.T) {
	t.Parallel()
	var skew atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	const ttl = time.Minute
	f := newFixture(t, sqliteDB, localBackend, func(o *options) { o.now = clock; o.intentTTL = ttl })
	f.seed("docs/", "docs/readme.txt")
	claim := catalog.PathClaim{Paths: []string{"docs/orphan.txt"}}
	if _, err := f.store.BeginWriteIntentOn(f.ctx, f.acct.ID, f.user.ID, "upload", claim, time.Now(), ttl); err != nil {
		t.Fatal(err)
	}
	upload := func() error {
		r, n := body("after the crash")
		_, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, f.folderID("docs"), "orphan.txt", r, n, "")
		return err
	}
	err := upload()
	wantKind(t, err, library.ErrConflict, "an upload of a name a dead node claimed")
	if msg := err.Error(); !strings.Contains(msg, "docs/orphan.txt") || !strings.Contains(msg, "an upload") {
		t.Errorf("the refusal %q does not say which change holds the name", msg)
	}
	skew.Store(int64(ttl + time.Second))
	if err := upload(); err != nil {
		t.Fatalf("the upload after the dead node's claim expired: %v", err)
	}
	if got := f.content("docs/orphan.txt"); got != "after the crash" {
		t.Errorf("docs/orphan.txt holds %q", got)
	}
}
