package app_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
)

// connectLocal connects the env's local root (or a folder in it) and waits
// for the initial sync.
func (e *env) connectLocal(c *apitest.Client, accountID int64, sub string) catalog.SyncRun {
	e.t.Helper()
	p := e.local
	if sub != "" {
		p = filepath.Join(e.local, sub)
		if err := os.MkdirAll(p, 0o755); err != nil {
			e.t.Fatal(err)
		}
	}
	r := c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "local", "path": p})
	return e.waitRun(accountID, apitest.Num(r.Obj("sync_run")["id"]))
}

func TestManualSyncCooldownByPlan(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		for _, tc := range []struct {
			plan     string
			cooldown time.Duration
		}{{"free", time.Hour}, {"payg", 15 * time.Minute}} {
			c, acct, _ := e.signup(tc.plan+"@example.com", tc.plan)
			e.writeFile(tc.plan+"/a.txt", "a")
			e.connectLocal(c, acct, tc.plan)
			if _, err := e.a.SetPlan(context.Background(), acct, tc.plan); err != nil {
				t.Fatal(err)
			}
			// The initial sync does not start the cooldown: the first manual
			// sync is allowed.
			r := c.Must(202, "POST", "/api/v1/sync", nil)
			run := e.waitRun(acct, apitest.Num(r.Obj("run")["id"]))
			if run.Trigger != "manual" || run.State != catalog.RunSucceeded {
				t.Fatalf("%s manual run: %+v", tc.plan, run)
			}
			r = c.Do("POST", "/api/v1/sync", nil)
			secs, _ := strconv.Atoi(r.Header.Get("Retry-After"))
			want := int(tc.cooldown.Seconds())
			if r.Status != http.StatusTooManyRequests || r.ErrorCode() != "sync_not_available" || secs < want-5 || secs > want {
				t.Fatalf("%s second manual sync: %d Retry-After %q %s", tc.plan, r.Status, r.Header.Get("Retry-After"), r.Raw)
			}
			errBody := r.Obj("error")
			if errBody["plan_allowing_now"] != "micro" || errBody["available_at"] == nil || !strings.Contains(errBody["message"].(string), tc.plan) {
				t.Fatalf("%s 429 body: %s", tc.plan, r.Raw)
			}
			st := c.Must(200, "GET", "/api/v1/sync", nil)
			if st.Body["manual_sync_allowed"] != false || st.Body["manual_sync_available_at"] == nil || st.Body["plan_allowing_manual_now"] != "micro" || st.Body["next_auto_sync_at"] != nil {
				t.Fatalf("%s sync state: %s", tc.plan, st.Raw)
			}
			// A plan change takes effect at once.
			if _, err := e.a.SetPlan(context.Background(), acct, "small"); err != nil {
				t.Fatal(err)
			}
			st = c.Must(200, "GET", "/api/v1/sync", nil)
			if st.Body["manual_sync_allowed"] != true || st.Body["next_auto_sync_at"] == nil {
				t.Fatalf("%s after upgrade: %s", tc.plan, st.Raw)
			}
			c.Must(202, "POST", "/api/v1/sync", nil)
		}
	})
}

