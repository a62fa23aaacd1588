package syncrun

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/embedmeta"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/storage"
)

// TestLiveBatchesEachQueueTheirMetadataRead: every live batch of one live
// run queues its own reading of file metadata, so a read already queued
// or running for an earlier batch (whose pass may be past the new
// assets) does not swallow a later batch's.
func TestLiveBatchesEachQueueTheirMetadataRead(t *testing.T) {
	t.Parallel()
	b := newBundle(t, dialects()[0])
	svc := b.service(t, false, nil)
	a := b.account(t, policy.PlanMedium, string(storage.KindLocal))
	run := catalog.SyncRun{ID: 7, AccountID: a.ID, State: catalog.RunSucceeded}
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	svc.liveFollowUp(ctx, log, run, catalog.Counts{Added: 1}, catalog.RunSucceeded, b.clock.Now())
	b.clock.Set(b.clock.Now().Add(time.Second))
	svc.liveFollowUp(ctx, log, run, catalog.Counts{Updated: 1}, catalog.RunSucceeded, b.clock.Now())
	jobs, err := svc.queue.ListByAccount(ctx, embedmeta.ReadArgs{}.Kind(), a.ID, rivertype.JobStateAvailable, rivertype.JobStateRunning)
	if err != nil {
		t.Fatal(err)
	}
	if len(jobs) != 2 {
		t.Errorf("%d metadata reads queued for two live batches, want 2", len(jobs))
	}
}
