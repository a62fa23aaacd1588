package app_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

// A live batch holds the library lease while it talks to the storage (the
// Stat calls and subtree listings of a scoped batch, the whole listing of
// a catch-up/overflow re-list), not only for its own transaction. With a
// slow storage, a user's write waits liveWaitLimit (10 s) and then gets
// 423 naming a live run that shows as succeeded, while GET /api/v1/sync
// says idle (no "Syncing…" banner).
func TestLiveBatchReadsStorageBeforeLocking(t *testing.T) {
	e := startLive(t, "sqlite")
	s3 := s3fake.Start()
	t.Cleanup(s3.Close)
	_ = s3.CreateBucket("media")
	_ = s3.PutObject("media", "team/a.jpg", []byte("a"))
	c, acct, _ := e.signup("slow@example.com", "Slow S3")
	r := c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "s3", "bucket": "media", "prefix": "team/",
		"endpoint": s3.URL, "path_style": true, "access_key_id": "k", "secret_access_key": "s"})
	e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
	url := c.Must(200, "GET", "/api/v1/storage", nil).Obj("storage")["events_url"].(string)
	e.waitCaughtUp(c)
	a, _ := e.asset(acct, "a.jpg")

	s3.SetLatency(s3fake.OpList, 5*time.Second) // a slow or far-away bucket
	_ = s3.PutObject("media", "team/b.jpg", []byte("b"))
	postEvent(t, url, s3Event("media", "ObjectCreated:Put", "team/b.jpg"), nil)
	time.Sleep(500 * time.Millisecond) // the batch is reading the storage now
	start := time.Now()
	resp := c.Do("PATCH", "/api/v1/assets/"+itoa(a.ID), map[string]any{"tags": []string{"x"}})
	if took := time.Since(start); resp.Status != 200 || took > 3*time.Second {
		t.Errorf("a metadata edit while a live batch reads a slow storage: %d after %s %v", resp.Status, took.Round(time.Millisecond), resp.Body)
	}
	// The edit came between the batch's reading and its applying: the
	// batch reads again, holding the library, and the file still shows.
	waitFor(t, "the new file shows", func() bool { _, ok := e.asset(acct, "b.jpg"); return ok })
}

// A full sync (the daily reconciliation, or Sync now) that held removals
// for confirmation can no longer be confirmed once the next hour's first
// live batch created its run: ConfirmMassDelete wants the held run to be
// the account's latest, and live runs never re-find those removals.
func TestLiveRunDoesNotBlockConfirmingReconciliation(t *testing.T) {
	e := startLive(t, "sqlite")
	s3 := s3fake.Start()
	t.Cleanup(s3.Close)
	_ = s3.CreateBucket("media")
	for i := 0; i < 120; i++ {
		_ = s3.PutObject("media", fmt.Sprintf("team/%03d.jpg", i), []byte(fmt.Sprint(i)))
	}
	c, acct, _ := e.signup("recon@example.com", "Recon")
	r := c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "s3", "bucket": "media", "prefix": "team/",
		"endpoint": s3.URL, "path_style": true, "access_key_id": "k", "secret_access_key": "s"})
	e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
	url := c.Must(200, "GET", "/api/v1/storage", nil).Obj("storage")["events_url"].(string)
	e.waitCaughtUp(c)
	// 70 objects deleted while the webhook was down: no events.
	for i := 0; i < 70; i++ {
		s3del(t, s3, "media", fmt.Sprintf("team/%03d.jpg", i))
	}
	rr := c.Must(202, "POST", "/api/v1/sync", nil)
	held := e.waitRun(acct, apitest.Num(rr.Obj("run")["id"]))
	if held.State != catalog.RunNeedsConfirmation {
		t.Fatalf("manual sync: %+v", held)
	}
	// The hour turns: this hour's live run is last hour's now.
	if _, err := e.a.Store.DB().Exec(e.a.Store.Rebind(`UPDATE sync_runs SET created_at = created_at - 3600000 WHERE trigger = 'live'`)); err != nil {
		t.Fatal(err)
	}
	_ = s3.PutObject("media", "team/new.jpg", []byte("new"))
	postEvent(t, url, s3Event("media", "ObjectCreated:Put", "team/new.jpg"), nil)
	waitFor(t, "the new file shows", func() bool { _, ok := e.asset(acct, "new.jpg"); return ok })
	resp := c.Do("POST", "/api/v1/sync/runs/"+itoa(held.ID)+"/confirm", nil)
	if resp.Status != 202 {
		t.Errorf("confirming the reconciliation's held removals after a live batch: %d %v", resp.Status, resp.Body)
	}
}

// The same with a realistic bucket: 40 ms per LIST call, 400 objects
// uploaded at once (aws s3 cp --recursive). The batch stats the 400 paths
// one after another while holding the library lease.
func TestLiveBulkUploadDoesNotLockLibrary(t *testing.T) {
	e := startLive(t, "sqlite")
	s3 := s3fake.Start()
	t.Cleanup(s3.Close)
	_ = s3.CreateBucket("media")
	_ = s3.PutObject("media", "team/a.jpg", []byte("a"))
	c, acct, _ := e.signup("bulk@example.com", "Bulk S3")
	r := c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "s3", "bucket": "media", "prefix": "team/",
		"endpoint": s3.URL, "path_style": true, "access_key_id": "k", "secret_access_key": "s"})
	e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
	url := c.Must(200, "GET", "/api/v1/storage", nil).Obj("storage")["events_url"].(string)
	e.waitCaughtUp(c)
	a, _ := e.asset(acct, "a.jpg")
	var keys []string
	for i := 0; i < 400; i++ {
		k := fmt.Sprintf("team/upload/%03d.jpg", i)
		_ = s3.PutObject("media", k, []byte(k))
		keys = append(keys, k)
	}
	s3.SetLatency(s3fake.OpList, 40*time.Millisecond)
	postEvent(t, url, s3Event("media", "ObjectCreated:Put", keys...), nil)
	waitFor(t, "the live batch holds the lease", func() bool {
		l, err := e.a.Store.GetLease(t.Context(), acct, e.a.Now())
		return err == nil && l.Live()
	})
	held := time.Now()
	resp := c.Do("PATCH", "/api/v1/assets/"+itoa(a.ID), map[string]any{"tags": []string{"x"}})
	t.Logf("PATCH answered %d after %s", resp.Status, time.Since(held).Round(100*time.Millisecond))
	waitFor(t, "the lease goes", func() bool {
		_, err := e.a.Store.GetLease(t.Context(), acct, e.a.Now())
		return err != nil
	})
	t.Logf("the live batch held the library for %s", time.Since(held).Round(100*time.Millisecond))
	if resp.Status != 200 {
		t.Errorf("a metadata edit during a bulk upload's live batch: %d %v", resp.Status, resp.Body)
	}
}
