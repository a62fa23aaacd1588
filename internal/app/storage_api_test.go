package app_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

func TestConnectStorageRefusesBadInputWithFieldErrors(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	admin, acct, _ := e.signup("admin@example.com", "A")
	s3 := s3fake.Start()
	t.Cleanup(s3.Close)
	if err := s3.CreateBucket("media"); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"no kind", map[string]any{}, "kind"},
		{"unknown kind", map[string]any{"kind": "ftp"}, "kind"},
		{"local without path", map[string]any{"kind": "local"}, "path"},
		{"local outside the allowed roots", map[string]any{"kind": "local", "path": outside}, "path"},
		{"local missing folder", map[string]any{"kind": "local", "path": filepath.Join(e.local, "nope")}, "path"},
		{"s3 without bucket or keys", map[string]any{"kind": "s3"}, "bucket"},
		{"s3 missing bucket", map[string]any{"kind": "s3", "bucket": "nosuchbucket", "endpoint": s3.URL, "path_style": true, "access_key_id": "k", "secret_access_key": "s"}, "bucket"},
		{"gdrive without folder", map[string]any{"kind": "gdrive"}, "folder_id"},
		{"gdrive without authorization", map[string]any{"kind": "gdrive", "folder_id": "abc"}, "folder_id"},
		{"gdrive bad key", map[string]any{"kind": "gdrive", "folder_id": "abc", "service_account_json": "{}"}, "service_account_json"},
	}
	for _, tc := range cases {
		r := admin.Do("PUT", "/api/v1/storage", tc.body)
		fields, _ := r.Obj("error")["fields"].(map[string]any)
		if r.Status != http.StatusUnprocessableEntity || r.ErrorCode() != "invalid_storage" || fields[tc.field] == nil {
			t.Errorf("%s: %d %s, want 422 with a %s field error", tc.name, r.Status, r.Raw, tc.field)
		}
	}
	if _, err := e.a.Store.GetConnection(context.Background(), acct); err == nil {
		t.Fatal("a refused connection was stored")
	}

	// Wrong S3 keys name the key field.
	s3.FailNext(s3fake.OpAny, 1, s3fake.FaultInvalidKey)
	r := admin.Do("PUT", "/api/v1/storage", map[string]any{"kind": "s3", "bucket": "media", "endpoint": s3.URL, "path_style": true, "access_key_id": "wrong", "secret_access_key": "s"})
	fields, _ := r.Obj("error")["fields"].(map[string]any)
	if r.Status != 422 || fields["access_key_id"] == nil {
		t.Fatalf("wrong key: %d %s", r.Status, r.Raw)
	}

	// A good S3 connection is stored; the secret never comes back.
	r = admin.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "s3", "bucket": "media", "prefix": "team/", "endpoint": s3.URL, "path_style": true, "access_key_id": "AKIATEST", "secret_access_key": "very-secret-value"})
	if strings.Contains(string(r.Raw), "very-secret-value") || r.Obj("storage")["kind"] != "s3" || r.Obj("sync_run") == nil {
		t.Fatalf("connect answer: %s", r.Raw)
	}
	g := admin.Must(200, "GET", "/api/v1/storage", nil)
	if strings.Contains(string(g.Raw), "very-secret-value") || g.Obj("storage")["status"] != "ok" {
		t.Fatalf("storage answer: %s", g.Raw)
	}
	conn, err := e.a.Store.GetConnection(context.Background(), acct)
	if err != nil || strings.Contains(string(conn.Secret), "very-secret-value") || strings.Contains(string(conn.Config), "very-secret-value") {
		t.Fatalf("secret stored in clear: %v", err)
	}
	e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))

	// Viewers and editors cannot touch storage.
	admin.Must(201, "POST", "/api/v1/users", map[string]any{"email": "ed@example.com", "password": apitest.Password, "role": "editor"})
	ed := apitest.New(t, e.url)
	ed.Login("ed@example.com", apitest.Password)
	if r := ed.Do("PUT", "/api/v1/storage", map[string]any{"kind": "local", "path": e.local}); r.Status != 403 {
		t.Fatalf("editor connects storage: %d", r.Status)
	}
}

func TestChangingTheRootNeedsConfirmation(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	admin, acct, _ := e.signup("admin@example.com", "A")
	e.writeFile("one/a.txt", "a")
	r := admin.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "local", "path": e.local})
	run := e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
	if run.State != catalog.RunSucceeded || run.Counts.Added != 2 {
		t.Fatalf("initial sync: %+v", run)
	}
	other := filepath.Join(e.local, "one")
	r = admin.Do("PUT", "/api/v1/storage", map[string]any{"kind": "local", "path": other})
	if r.Status != http.StatusConflict || r.ErrorCode() != "root_change_needs_confirmation" {
		t.Fatalf("root change without confirmation: %d %s", r.Status, r.Raw)
	}
	r = admin.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "local", "path": other, "confirm_root_change": true})
	if r.Body["library_reset"] != true {
		t.Fatalf("root change: %s", r.Raw)
	}
	run = e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
	list := admin.Must(200, "GET", "/api/v1/assets?recursive=true", nil)
	if n := len(list.List("assets")); n != 1 || run.Counts.Added != 1 {
		t.Fatalf("after root change: %d assets, run %+v", n, run)
	}
}

