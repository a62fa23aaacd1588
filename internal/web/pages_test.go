package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/catalog"
)

// get fetches a page (no redirects followed) and returns status, location
// and body.
func (c *client) get(path string) (int, string, string) {
	c.f.t.Helper()
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Get(c.f.srv.URL + path)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// seedLibrary writes folders a, a/b and n assets into a/b straight into
// the catalog, as a sync would.
func seedLibrary(t *testing.T, f *fixture, accountID int64, n int) (a, b int64) {
	t.Helper()
	mod := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	err := f.store.SyncApply(context.Background(), accountID, f.clock(), func(tx *catalog.SyncTx) error {
		var err error
		if a, err = tx.AddFolder(nil, "a", "a", "a"); err != nil {
			return err
		}
		if b, err = tx.AddFolder(&a, "a/b", "b", "a/b"); err != nil {
			return err
		}
		if _, err := tx.AddAsset(nil, catalog.SyncFile{StorageID: "top.txt", Name: "top.txt", Path: "top.txt", Size: 3, MIME: "text/plain"}); err != nil {
			return err
		}
		for i := range n {
			name := fmt.Sprintf("photo-%04d.jpg", i)
			if _, err := tx.AddAsset(&b, catalog.SyncFile{StorageID: "a/b/" + name, Name: name, Path: "a/b/" + name, Size: int64(1000 + i), MIME: "image/jpeg", ModTime: &mod}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return a, b
}

func accountIDOf(t *testing.T, body map[string]any) int64 {
	t.Helper()
	id := num(obj(body["account"])["id"])
	if id == 0 {
		t.Fatalf("no account id in %v", body)
	}
	return id
}

func TestPagesNeedSignIn(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	c := f.newClient()
	for _, path := range []string{"/library", "/library/folder/1", "/assets/1", "/settings/sync", "/settings/storage", "/team", "/tokens", "/notifications"} {
		code, loc, _ := c.get(path)
		if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/signin?next=") {
			t.Errorf("GET %s signed out: %d %q, want a redirect to sign-in", path, code, loc)
		}
	}
	code, _, body := c.get("/signin")
	if code != http.StatusOK || !strings.Contains(body, `id="signin-form"`) || !strings.Contains(body, `for="email"`) {
		t.Fatalf("sign-in page: %d %s", code, body)
	}
	code, _, body = c.get("/static/app.js")
	if code != http.StatusOK || !strings.Contains(body, "EventSource") {
		t.Fatalf("static script: %d", code)
	}
}

func TestLibraryPagesBrowseAndPaginate(t *testing.T) {
	t.Parallel()
	forEachDialect(t, testLibraryPagesBrowseAndPaginate)
}

func testLibraryPagesBrowseAndPaginate(t *testing.T, f *fixture) {
	c, sb := f.signup("admin@example.com", "Team")
	acct := accountIDOf(t, sb)
	const n = 150
	folderA, folderB := seedLibrary(t, f, acct, n)

	code, _, body := c.get("/library")
	if code != http.StatusOK {
		t.Fatalf("library: %d %s", code, body)
	}
	for _, want := range []string{">a</a>", "top.txt", `id="upload-input"`, `id="new-folder"`} {
		if !strings.Contains(body, want) {
			t.Errorf("library root lacks %q", want)
		}
	}

	// The folder page expands the tree down to the folder and pages the
	// assets by keyset: following the "more" links shows each asset once.
	code, _, body = c.get(fmt.Sprintf("/library/folder/%d", folderB))
	if code != http.StatusOK {
		t.Fatalf("folder: %d", code)
	}
	if !strings.Contains(body, fmt.Sprintf(`href="/library/folder/%d" aria-current="page"`, folderB)) {
		t.Errorf("the tree does not mark folder b as current")
	}
	if !strings.Contains(body, fmt.Sprintf(`href="/library/folder/%d">a</a>`, folderA)) {
		t.Errorf("breadcrumbs lack folder a")
	}
	cardRE := regexp.MustCompile(`data-asset="(\d+)"`)
	moreRE := regexp.MustCompile(`data-more="(/library/items\?[^"]+)"`)
	seen := map[string]bool{}
	pages := 0
	for {
		pages++
		for _, m := range cardRE.FindAllStringSubmatch(body, -1) {
			if seen[m[1]] {
				t.Fatalf("asset %s shown twice", m[1])
			}
			seen[m[1]] = true
		}
		m := moreRE.FindStringSubmatch(body)
		if m == nil {
			break
		}
		code, _, body = c.get(strings.ReplaceAll(m[1], "&amp;", "&"))
		if code != http.StatusOK {
			t.Fatalf("next page: %d %s", code, body)
		}
	}
	// Without script, "Load more" is a whole page continuing the list.
	_, _, body = c.get(fmt.Sprintf("/library/folder/%d", folderB))
	next := regexp.MustCompile(`href="([^"]+)" data-more=`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no whole-page link to the next page")
	}
	code, _, body = c.get(strings.ReplaceAll(next[1], "&amp;", "&"))
	if code != http.StatusOK || !strings.Contains(body, "<html") || !strings.Contains(body, "photo-0060.jpg") || strings.Contains(body, "photo-0059.jpg") {
		t.Errorf("the next whole page does not continue after the first 60 assets (%d)", code)
	}
	if len(seen) != n || pages != 3 {
		t.Fatalf("paging showed %d assets in %d pages, want %d in 3", len(seen), pages, n)
	}

	// List view sorted by size, descending: the largest first.
	_, _, body = c.get(fmt.Sprintf("/library/folder/%d?view=list&sort=size&order=desc", folderB))
	first := strings.Index(body, "photo-0149.jpg")
	second := strings.Index(body, "photo-0148.jpg")
	if first < 0 || second < 0 || first > second || !strings.Contains(body, "<table class=\"list\">") {
		t.Errorf("list view sorted by size desc is wrong (positions %d, %d)", first, second)
	}

	// Search everywhere finds by name.
	_, _, body = c.get("/library?q=photo-0042&scope=all")
	if !strings.Contains(body, "photo-0042.jpg") || strings.Contains(body, "photo-0043.jpg") {
		t.Errorf("search for photo-0042 did not find exactly it")
	}

	// Lazy tree children.
	code, _, body = c.get(fmt.Sprintf("/library/tree?parent=%d", folderA))
	if code != http.StatusOK || !strings.Contains(body, ">b</a>") {
		t.Errorf("tree children of a: %d %s", code, body)
	}

	// The asset page shows the facts and the editable metadata.
	id := 0
	for k := range seen {
		fmt.Sscan(k, &id)
		break
	}
	code, _, body = c.get(fmt.Sprintf("/assets/%d", id))
	if code != http.StatusOK || !strings.Contains(body, "image/jpeg") || !strings.Contains(body, `id="meta-form"`) || !strings.Contains(body, "/download") {
		t.Errorf("asset page: %d", code)
	}
	if code, _, _ := c.get("/assets/999999"); code != http.StatusNotFound {
		t.Errorf("unknown asset: %d, want 404", code)
	}
}

func TestPagesAreRoleAwareAndLockedWhileSyncing(t *testing.T) {
	t.Parallel()
	forEachDialect(t, testPagesAreRoleAwareAndLockedWhileSyncing)
}

func testPagesAreRoleAwareAndLockedWhileSyncing(t *testing.T, f *fixture) {
	admin, sb := f.signup("admin@example.com", "Team")
	acct := accountIDOf(t, sb)
	_, folderB := seedLibrary(t, f, acct, 3)
	code, body := admin.do("POST", "/api/v1/users", map[string]any{"email": "viewer@example.com", "password": "a good long password", "role": "viewer"})
	if code != http.StatusCreated {
		t.Fatalf("create viewer: %d %v", code, body)
	}
	viewer := f.newClient()
	viewer.login("viewer@example.com", "a good long password")

	_, _, page := viewer.get(fmt.Sprintf("/library/folder/%d", folderB))
	if strings.Contains(page, "data-change") || strings.Contains(page, "upload-input") {
		t.Errorf("a viewer sees change controls")
	}
	if code, _, _ := viewer.get("/settings/storage"); code != http.StatusForbidden {
		t.Errorf("viewer on storage settings: %d, want 403", code)
	}
	_, _, page = admin.get("/team")
	if !strings.Contains(page, "viewer@example.com") || !strings.Contains(page, `id="user-form"`) {
		t.Errorf("team page lacks the viewer or the add-user form")
	}

	// A sync holding the lease shows the banner and disables every change
	// control on the server-rendered page.
	ctx := context.Background()
	run, err := f.store.CreateSyncRun(ctx, catalog.SyncRun{AccountID: acct, Trigger: catalog.TriggerManual, State: catalog.RunRunning}, f.clock())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.AcquireLease(ctx, acct, run.ID, "test", f.clock(), time.Hour); err != nil {
		t.Fatal(err)
	}
	_, _, page = admin.get(fmt.Sprintf("/library/folder/%d", folderB))
	if strings.Contains(page, `id="sync-banner" class="banner" role="status" aria-live="polite" hidden`) || !strings.Contains(page, "Syncing…") {
		t.Errorf("the sync banner is not shown while the lease is held")
	}
	controls := regexp.MustCompile(`<(?:button|input)[^>]*data-change[^>]*>`).FindAllString(page, -1)
	if len(controls) == 0 {
		t.Fatal("no change controls found on the admin's folder page")
	}
	for _, c := range controls {
		if !strings.Contains(c, "disabled") {
			t.Errorf("change control not disabled while syncing: %s", c)
		}
	}
	if !strings.Contains(page, `data-locked="true"`) {
		t.Errorf("the page is not marked locked for its script")
	}
	// The Sync page, loaded while the run lists the storage, shows its
	// progress, the run first in History, and no Sync now on offer.
	est, rate := int64(100000), 2500.0
	if err := f.store.UpdateSyncRunProgress(ctx, acct, run.ID, catalog.RunProgress{Counts: catalog.Counts{Seen: 12345, Added: 1234},
		Phase: catalog.PhaseListing, Estimate: &est, RatePerSecond: &rate}); err != nil {
		t.Fatal(err)
	}
	_, _, page = admin.get("/settings/sync")
	for _, want := range []string{
		"Listing the storage: 12,345 seen of about 100,000 · 1,234 added · 0 updated · 0 moved · 0 removed · 2,500 a second · about 36 s left",
		fmt.Sprintf(`<tbody id="runs">
      <tr data-run="%d"><td>%d</td><td>Manual</td><td><span class="state state-running">Running</span>`, run.ID, run.ID),
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the sync page during a run lacks %q", want)
		}
	}
	if !regexp.MustCompile(`id="sync-now"[^>]*disabled`).MatchString(page) || strings.Contains(page, "Available now") {
		t.Errorf("the sync page offers a manual sync while one runs")
	}

	// A run stopped by the mass-delete guard offers admins the confirmation.
	if err := f.store.ReleaseLease(ctx, acct, run.ID, "test"); err != nil {
		t.Fatal(err)
	}
	run.State = catalog.RunNeedsConfirmation
	if err := f.store.UpdateSyncRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	paths := []string{"a/one.jpg", "b/two.jpg"}
	if err := f.store.SetSyncRunHeldRemovals(ctx, acct, run.ID, 150, paths); err != nil {
		t.Fatal(err)
	}
	if _, _, page = admin.get("/settings/sync"); !strings.Contains(page, "Confirm removals") || !strings.Contains(page, `id="sync-now"`) {
		t.Errorf("the admin's sync page lacks the confirmation or Sync now")
	}
	for _, want := range []string{"Sync stopped before removing files", "<strong>150 files</strong> missing from the storage",
		"<li>a/one.jpg</li><li>b/two.jpg</li>", "… and 148 more.", "Stopped: waiting for an admin to confirm removals"} {
		if !strings.Contains(page, want) {
			t.Errorf("the held run's panel lacks %q", want)
		}
	}
	if strings.Contains(page, ">needs_confirmation<") {
		t.Errorf("the sync page shows the raw state")
	}
	if _, _, page = viewer.get("/settings/sync"); strings.Contains(page, "Confirm removals") || strings.Contains(page, `id="sync-now"`) {
		t.Errorf("a viewer's sync page offers changes")
	}
}

func TestSignInFormWorksWithoutScript(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	f.signup("plain@example.com", "Plain")
	c := f.newClient()
	hc := *c.http
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	token := "&csrf_token=" + signInForm(t, c)
	post := func(form string) (*http.Response, string) {
		resp, err := hc.Post(f.srv.URL+"/signin", "application/x-www-form-urlencoded", strings.NewReader(form+token))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post("email=plain%40example.com&password=wrong+password+here&next=%2Fteam")
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "wrong email or password") || !strings.Contains(body, `value="plain@example.com"`) {
		t.Fatalf("wrong password: %d, want 401 with the reason and the email kept", resp.StatusCode)
	}
	resp, _ = post("email=plain%40example.com&password=a+good+long+password&next=%2F%2Fevil.example")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/library" {
		t.Fatalf("sign-in with an off-site next: %d %q, want 303 to /library", resp.StatusCode, resp.Header.Get("Location"))
	}
	hc.Jar.SetCookies(mustURL(f.srv.URL), resp.Cookies())
	code, _, page := c.get("/team")
	if code != http.StatusOK || !strings.Contains(page, "plain@example.com") {
		t.Fatalf("after the form sign-in /team answers %d", code)
	}
}

// TestSignInFormSharesTheLimits: the form shares the API's limits: failed form sign-ins count, and
// a limited form answers 429 with Retry-After and the reason.
func TestSignInFormSharesTheLimits(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	f.signup("limited@example.com", "L")
	for i := 0; i < accounts.MaxSignInFailures; i++ {
		if code, _ := f.newClient().do("POST", "/api/v1/login", map[string]any{"email": "limited@example.com", "password": "wrong password!!"}); code != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d", i, code)
		}
	}
	c := f.newClient()
	form := "email=limited%40example.com&password=a+good+long+password&csrf_token=" + signInForm(t, c)
	resp, err := c.http.Post(f.srv.URL+"/signin", "application/x-www-form-urlencoded", strings.NewReader(form))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" || !strings.Contains(string(body), "too many failed sign-in attempts") {
		t.Fatalf("limited form sign-in: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	if hasSessionCookie(resp) {
		t.Fatal("a refused form sign-in set the session cookie")
	}
}
