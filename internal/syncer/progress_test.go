package syncer_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// TestProgressReported: progress reaches the callback and the run row as
// the run goes — phases in order (listing, then applying), counters that
// never go back, the previous listing's size as the estimate (until the
// listing outgrows it), a rate once
// a second of work is measured, and while applying how many changes the
// run will have made — and the run row ends with the final report.
func TestProgressReported(t *testing.T) {
	for _, db := range databases {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, db, "local", syncer.Config{BatchSize: 10})
			e.seed(60)
			e.mustSync()
			e.seed(90) // 30 new files (staged: they could be moves), 60 rewritten
			run := e.newRun()
			e.clock.step = 50 * time.Millisecond
			var reports []catalog.RunProgress
			res, err := e.engine.Run(e.ctx, syncer.Job{AccountID: e.account, RunID: run.ID, Conn: e.st.conn,
				Progress: func(p catalog.RunProgress) {
					if n := len(reports); n > 0 {
						last := reports[n-1]
						c, l := p.Counts, last.Counts
						if c.Seen < l.Seen || c.Added < l.Added || c.Updated < l.Updated || c.Moved < l.Moved || c.Removed < l.Removed || c.Errors < l.Errors {
							t.Errorf("counters went back: %+v after %+v", c, l)
						}
						if last.Phase == catalog.PhaseApplying && p.Phase != catalog.PhaseApplying {
							t.Errorf("phase went back from applying to %q", p.Phase)
						}
					}
					if row := e.runRow(run.ID); row.Counts != p.Counts || row.Phase != p.Phase {
						t.Errorf("reported %+v (%s) before the run row had it: %+v (%s)", p.Counts, p.Phase, row.Counts, row.Phase)
					}
					reports = append(reports, p)
				}})
			e.clock.step = 0
			if err != nil {
				t.Fatal(err)
			}
			if res.Counts.Seen != 94 || res.Counts.Added != 30 {
				t.Fatalf("result %+v; want 94 seen, 30 added", res.Counts)
			}
			var listing, applying, rated int
			var applyTotal *int64
			for _, p := range reports {
				switch p.Phase {
				case catalog.PhaseListing:
					listing++
				case catalog.PhaseApplying:
					applying++
					if p.ApplyTotal != nil {
						applyTotal = p.ApplyTotal
					}
				default:
					t.Errorf("a report in phase %q", p.Phase)
				}
				switch {
				case p.Counts.Seen <= 64 && (p.Estimate == nil || *p.Estimate != 64):
					t.Errorf("estimate %v at %d seen, want the previous listing's 64 entries", p.Estimate, p.Counts.Seen)
				case p.Counts.Seen > 64 && p.Estimate != nil:
					t.Errorf("estimate %d at %d seen, want none once outgrown", *p.Estimate, p.Counts.Seen)
				}
				if p.RatePerSecond != nil {
					rated++
				}
			}
			if listing < 3 || applying < 2 || rated == 0 {
				t.Errorf("%d listing and %d applying reports, %d with a rate; want the run followed in both phases", listing, applying, rated)
			}
			if reports[0].Phase != catalog.PhaseListing || reports[0].Counts != (catalog.Counts{}) {
				t.Errorf("first report %+v; want the listing announced before any count", reports[0])
			}
			if applyTotal == nil || *applyTotal != res.Counts.Changes() {
				t.Errorf("changes expected while applying: %v; the run made %d", applyTotal, res.Counts.Changes())
			}
			last := reports[len(reports)-1]
			got := e.runRow(run.ID)
			if last.Counts != res.Counts || got.Counts != res.Counts || got.Phase != catalog.PhaseApplying {
				t.Errorf("last report %+v, run row %+v (%s); want the result %+v", last.Counts, got.Counts, got.Phase, res.Counts)
			}
		})
	}
}