func TestGoogleDriveOAuthConnect(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	admin, acct, _ := e.signup("admin@example.com", "A")
	folder := e.drive.CreateFolder(e.drive.RootID(), "Marketing")
	e.drive.CreateFolder(folder, "Logos")

	// start → Google (the fake) → callback, following redirects by hand.
	r := admin.Do("GET", "/oauth/google/start", nil)
	loc, _ := url.Parse(r.Header.Get("Location"))
	if r.Status != http.StatusFound || loc.Query().Get("code_challenge_method") != "S256" || loc.Query().Get("state") == "" {
		t.Fatalf("start: %d %s", r.Status, r.Header.Get("Location"))
	}
	resp, err := admin.HTTP.Get(loc.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, _ := url.Parse(resp.Header.Get("Location"))

	// A tampered state is refused and stores nothing.
	bad := *cb
	q := bad.Query()
	q.Set("state", "forged")
	bad.RawQuery = q.Encode()
	r = admin.Do("GET", bad.RequestURI(), nil)
	if !strings.Contains(r.Header.Get("Location"), "drive_error=") {
		t.Fatalf("forged state: %d %s", r.Status, r.Header.Get("Location"))
	}
	if _, err := e.a.Store.GetOAuthGrant(context.Background(), acct); err == nil {
		t.Fatal("a grant was stored for a forged state")
	}
	// Another admin cannot finish this admin's authorization.
	other, _, _ := e.signup("other@example.com", "B")
	if r := other.Do("GET", cb.RequestURI(), nil); !strings.Contains(r.Header.Get("Location"), "drive_error=") {
		t.Fatalf("another account used the state: %s", r.Header.Get("Location"))
	}
	// The other account's attempt consumed the state; start again.
	r = admin.Do("GET", "/oauth/google/start", nil)
	resp, err = admin.HTTP.Get(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cb, _ = url.Parse(resp.Header.Get("Location"))
	r = admin.Do("GET", cb.RequestURI(), nil)
	if !strings.HasSuffix(r.Header.Get("Location"), "drive=authorized") {
		t.Fatalf("callback: %d %s", r.Status, r.Header.Get("Location"))
	}
	// Replaying the callback is refused (state is single-use).
	if r := admin.Do("GET", cb.RequestURI(), nil); !strings.Contains(r.Header.Get("Location"), "drive_error=") {
		t.Fatalf("replayed callback: %s", r.Header.Get("Location"))
	}

	// The folder picker lists My Drive's folders.
	pick := admin.Must(200, "GET", "/api/v1/storage/gdrive/folders", nil)
	found := false
	for _, f := range pick.List("folders") {
		found = found || f.(map[string]any)["name"] == "Marketing"
	}
	if !found {
		t.Fatalf("picker: %s", pick.Raw)
	}
	// A file is not a folder.
	if r := admin.Do("PUT", "/api/v1/storage", map[string]any{"kind": "gdrive", "folder_id": "no-such-id"}); r.Status != 422 {
		t.Fatalf("unknown folder: %d %s", r.Status, r.Raw)
	}
	r = admin.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "gdrive", "folder_id": folder})
	run := e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
	if run.State != catalog.RunSucceeded || run.Counts.Added != 1 {
		t.Fatalf("drive sync: %+v", run)
	}
	conn, _ := e.a.Store.GetConnection(context.Background(), acct)
	if strings.Contains(string(conn.Secret), "refresh") {
		t.Fatal("token stored in clear")
	}

	// Revoking the grant marks the connection "needs reconnect" and tells
	// the admins.
	e.drive.RevokeAll()
	e.drive.ExpireAccessTokens()
	r = admin.Must(202, "POST", "/api/v1/sync", nil)
	run = e.waitRun(acct, apitest.Num(r.Obj("run")["id"]))
	if run.State != catalog.RunFailed {
		t.Fatalf("sync after revoke: %+v", run)
	}
	st := admin.Must(200, "GET", "/api/v1/storage", nil)
	if st.Obj("storage")["status"] != "needs_reconnect" {
		t.Fatalf("storage after revoke: %s", st.Raw)
	}
	n := admin.Must(200, "GET", "/api/v1/notifications", nil)
	if !strings.Contains(string(n.Raw), "storage.needs_reconnect") {
		t.Fatalf("no reconnect notification: %s", n.Raw)
	}
}

func TestGoogleDriveServiceAccountConnect(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	admin, acct, _ := e.signup("admin@example.com", "A")
	folder := e.drive.CreateFolder(e.drive.RootID(), "Shared with Shelf")
	e.drive.CreateFolder(folder, "Campaign")
	key, err := e.drive.ServiceAccountKey("shelf@project.iam.gserviceaccount.com")
	if err != nil {
		t.Fatal(err)
	}
	r := admin.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "gdrive", "folder_id": folder, "service_account_json": string(key)})
	if strings.Contains(string(r.Raw), "PRIVATE KEY") {
		t.Fatal("the key came back in the answer")
	}
	run := e.waitRun(acct, apitest.Num(r.Obj("sync_run")["id"]))
	if run.State != catalog.RunSucceeded || run.Counts.Added != 1 {
		t.Fatalf("service-account sync: %+v", run)
	}
	conn, _ := e.a.Store.GetConnection(context.Background(), acct)
	if strings.Contains(string(conn.Secret), "PRIVATE KEY") {
		t.Fatal("service-account key stored in clear")
	}
}
