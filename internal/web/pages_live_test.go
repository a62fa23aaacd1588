package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/live"
	"github.com/shelf-dam/shelf/internal/policy"
)

// setupLive starts a server whose trial plan (every new account's) syncs
// live, and signs up an admin.
func setupLive(t *testing.T) (*fixture, *client, int64) {
	t.Helper()
	f := setupWith(t, "sqlite", fixtureOptions{policy: policy.Default().WithLive(policy.PlanTrial)})
	admin, body := f.signup("admin@example.com", "Live team")
	return f, admin, accountIDOf(t, body)
}

func connect(t *testing.T, f *fixture, acct int64, kind, config string) {
	t.Helper()
	if _, err := f.store.PutConnection(context.Background(), catalog.Connection{AccountID: acct, Kind: kind, Config: []byte(config), RootKey: config}, f.clock()); err != nil {
		t.Fatal(err)
	}
}

func mustContain(t *testing.T, what, page string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(page, w) {
			t.Errorf("%s lacks %q", what, w)
		}
	}
}

// TestSyncPageSaysHowLiveChangesArrive: on a live plan, Settings → Sync
// says in plain words how changes of the folder reach the library — as
// the watching process reports it — when the last one came, that a full
// check still runs, and labels the hourly live rows of the history.
func TestSyncPageSaysHowLiveChangesArrive(t *testing.T) {
	t.Parallel()
	f, admin, acct := setupLive(t)
	ctx := context.Background()
	connect(t, f, acct, "local", `{"path":"/srv/photos"}`)

	_, _, page := admin.get("/settings/sync")
	mustContain(t, "the sync page before a process watches", page,
		`id="sync-live"`, "Live: Shelf is starting to watch the storage; changes made in the folder will show here within seconds.",
		"Last change from the storage: <span id=\"sync-last-change\">none yet</span>",
		"A full check of the whole storage (reconciliation) still runs every 24 hours", "<dt>Next full check</dt>")

	if _, ok, err := f.store.ClaimLiveWatcher(ctx, acct, "node-1", f.clock(), time.Minute); err != nil || !ok {
		t.Fatalf("claiming the account: %v %v", ok, err)
	}
	if err := f.store.SetLiveWatcherMode(ctx, acct, "node-1", live.ModePush, "Changes in the folder are noticed as they happen (filesystem notifications)."); err != nil {
		t.Fatal(err)
	}
	if err := f.store.SetLastChange(ctx, acct, f.clock().Add(-2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	run, err := f.store.CreateSyncRun(ctx, catalog.SyncRun{AccountID: acct, Trigger: catalog.TriggerLive, State: catalog.RunRunning}, f.clock())
	if err != nil {
		t.Fatal(err)
	}
	end := f.clock()
	run.State, run.FinishedAt, run.Counts = catalog.RunSucceeded, &end, catalog.Counts{Seen: 2, Added: 2}
	if err := f.store.UpdateSyncRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	_, _, page = admin.get("/settings/sync")
	mustContain(t, "the sync page of a watched folder", page,
		`data-mode="push"`, "Live: changes made in the folder show here within seconds (filesystem notifications).",
		`<time datetime="2026-03-01T11:58:00Z">2026-03-01 11:58 UTC</time>`,
		fmt.Sprintf(`<tr data-run="%d"><td>%d</td><td>Live changes (hourly total)</td>`, run.ID, run.ID),
		"Live changes are summed into one row per hour")
	if strings.Contains(page, `id="sync-live-note"`) {
		t.Errorf("the sync page repeats the watcher's note of a watched folder")
	}

	reason := "This folder cannot be watched (it is on an NFS mount), so Shelf looks for changes every 30s instead."
	if err := f.store.SetLiveWatcherMode(ctx, acct, "node-1", live.ModePolling, reason); err != nil {
		t.Fatal(err)
	}
	_, _, page = admin.get("/settings/sync")
	mustContain(t, "the sync page of a polled folder", page,
		"Live, by polling: changes made in the folder show here within about 30 seconds.", html.EscapeString(reason))

	if err := f.store.SetLiveWatcherMode(ctx, acct, "node-1", live.ModeError, "Watching stopped: the folder is gone."); err != nil {
		t.Fatal(err)
	}
	_, _, page = admin.get("/settings/sync")
	mustContain(t, "the sync page of a failed watch", page, `class="live-state live-error"`,
		"Live sync has stopped for now: changes made in the folder show at the next full check or manual sync.", "Watching stopped: the folder is gone.")

	// A live batch holds the library a moment and changes wait for it: the
	// pages show no lock.
	if _, err := f.store.AcquireLease(ctx, acct, run.ID, "node-1"+catalog.LiveHolderSuffix, f.clock(), time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, _, page = admin.get("/library"); strings.Contains(page, `data-locked="true"`) {
		t.Errorf("the library page shows a live batch as a locked library")
	}
}

// TestSyncPageWithoutLivePlan: the built-in plans do not sync live, and
// the page says nothing about it.
func TestSyncPageWithoutLivePlan(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	admin, body := f.signup("admin@example.com", "Team")
	connect(t, f, accountIDOf(t, body), "local", `{"path":"/srv/photos"}`)
	_, _, page := admin.get("/settings/sync")
	if strings.Contains(page, `id="sync-live"`) || !strings.Contains(page, "<dt>Next automatic sync</dt>") {
		t.Errorf("the sync page of a plan without live sync talks of it")
	}
	if _, _, page = admin.get("/settings/storage"); strings.Contains(page, `id="live-setup"`) {
		t.Errorf("the storage page of a plan without live sync talks of it")
	}
}

// TestStoragePageShowsTheEventsURL: an admin of a live S3 account finds
// the events URL (the one the API returns) with copy-paste setup for AWS,
// MinIO and versitygw; a reconnect shows the new URL. A local folder needs
// nothing set up.
func TestStoragePageShowsTheEventsURL(t *testing.T) {
	t.Parallel()
	f, admin, acct := setupLive(t)
	connect(t, f, acct, "s3", `{"bucket":"media","prefix":"team/","region":"eu-west-1","endpoint":"http://127.0.0.1:9000","path_style":true}`)
	eventsURL := func() string {
		code, body := admin.do("GET", "/api/v1/storage", nil)
		u, _ := obj(body["storage"])["events_url"].(string)
		if code != http.StatusOK || !strings.HasPrefix(u, f.cfg.PublicURL+"/api/v1/storage/events/") {
			t.Fatalf("GET /api/v1/storage: %d %v", code, body)
		}
		return u
	}
	first := eventsURL()
	_, _, page := admin.get("/settings/storage")
	mustContain(t, "the storage page of a live S3 account", page,
		`<input id="events-url" class="mono" readonly value="`+first+`"`, `data-copy="events-url"`,
		"A new URL is made on every reconnect",
		// AWS: SNS topic allowed for the bucket, subscription, bucket events.
		"aws sns create-topic --name shelf-events --region eu-west-1",
		"arn:aws:s3:::media",
		"aws sns subscribe --topic-arn TOPIC_ARN --protocol http --notification-endpoint '"+first+"'",
		"Shelf confirms the subscription itself",
		"s3:ObjectCreated:*", "s3:ObjectRemoved:*", "aws s3api put-bucket-notification-configuration --bucket media",
		// MinIO.
		`mc admin config set ALIAS notify_webhook:shelf endpoint="`+first+`"`,
		"mc admin service restart ALIAS",
		"mc event add ALIAS/media arn:minio:sqs::shelf:webhook --event put,delete",
		// versitygw.
		"versitygw --event-webhook-url '"+first+"'", "(re)start it once Shelf is reachable")

	connect(t, f, acct, "s3", `{"bucket":"media","prefix":"team/","region":"eu-west-1"}`)
	second := eventsURL()
	if second == first {
		t.Fatal("a reconnect kept the events URL")
	}
	_, _, page = admin.get("/settings/storage")
	if !strings.Contains(page, `value="`+second+`"`) || strings.Contains(page, first) {
		t.Errorf("the storage page after a reconnect does not show the new URL alone")
	}

	connect(t, f, acct, "local", `{"path":"/srv/photos"}`)
	_, _, page = admin.get("/settings/storage")
	mustContain(t, "the storage page of a live folder", page, `id="live-setup"`, "Nothing to set up: Shelf watches the folder with filesystem notifications")
	if strings.Contains(page, `id="events-url"`) {
		t.Errorf("the storage page of a local folder offers an events URL")
	}
}

// While search catches up with a big import the library page says so, and
// stops saying it once the catch-up is done.
func TestLibraryPageSaysIndexing(t *testing.T) {
	t.Parallel()
	f, admin, acct := setupLive(t)
	ctx := context.Background()
	if err := f.store.StartSearchBacklog(ctx, acct, time.Now()); err != nil {
		t.Fatal(err)
	}
	_, _, page := admin.get("/library")
	mustContain(t, "the library while search catches up", page, "Indexing… search is catching up")
	if _, err := f.store.FillSearchBacklog(ctx, acct, 100); err != nil {
		t.Fatal(err)
	}
	if _, _, page = admin.get("/library"); strings.Contains(page, "Indexing…") {
		t.Fatal("the library still says indexing after the catch-up")
	}
}
