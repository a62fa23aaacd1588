package media_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"

	"github.com/shelf-dam/shelf/internal/media"
	"github.com/shelf-dam/shelf/internal/testenv"
)

func riverConfig(b serviceBundle) *river.Config {
	workers := river.NewWorkers()
	river.AddWorker(workers, media.NewThumbWorker(b.svc))
	river.AddWorker(workers, media.NewPendingWorker(b.svc, b.store))
	return &river.Config{
		Logger:            slog.New(slog.DiscardHandler),
		Queues:            map[string]river.QueueConfig{media.Queue: {MaxWorkers: 2}},
		Workers:           workers,
		FetchCooldown:     20 * time.Millisecond,
		FetchPollInterval: 50 * time.Millisecond,
		TestOnly:          true,
	}
}

// exerciseJobs runs the thumbnail and backlog jobs through a real River
// client on the catalog's own database.
func exerciseJobs[TTx any](t *testing.T, b serviceBundle, client *river.Client[TTx]) {
	ctx := context.Background()
	good := b.addFile(t, "good.jpg", testJPEG(t, 640, 480))
	bad := b.addFile(t, "bad.gif", []byte("GIF89a\x10\x00\x10\x00garbage"))
	other := b.addFile(t, "notes.txt", []byte("hello"))

	// One job per asset while one waits: a second insert is a duplicate.
	res, err := client.Insert(ctx, media.ThumbArgs{AccountID: b.account.ID, AssetID: good.ID}, nil)
	if err != nil {
		t.Fatalf("inserting a thumbnail job: %v", err)
	}
	if res.Job.Queue != media.Queue {
		t.Errorf("thumbnail job on queue %q, want %q", res.Job.Queue, media.Queue)
	}
	dup, err := client.Insert(ctx, media.ThumbArgs{AccountID: b.account.ID, AssetID: good.ID}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !dup.UniqueSkippedAsDuplicate {
		t.Error("a second thumbnail job for the same asset was queued")
	}

	events, cancel := client.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
	defer cancel()
	if err := client.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Stop(ctx) }()
	wait := func(kind string) {
		t.Helper()
		for ev := range events {
			if ev.Job.Kind != kind {
				continue
			}
			if ev.Kind != river.EventKindJobCompleted {
				t.Fatalf("%s job ended %s: %v", kind, ev.Kind, ev.Job.Errors)
			}
			return
		}
	}
	wait(media.ThumbArgs{}.Kind())
	if a := b.reload(t, good.ID); a.PreviewState != media.StateReady || a.Width == nil || *a.Width != 640 {
		t.Fatalf("after the thumbnail job: state %q, width %v", a.PreviewState, a.Width)
	}

	// The backlog job handles everything still pending.
	if _, err := client.Insert(ctx, media.PendingArgs{AccountID: b.account.ID}, nil); err != nil {
		t.Fatal(err)
	}
	wait(media.PendingArgs{}.Kind())
	if a := b.reload(t, bad.ID); a.PreviewState != media.StateError || a.PreviewError == "" {
		t.Errorf("corrupt file after the backlog: state %q (%q), want error", a.PreviewState, a.PreviewError)
	}
	if a := b.reload(t, other.ID); a.PreviewState != media.StateIcon {
		t.Errorf("text file after the backlog: state %q, want icon", a.PreviewState)
	}
}

func TestJobsSQLite(t *testing.T) {
	t.Parallel()
	b := setupService(t, filepath.Join(t.TempDir(), "shelf.db"))
	client, err := river.NewClient(riversqlite.New(b.store.DB()), riverConfig(b))
	if err != nil {
		t.Fatal(err)
	}
	exerciseJobs(t, b, client)
}

func TestJobsPostgres(t *testing.T) {
	t.Parallel()
	b := setupService(t, testenv.PostgresURL(t))
	client, err := river.NewClient(riverpgxv5.New(b.store.PgxPool()), riverConfig(b))
	if err != nil {
		t.Fatal(err)
	}
	exerciseJobs(t, b, client)
}
