package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
)

// bulkEnv is two accounts with synced local storage: A has
// top/one.jpg, top/two.txt, dest/two.txt; B has secret.txt.
type bulkEnv struct {
	*env
	ca, cb       *apitest.Client
	acctA, acctB int64
	one, two     catalog.Asset
	secret       catalog.Asset
	dest         int64
}

func startBulk(t *testing.T, dialect string, mod func(*config.Config)) *bulkEnv {
	e := startWith(t, dialect, mod, nil)
	a, acctA, _ := e.signup("bulk-a@example.com", "A")
	b, acctB, _ := e.signup("bulk-b@example.com", "B")
	e.writeFile("a/top/one.jpg", "one")
	e.writeFile("a/top/two.txt", "two")
	e.writeFile("a/dest/two.txt", "the other two")
	e.writeFile("b/secret.txt", "secret")
	e.connectLocal(a, acctA, "a")
	e.connectLocal(b, acctB, "b")
	be := &bulkEnv{env: e, ca: a, cb: b, acctA: acctA, acctB: acctB}
	be.one, _ = e.asset(acctA, "top/one.jpg")
	be.two, _ = e.asset(acctA, "top/two.txt")
	be.secret, _ = e.asset(acctB, "secret.txt")
	d, err := e.a.Store.GetFolderByPath(context.Background(), acctA, "dest")
	if err != nil || be.one.ID == 0 || be.two.ID == 0 || be.secret.ID == 0 {
		t.Fatalf("the libraries were not synced: %v", err)
	}
	be.dest = d.ID
	return be
}

// results maps each asset id of a bulk answer to its error code ("" when ok).
func results(t *testing.T, r apitest.Response) map[int64]string {
	t.Helper()
	out := map[int64]string{}
	for _, v := range r.List("results") {
		m := v.(map[string]any)
		code := ""
		if m["ok"] != true {
			code, _ = m["error"].(map[string]any)["code"].(string)
			if msg, _ := m["error"].(map[string]any)["message"].(string); msg == "" {
				t.Errorf("asset %v failed without a message: %v", m["asset_id"], m)
			}
		}
		out[apitest.Num(m["asset_id"])] = code
	}
	return out
}

