package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// seedTwins writes file-0500.txt into each of the folders named, straight
// into the catalog, and returns the folders' ids in order.
func seedTwins(t *testing.T, f *fixture, accountID int64, folders ...string) []int64 {
	t.Helper()
	var ids []int64
	err := f.store.SyncApply(context.Background(), accountID, f.clock(), func(tx *catalog.SyncTx) error {
		for _, name := range folders {
			id, err := tx.AddFolder(nil, name, name, name)
			if err != nil {
				return err
			}
			ids = append(ids, id)
			p := name + "/file-0500.txt"
			if _, err := tx.AddAsset(&id, catalog.SyncFile{StorageID: p, Name: "file-0500.txt", Path: p, Size: 5, MIME: "text/plain"}); err != nil {
				return err
			}
		}
		_, err := tx.AddAsset(nil, catalog.SyncFile{StorageID: "file-0500.txt", Name: "file-0500.txt", Path: "file-0500.txt", Size: 5, MIME: "text/plain"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func TestSearchShowsCountQueryAndFolders(t *testing.T) {
	t.Parallel()
	forEachDialect(t, testSearchShowsCountQueryAndFolders)
}

func testSearchShowsCountQueryAndFolders(t *testing.T, f *fixture) {
	c, sb := f.signup("admin@example.com", "Team")
	acct := accountIDOf(t, sb)
	ids := seedTwins(t, f, acct, "Clients", "Archive", "Photos")

	// Everywhere: the count, the query, and where each same-named file is,
	// with a link to its folder.
	code, _, body := c.get("/library?q=file-0500")
	if code != http.StatusOK {
		t.Fatalf("search: %d", code)
	}
	if !strings.Contains(body, "4 files match “file-0500” everywhere") {
		t.Errorf("search page lacks the summary; got %s", between(body, `id="search-summary"`, "</p>"))
	}
	for i, name := range []string{"Clients", "Archive", "Photos"} {
		link := fmt.Sprintf(`class="asset-folder" href="/library/folder/%d"`, ids[i])
		if !strings.Contains(body, link) || !strings.Contains(body, "</span>"+name+"</a>") {
			t.Errorf("result in %s lacks its folder path and link", name)
		}
	}
	if !strings.Contains(body, `class="asset-folder" href="/library"`) || !strings.Contains(body, "</span>Top level</a>") {
		t.Errorf("the top-level result does not say where it is")
	}

	// In one folder, the summary names it; one match is "1 file matches".
	code, _, body = c.get(fmt.Sprintf("/library/folder/%d?q=file-0500", ids[2]))
	if code != http.StatusOK || !strings.Contains(body, "1 file matches “file-0500” in Photos") {
		t.Errorf("folder search: %d, summary %s", code, between(body, `id="search-summary"`, "</p>"))
	}
	// The list view shows the folders too.
	_, _, body = c.get("/library?q=file-0500&view=list")
	if strings.Count(body, `class="asset-folder"`) != 4 {
		t.Errorf("list view shows %d folder links, want 4", strings.Count(body, `class="asset-folder"`))
	}
	// Browsing a folder is no search: no summary, no folder per card.
	_, _, body = c.get(fmt.Sprintf("/library/folder/%d", ids[0]))
	if strings.Contains(body, `id="search-summary"`) || strings.Contains(body, `class="asset-folder"`) {
		t.Errorf("a folder page shows search context")
	}

	// The API says the same.
	code, res := c.do("GET", "/api/v1/assets?q=file-0500", nil)
	if code != http.StatusOK || num(res["total"]) != 4 || res["total_capped"] != false {
		t.Fatalf("API search: %d total=%v capped=%v", code, res["total"], res["total_capped"])
	}
	paths := map[string]bool{}
	for _, a := range res["assets"].([]any) {
		paths[obj(a)["folder_path"].(string)] = true
	}
	for _, want := range []string{"", "Clients", "Archive", "Photos"} {
		if !paths[want] {
			t.Errorf("API results lack folder_path %q: %v", want, paths)
		}
	}
}

func TestSearchCountIsBounded(t *testing.T) {
	t.Parallel()
	f := setup(t, "sqlite")
	c, sb := f.signup("admin@example.com", "Team")
	acct := accountIDOf(t, sb)
	seedLibrary(t, f, acct, searchCountBound+1)

	_, _, body := c.get("/library?q=photo&tag=&type=image/")
	if !strings.Contains(html.UnescapeString(body), "1,000+ files match “photo” of type Images everywhere") {
		t.Errorf("capped summary: %s", between(body, `id="search-summary"`, "</p>"))
	}
	code, res := c.do("GET", "/api/v1/assets?q=photo&limit=10", nil)
	if code != http.StatusOK || num(res["total"]) != searchCountBound || res["total_capped"] != true {
		t.Errorf("API capped count: %d total=%v capped=%v", code, res["total"], res["total_capped"])
	}
	code, res = c.do("GET", "/api/v1/assets?q=photo-000&limit=3", nil)
	if code != http.StatusOK || num(res["total"]) != 10 || res["total_capped"] != false || len(res["assets"].([]any)) != 3 {
		t.Errorf("API count counts past the page: %d total=%v capped=%v", code, res["total"], res["total_capped"])
	}
}

// between is the text of s from the first start up to the next end, for
// failure messages.
func between(s, start, end string) string {
	i := strings.Index(s, start)
	if i < 0 {
		return "(none)"
	}
	s = s[i:]
	if j := strings.Index(s, end); j >= 0 {
		return s[:j]
	}
	return s
}