func TestLibraryLockedWhileSyncRuns(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		c, acct, _ := e.signup("ed@example.com", "A")
		e.writeFile("lock/photos/a.jpg", "jpeg bytes")
		e.connectLocal(c, acct, "lock")
		assets := c.Must(200, "GET", "/api/v1/assets?recursive=true", nil).List("assets")
		folders := c.Must(200, "GET", "/api/v1/folders", nil).List("folders")
		if len(assets) != 1 || len(folders) != 1 {
			t.Fatalf("library: %d assets %d folders", len(assets), len(folders))
		}
		assetID := itoa(apitest.Num(assets[0].(map[string]any)["id"]))
		folderID := itoa(apitest.Num(folders[0].(map[string]any)["id"]))

		// Hold the lease as a running sync would.
		ctx := context.Background()
		now := time.Now()
		run, err := e.a.Store.CreateSyncRun(ctx, catalog.SyncRun{AccountID: acct, Trigger: catalog.TriggerManual, State: catalog.RunRunning, StartedAt: &now}, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.Store.AcquireLease(ctx, acct, run.ID, "test-holder", now, time.Hour); err != nil {
			t.Fatal(err)
		}
		upload := func() any {
			var buf bytes.Buffer
			mw := multipart.NewWriter(&buf)
			fw, _ := mw.CreateFormFile("file", "new.txt")
			fw.Write([]byte("new"))
			mw.Close()
			return apitest.Multipart{Body: &buf, ContentType: mw.FormDataContentType()}
		}
		mutations := []struct {
			method, path string
			body         func() any
		}{
			{"POST", "/api/v1/assets", upload},
			{"PATCH", "/api/v1/assets/" + assetID, func() any { return map[string]any{"title": "Hero"} }},
			{"PATCH", "/api/v1/assets/" + assetID, func() any { return map[string]any{"name": "b.jpg"} }},
			{"PATCH", "/api/v1/assets/" + assetID, func() any { return map[string]any{"folder_id": nil} }},
			{"DELETE", "/api/v1/assets/" + assetID, func() any { return nil }},
			{"POST", "/api/v1/folders", func() any { return map[string]any{"name": "New"} }},
			{"PATCH", "/api/v1/folders/" + folderID, func() any { return map[string]any{"name": "Pictures"} }},
			{"DELETE", "/api/v1/folders/" + folderID, func() any { return nil }},
		}
		for _, m := range mutations {
			r := c.Do(m.method, m.path, m.body())
			if r.Status != http.StatusLocked || r.ErrorCode() != "library_locked" || apitest.Num(r.Obj("error")["sync_run_id"]) != run.ID {
				t.Errorf("%s %s while locked: %d %s", m.method, m.path, r.Status, r.Raw)
			}
		}
		// Reading, browsing, searching and downloading keep working.
		c.Must(200, "GET", "/api/v1/assets?q=a", nil)
		c.Must(200, "GET", "/api/v1/folders?parent="+folderID, nil)
		c.Must(200, "GET", "/api/v1/assets/"+assetID, nil)
		if d := c.Do("GET", "/api/v1/assets/"+assetID+"/download", nil); d.Status != 200 || string(d.Raw) != "jpeg bytes" {
			t.Fatalf("download while locked: %d %q", d.Status, d.Raw)
		}
		st := c.Must(200, "GET", "/api/v1/sync", nil)
		if st.Body["state"] != "running" {
			t.Fatalf("sync state while locked: %s", st.Raw)
		}
		// Nothing changed in the storage.
		if _, err := os.Stat(filepath.Join(e.local, "lock/photos/a.jpg")); err != nil {
			t.Fatal("a refused change touched the storage")
		}
		if _, err := os.Stat(filepath.Join(e.local, "lock/new.txt")); err == nil {
			t.Fatal("a refused upload reached the storage")
		}

		// After the run ends, the same calls succeed.
		if err := e.a.Store.ReleaseLease(ctx, acct, run.ID, "test-holder"); err != nil {
			t.Fatal(err)
		}
		end := time.Now()
		run.State, run.FinishedAt = catalog.RunSucceeded, &end
		if err := e.a.Store.UpdateSyncRun(ctx, run); err != nil {
			t.Fatal(err)
		}
		c.Must(200, "PATCH", "/api/v1/assets/"+assetID, map[string]any{"title": "Hero", "tags": []string{"Spring", "hero"}, "rating": 4})
		c.Must(201, "POST", "/api/v1/assets", upload())
		c.Must(200, "PATCH", "/api/v1/assets/"+assetID, map[string]any{"name": "b.jpg"})
		if _, err := os.Stat(filepath.Join(e.local, "lock/photos/b.jpg")); err != nil {
			t.Fatal("rename did not reach the storage")
		}
		got := c.Must(200, "GET", "/api/v1/assets?tag=spring", nil).List("assets")
		if len(got) != 1 || got[0].(map[string]any)["title"] != "Hero" {
			t.Fatalf("tag search after edit: %v", got)
		}
		// The next sync finds nothing to do.
		r := c.Must(202, "POST", "/api/v1/sync", nil)
		after := e.waitRun(acct, apitest.Num(r.Obj("run")["id"]))
		if k := after.Counts; k.Added+k.Updated+k.Moved+k.Removed != 0 {
			t.Fatalf("sync after library writes changed things: %+v", k)
		}
	})
}

// readEvents collects SSE events of a stream until ctx ends.
func readEvents(ctx context.Context, t *testing.T, c *apitest.Client, out chan<- map[string]any) {
	req, _ := http.NewRequestWithContext(ctx, "GET", c.Base+"/api/v1/events", nil)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("events: %d", resp.StatusCode)
		return
	}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			ev := map[string]any{}
			if json.Unmarshal([]byte(data), &ev) == nil {
				out <- ev
			}
		}
	}
}

func TestEventsReachOnlyTheirAccount(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		a, accA, _ := e.signup("a@example.com", "A")
		b, accB, _ := e.signup("b@example.com", "B")
		e.writeFile("a/x.txt", "x")
		e.writeFile("b/y.txt", "y")
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		evA := make(chan map[string]any, 100)
		go readEvents(ctx, t, a, evA)
		time.Sleep(200 * time.Millisecond) // let the stream subscribe
		// B syncs first, then A.
		e.connectLocal(b, accB, "b")
		e.connectLocal(a, accA, "a")
		for {
			select {
			case ev := <-evA:
				if apitest.Num(ev["account_id"]) != accA {
					t.Fatalf("account A received another account's event: %v", ev)
				}
				if ev["type"] == "sync.completed" {
					return
				}
			case <-ctx.Done():
				t.Fatal("account A never received its sync.completed")
			}
		}
	})
}