// TestSeenMovesDuringNoopListing: a resync that finds nothing to write
// still reports the entries it has seen as the listing goes, at least
// every progress interval, on the run row too.
func TestSeenMovesDuringNoopListing(t *testing.T) {
	for _, kind := range []string{"local", "s3"} { // merge-joined listings
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, "sqlite", kind, syncer.Config{BatchSize: 50, ProgressEvery: time.Second})
			e.seed(300)
			e.mustSync()
			run := e.newRun()
			e.clock.step = 100 * time.Millisecond // time passes while the engine works
			var midRow []int64
			var calls, rated int
			res, err := e.engine.Run(e.ctx, syncer.Job{AccountID: e.account, RunID: run.ID, Conn: e.st.conn,
				Progress: func(p catalog.RunProgress) {
					calls++
					if row := e.runRow(run.ID); row.Counts.Seen > 0 && row.Counts.Seen < 304 {
						midRow = append(midRow, row.Counts.Seen)
						if p.RatePerSecond != nil && *p.RatePerSecond > 0 {
							rated++
						}
					}
				}})
			e.clock.step = 0
			if err != nil {
				t.Fatal(err)
			}
			if res.Writes != 0 || res.Counts.Seen != 304 {
				t.Fatalf("no-op resync: %+v, %d writes", res.Counts, res.Writes)
			}
			if len(midRow) < 3 {
				t.Fatalf("the run row showed %d intermediate seen counts (%v) in %d progress reports; want it moving while the listing goes", len(midRow), midRow, calls)
			}
			if rated == 0 {
				t.Error("no rate was reported while the listing went")
			}
			for i := 1; i < len(midRow); i++ {
				if midRow[i] < midRow[i-1] {
					t.Fatalf("seen went back on the run row: %v", midRow)
				}
			}
		})
	}
}

// TestLostLeaseStopsTheRun: when the caller loses the lease it cancels
// the run's context (internal/syncrun does); the run stops and removes
// nothing, though its listing was complete.
func TestLostLeaseStopsTheRun(t *testing.T) {
	e := newEnv(t, "sqlite", "local", syncer.Config{BatchSize: 5})
	paths := e.seed(40)
	e.mustSync()
	for _, p := range paths[:5] {
		if err := e.st.conn.Delete(e.ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	e.seed(60)
	ctx, cancel := context.WithCancelCause(e.ctx)
	defer cancel(nil)
	// The listing completes; the lease is lost as it does, so everything
	// after — the removals of the 5 deleted files above all — must not
	// happen.
	lose := func() error { cancel(catalog.ErrLeaseLost); return nil }
	_, err := e.engine.Run(ctx, syncer.Job{AccountID: e.account, Conn: cutAtEnd(e.st.conn, lose)})
	if !errors.Is(err, context.Canceled) || !errors.Is(context.Cause(ctx), catalog.ErrLeaseLost) {
		t.Fatalf("run with a lost lease: %v; want it stopped", err)
	}
	if e.tombstones() != 0 {
		t.Fatalf("%d tombstones; want the run stopped with nothing removed", e.tombstones())
	}
	e.mustSync()
	e.checkMirror()
}

// cutConn is a sorted, hashing connector whose listing ends with end's
// error after `after` entries (0: all of them): a lost lease (end cancels
// the run's context, as internal/syncrun does) or a storage failure.
type cutConn struct {
	storage.Connector
	after int
	end   func() error
}

func cutAtEnd(c storage.Connector, end func() error) *cutConn {
	return &cutConn{Connector: c, end: end}
}

var errCut = errors.New("listing cut")

func (c *cutConn) ScanSorted(ctx context.Context, emit func(storage.Entry) error) error {
	n := 0
	err := c.Connector.(storage.SortedScanner).ScanSorted(ctx, func(en storage.Entry) error {
		if n++; c.after > 0 && n > c.after {
			return errCut
		}
		return emit(en)
	})
	if err != nil && !errors.Is(err, errCut) {
		return err
	}
	return c.end()
}

func (c *cutConn) Hash(ctx context.Context, path string) (string, error) {
	return c.Connector.(storage.Hasher).Hash(ctx, path)
}