func TestBulkAPI(t *testing.T) {
	t.Parallel()
	forEachDialect(t, func(t *testing.T, dialect string) {
		e := startBulk(t, dialect, nil)
		ids := []int64{e.one.ID, e.two.ID, e.secret.ID}

		// Tag: per file; another account's asset is not found and untouched.
		r := e.ca.Must(200, "POST", "/api/v1/assets/bulk/tag", map[string]any{"asset_ids": ids, "add": []string{"summer", "hero"}})
		if got := results(t, r); got[e.one.ID] != "" || got[e.two.ID] != "" || got[e.secret.ID] != "not_found" || apitest.Num(r.Body["succeeded"]) != 2 || apitest.Num(r.Body["failed"]) != 1 {
			t.Errorf("bulk tag: %s", r.Raw)
		}
		r = e.ca.Must(200, "POST", "/api/v1/assets/bulk/tag", map[string]any{"asset_ids": ids[:2], "remove": []string{"hero"}})
		for _, v := range r.List("results") {
			if tags := v.(map[string]any)["asset"].(map[string]any)["tags"]; !slices.Equal(toStrings(tags), []string{"summer"}) {
				t.Errorf("tags after removing hero: %v", tags)
			}
		}
		if s, _ := e.asset(e.acctB, "secret.txt"); len(s.Tags) != 0 {
			t.Errorf("another account's asset was tagged: %v", s.Tags)
		}

		// Move: two.txt is taken in dest, one.jpg moves (storage first).
		r = e.ca.Must(200, "POST", "/api/v1/assets/bulk/move", map[string]any{"asset_ids": ids, "folder_id": e.dest})
		if got := results(t, r); got[e.one.ID] != "" || got[e.two.ID] != "conflict" || got[e.secret.ID] != "not_found" {
			t.Errorf("bulk move: %s", r.Raw)
		}
		if _, err := os.Stat(filepath.Join(e.local, "a/dest/one.jpg")); err != nil {
			t.Errorf("one.jpg is not in dest in the storage: %v", err)
		}
		if data, _ := os.ReadFile(filepath.Join(e.local, "a/dest/two.txt")); string(data) != "the other two" {
			t.Errorf("the file in the way was changed: %q", data)
		}
		e.ca.Must(400, "POST", "/api/v1/assets/bulk/move", map[string]any{"asset_ids": ids})
		if r := e.ca.Do("POST", "/api/v1/assets/bulk/move", map[string]any{"asset_ids": ids, "folder_id": 99999}); r.Status != 404 {
			t.Errorf("move into an unknown folder: %d %s", r.Status, r.Raw)
		}
		if r := e.ca.Do("POST", "/api/v1/assets/bulk/tag", map[string]any{"asset_ids": []int64{}, "add": []string{"x"}}); r.Status != 400 || r.ErrorCode() != "invalid_field" {
			t.Errorf("no ids: %d %s", r.Status, r.Raw)
		}
		if r := e.ca.Do("POST", "/api/v1/assets/bulk/tag", map[string]any{"ids": ids, "add": []string{"x"}}); r.Status != 400 {
			t.Errorf("a misspelt field: %d %s", r.Status, r.Raw)
		}

		// Roles: a viewer changes nothing, but may download.
		e.ca.Must(201, "POST", "/api/v1/users", map[string]any{"email": "bulk-viewer@example.com", "password": apitest.Password, "role": "viewer"})
		v := apitest.New(t, e.url)
		v.Login("bulk-viewer@example.com", apitest.Password)
		for _, call := range []string{"tag", "move", "delete"} {
			if r := v.Do("POST", "/api/v1/assets/bulk/"+call, map[string]any{"asset_ids": ids, "add": []string{"x"}, "folder_id": nil}); r.Status != 403 {
				t.Errorf("viewer bulk %s: %d %s", call, r.Status, r.Raw)
			}
		}
		if r := v.Do("POST", "/api/v1/assets/zip", map[string]any{"asset_ids": []int64{e.one.ID}}); r.Status != 200 {
			t.Errorf("viewer zip: %d", r.Status)
		}

		// Locked by a sync: 423 for the whole request, nothing changed.
		now := time.Now()
		run, err := e.a.Store.CreateSyncRun(context.Background(), catalog.SyncRun{AccountID: e.acctA, Trigger: catalog.TriggerCLI, State: catalog.RunRunning, StartedAt: &now}, now)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.a.Store.AcquireLease(context.Background(), e.acctA, run.ID, "test", now, time.Hour); err != nil {
			t.Fatal(err)
		}
		for call, body := range map[string]any{
			"tag":    map[string]any{"asset_ids": ids[:2], "add": []string{"locked"}},
			"move":   map[string]any{"asset_ids": ids[:2], "folder_id": nil},
			"delete": map[string]any{"asset_ids": ids[:2]},
		} {
			r := e.ca.Do("POST", "/api/v1/assets/bulk/"+call, body)
			if r.Status != 423 || r.ErrorCode() != "library_locked" || apitest.Num(r.Obj("error")["sync_run_id"]) != run.ID {
				t.Errorf("bulk %s while locked: %d %s", call, r.Status, r.Raw)
			}
		}
		if _, err := os.Stat(filepath.Join(e.local, "a/top/two.txt")); err != nil {
			t.Errorf("a locked delete removed two.txt: %v", err)
		}
		if err := e.a.Store.ReleaseLease(context.Background(), e.acctA, run.ID, "test"); err != nil {
			t.Fatal(err)
		}

		// Delete: storage and library.
		r = e.ca.Must(200, "POST", "/api/v1/assets/bulk/delete", map[string]any{"asset_ids": ids})
		if got := results(t, r); got[e.one.ID] != "" || got[e.two.ID] != "" || got[e.secret.ID] != "not_found" {
			t.Errorf("bulk delete: %s", r.Raw)
		}
		if _, err := os.Stat(filepath.Join(e.local, "a/top/two.txt")); !os.IsNotExist(err) {
			t.Errorf("two.txt is still in the storage: %v", err)
		}
		if _, err := os.Stat(filepath.Join(e.local, "b/secret.txt")); err != nil {
			t.Errorf("another account's file was deleted: %v", err)
		}
	})
}

func toStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

func TestZipAPI(t *testing.T) {
	t.Parallel()
	e := startBulk(t, "sqlite", func(c *config.Config) { c.MaxZipBytes = 100_000 })
	e.writeFile("a/dest/one.jpg", "same name, other folder")
	noise := make([]byte, 60_000) // does not compress: more than the server buffers
	rand.New(rand.NewSource(1)).Read(noise)
	e.writeFile("a/noise.bin", string(noise))
	e.connectLocal(e.ca, e.acctA, "a")
	other, _ := e.asset(e.acctA, "dest/one.jpg")
	noiseAsset, _ := e.asset(e.acctA, "noise.bin")

	// The page's way: a form with the CSRF token; streamed (no length).
	form := url.Values{"csrf_token": {e.ca.CSRF}, "asset_ids": {joinIDs(e.one.ID, other.ID, e.two.ID, e.secret.ID, noiseAsset.ID)}}
	req, _ := http.NewRequest("POST", e.url+"/api/v1/assets/zip", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := e.ca.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/zip" || resp.ContentLength != -1 ||
		!strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("zip: %v %d %v length %d", err, resp.StatusCode, resp.Header, resp.ContentLength)
	}
	files := unzip(t, data)
	if files["one.jpg"] != "one" || files["one (2).jpg"] != "same name, other folder" || files["two.txt"] != "two" || files["noise.bin"] != string(noise) || len(files) != 5 ||
		!strings.Contains(files["NOT-INCLUDED.txt"], "not in this library") || strings.Contains(files["NOT-INCLUDED.txt"], "secret") {
		t.Errorf("zip entries: %v", files)
	}

	// Without the CSRF token a cookie session is refused.
	req, _ = http.NewRequest("POST", e.url+"/api/v1/assets/zip", strings.NewReader("asset_ids="+joinIDs(e.one.ID)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, err := e.ca.HTTP.Do(req); err != nil || resp.StatusCode != 403 {
		t.Errorf("zip without CSRF: %v %v", err, resp)
	} else {
		resp.Body.Close()
	}

	// Only another account's asset: nothing to send.
	if r := e.ca.Do("POST", "/api/v1/assets/zip", map[string]any{"asset_ids": []int64{e.secret.ID}}); r.Status != 404 {
		t.Errorf("zip of another account's asset: %d %s", r.Status, r.Raw)
	}

	// Over the byte limit: refused before streaming, saying what to do.
	e.writeFile("a/big.bin", strings.Repeat("x", 90_000))
	e.connectLocal(e.ca, e.acctA, "a")
	big, _ := e.asset(e.acctA, "big.bin")
	if r := e.ca.Do("POST", "/api/v1/assets/zip", map[string]any{"asset_ids": []int64{big.ID, noiseAsset.ID}}); r.Status != 413 || r.ErrorCode() != "zip_too_large" ||
		!strings.Contains(r.Obj("error")["message"].(string), "Select fewer") {
		t.Errorf("zip over the limit: %d %s", r.Status, r.Raw)
	}

	// A file that grew past the limit since the sync: the download is cut,
	// never a complete-looking archive.
	e.writeFile("a/top/two.txt", strings.Repeat("y", 150_000))
	req, _ = http.NewRequest("POST", e.url+"/api/v1/assets/zip", strings.NewReader(`{"asset_ids":[`+joinIDs(e.one.ID, e.two.ID)+`]}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", e.ca.CSRF)
	resp, err = e.ca.HTTP.Do(req)
	if err == nil {
		data, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Errorf("a zip cut at the limit was sent whole: %d, %d bytes", resp.StatusCode, len(data))
		}
	}
}

func joinIDs(ids ...int64) string {
	var s []string
	for _, id := range ids {
		s = append(s, itoa(id))
	}
	return strings.Join(s, ",")
}

func unzip(t *testing.T, data []byte) map[string]string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip (%d bytes): %v", len(data), err)
	}
	out := map[string]string{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		out[f.Name] = string(b)
	}
	return out
}
