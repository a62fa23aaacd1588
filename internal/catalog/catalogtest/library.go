package catalogtest

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// mkFolder creates a folder whose storage identity is its path (S3, local).
func (f *fixture) mkFolder(t *testing.T, acct int64, parent *int64, name string) catalog.Folder {
	t.Helper()
	path := name
	if parent != nil {
		p, err := f.store.GetFolder(f.ctx, acct, *parent)
		must(t, err, "GetFolder %d", *parent)
		path = p.Path + "/" + name
	}
	fo, err := f.store.CreateFolder(f.ctx, acct, 0, parent, name, path, f.now)
	must(t, err, "CreateFolder %s", path)
	return fo
}

// mkAsset adds a file whose storage identity is its path.
func (f *fixture) mkAsset(t *testing.T, acct int64, folder *catalog.Folder, name string, size int64, mod time.Time, mime string) catalog.Asset {
	t.Helper()
	a := catalog.Asset{Name: name, StorageID: name, Size: size, ETag: fmt.Sprintf("etag-%s-%d", name, size), ModTime: &mod, MIME: mime}
	if folder != nil {
		a.FolderID = &folder.ID
		a.StorageID = folder.Path + "/" + name
	}
	out, err := f.store.PutUploadedAsset(f.ctx, acct, 0, a, f.now)
	must(t, err, "PutUploadedAsset %s", a.StorageID)
	return out
}

func testFolders(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx := f.store, f.ctx
	a := f.mkFolder(t, f.accA.ID, nil, "Photos")
	b := f.mkFolder(t, f.accA.ID, &a.ID, "2024")
	c := f.mkFolder(t, f.accA.ID, &b.ID, "Trip ✈ #1")
	f.mkFolder(t, f.accA.ID, nil, "Archive")
	f.mkFolder(t, f.accB.ID, nil, "Other")

	if c.Path != "Photos/2024/Trip ✈ #1" || *c.ParentID != b.ID || c.AccountID != f.accA.ID {
		t.Fatalf("nested folder = %+v", c)
	}
	root, err := s.ListFolders(ctx, f.accA.ID, nil)
	must(t, err, "ListFolders root")
	if names(root) != "Archive,Photos" {
		t.Fatalf("root folders = %s, want Archive,Photos", names(root))
	}
	kids, err := s.ListFolders(ctx, f.accA.ID, &a.ID)
	must(t, err, "ListFolders")
	if names(kids) != "2024" {
		t.Fatalf("children of Photos = %s", names(kids))
	}
	kids, err = s.ListFolders(ctx, f.accB.ID, &a.ID)
	must(t, err, "ListFolders across accounts")
	if len(kids) != 0 {
		t.Fatalf("account B lists A's folder children: %v", kids)
	}
	got, err := s.GetFolderByPath(ctx, f.accA.ID, "Photos/2024")
	must(t, err, "GetFolderByPath")
	if got.ID != b.ID {
		t.Fatalf("GetFolderByPath = %d, want %d", got.ID, b.ID)
	}
	_, err = s.GetFolderByPath(ctx, f.accB.ID, "Photos/2024")
	wantErr(t, err, catalog.ErrNotFound, "GetFolderByPath across accounts")
	_, err = s.GetFolder(ctx, f.accB.ID, a.ID)
	wantErr(t, err, catalog.ErrNotFound, "GetFolder across accounts")
	got, err = s.GetFolderByStorageID(ctx, f.accA.ID, "Photos")
	must(t, err, "GetFolderByStorageID")
	if got.ID != a.ID {
		t.Fatalf("GetFolderByStorageID = %d", got.ID)
	}

	crumbs, err := s.FolderAncestry(ctx, f.accA.ID, c.ID)
	must(t, err, "FolderAncestry")
	if names(crumbs) != "Photos,2024,Trip ✈ #1" {
		t.Fatalf("breadcrumbs = %s", names(crumbs))
	}
	_, err = s.FolderAncestry(ctx, f.accB.ID, c.ID)
	wantErr(t, err, catalog.ErrNotFound, "FolderAncestry across accounts")

	// A folder of account A is no destination for account B.
	_, err = s.CreateFolder(ctx, f.accB.ID, 0, &a.ID, "sneaky", "Photos/sneaky", f.now)
	wantErr(t, err, catalog.ErrNotFound, "CreateFolder in another account's folder")
	_, err = s.CreateFolder(ctx, f.accA.ID, 0, nil, "Photos", "Photos", f.now)
	wantErr(t, err, catalog.ErrConflict, "CreateFolder with a taken storage identity")
	if _, err := s.CreateFolder(ctx, f.accA.ID, 0, nil, "a/b", "a/b", f.now); err == nil {
		t.Fatal("CreateFolder accepted a name with a slash")
	}
	n, err := s.CountFolders(ctx, f.accA.ID)
	must(t, err, "CountFolders")
	if n != 4 {
		t.Fatalf("CountFolders = %d, want 4", n)
	}
}

func names[T catalog.Folder | catalog.Asset](items []T) string {
	out := make([]string, len(items))
	for i, it := range items {
		switch v := any(it).(type) {
		case catalog.Folder:
			out[i] = v.Name
		case catalog.Asset:
			out[i] = v.Name
		}
	}
	return strings.Join(out, ",")
}

func testAssetPages(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx := f.store, f.ctx
	dir := f.mkFolder(t, f.accA.ID, nil, "big")
	var want []catalog.Asset
	for i := range 157 {
		// Repeated sizes and times make the id tie-breaker matter; mixed case
		// checks the case-insensitive name order.
		name := fmt.Sprintf("%s%03d.jpg", []string{"img", "IMG", "Photo"}[i%3], (i*37)%157)
		mod := f.now.Add(time.Duration(i%11) * time.Hour)
		want = append(want, f.mkAsset(t, f.accA.ID, &dir, name, int64(i%13)*100, mod, "image/jpeg"))
	}
	f.mkAsset(t, f.accA.ID, nil, "at-root.png", 5, f.now, "image/png")

	for _, sortKey := range []string{catalog.SortName, catalog.SortDate, catalog.SortSize} {
		for _, desc := range []bool{false, true} {
			var got []catalog.Asset
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 100 {
					t.Fatalf("sort %s desc=%v: pagination does not end", sortKey, desc)
				}
				page, next, err := s.ListAssets(ctx, catalog.AssetQuery{AccountID: f.accA.ID, FolderID: &dir.ID, Sort: sortKey, Desc: desc, Cursor: cursor, Limit: 10})
				must(t, err, "ListAssets sort %s", sortKey)
				if len(page) > 10 {
					t.Fatalf("page of %d, limit 10", len(page))
				}
				got = append(got, page...)
				if next == "" {
					break
				}
				cursor = next
			}
			exp := slices.Clone(want)
			sort.SliceStable(exp, func(i, j int) bool {
				ki, kj := sortKeyOf(exp[i], sortKey), sortKeyOf(exp[j], sortKey)
				if ki != kj {
					return (ki < kj) != desc
				}
				return (exp[i].ID < exp[j].ID) != desc
			})
			if len(got) != len(exp) {
				t.Fatalf("sort %s desc=%v: %d assets over all pages, want %d", sortKey, desc, len(got), len(exp))
			}
			for i := range exp {
				if got[i].ID != exp[i].ID {
					t.Fatalf("sort %s desc=%v: position %d is %s (id %d), want %s (id %d)", sortKey, desc, i, got[i].Name, got[i].ID, exp[i].Name, exp[i].ID)
				}
			}
		}
	}

	// A cursor only continues the query that made it.
	_, next, err := s.ListAssets(ctx, catalog.AssetQuery{AccountID: f.accA.ID, FolderID: &dir.ID, Sort: catalog.SortSize, Limit: 5})
	must(t, err, "ListAssets")
	_, _, err = s.ListAssets(ctx, catalog.AssetQuery{AccountID: f.accA.ID, FolderID: &dir.ID, Sort: catalog.SortName, Cursor: next})
	wantErr(t, err, catalog.ErrBadCursor, "a size cursor used for a name sort")
	_, _, err = s.ListAssets(ctx, catalog.AssetQuery{AccountID: f.accA.ID, Cursor: "%%%"})
	wantErr(t, err, catalog.ErrBadCursor, "a garbage cursor")
	if _, _, err := s.ListAssets(ctx, catalog.AssetQuery{AccountID: f.accA.ID, Sort: "colour"}); err == nil {
		t.Fatal("an unknown sort was accepted")
	}

	// Rows added behind the cursor while paging do not repeat earlier rows.
	page1, next, err := s.ListAssets(ctx, catalog.AssetQuery{AccountID: f.accA.ID, FolderID: &dir.ID, Limit: 50})
	must(t, err, "ListAssets")
	f.mkAsset(t, f.accA.ID, &dir, "aaa-new-first.jpg", 1, f.now, "image/jpeg")
	page2, _, err := s.ListAssets(ctx, catalog.AssetQuery{AccountID: f.accA.ID, FolderID: &dir.ID, Limit: 50, Cursor: next})
	must(t, err, "ListAssets")
	seen := map[int64]bool{}
	for _, a := range append(page1, page2...) {
		if seen[a.ID] {
			t.Fatalf("asset %s returned twice across pages", a.Name)
		}
		seen[a.ID] = true
	}

	n, err := s.CountAssets(ctx, catalog.AssetQuery{AccountID: f.accA.ID, FolderID: &dir.ID})
	must(t, err, "CountAssets")
	if n != 158 {
		t.Fatalf("CountAssets(folder) = %d, want 158", n)
	}
	n, err = s.CountAssets(ctx, catalog.AssetQuery{AccountID: f.accA.ID})
	must(t, err, "CountAssets(root)")
	if n != 1 {
		t.Fatalf("CountAssets(root only) = %d, want 1", n)
	}
	n, err = s.CountAssets(ctx, catalog.AssetQuery{AccountID: f.accA.ID, Recursive: true})
	must(t, err, "CountAssets(everywhere)")
	if n != 159 {
		t.Fatalf("CountAssets(everywhere) = %d, want 159", n)
	}
	n, err = s.CountAssets(ctx, catalog.AssetQuery{AccountID: f.accB.ID, Recursive: true})
	must(t, err, "CountAssets(B)")
	if n != 0 {
		t.Fatalf("account B counts %d assets, want 0", n)
	}
}

func sortKeyOf(a catalog.Asset, key string) string {
	switch key {
	case catalog.SortName:
		return strings.ToLower(a.Name)
	case catalog.SortDate:
		return fmt.Sprintf("%020d", a.ModTime.UnixMilli())
	default:
		return fmt.Sprintf("%020d", a.Size)
	}
}

func testAssetSearch(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	photos := f.mkFolder(t, f.accA.ID, nil, "Photos")
	sub := f.mkFolder(t, f.accA.ID, &photos.ID, "Beach")
	// A Drive-like twin: same name and path, another identity.
	twin, err := s.CreateFolder(ctx, f.accA.ID, 0, nil, "Photos", "drive-id-twin", now)
	must(t, err, "CreateFolder twin")
	sunset := f.mkAsset(t, f.accA.ID, &sub, "Sunset_Over_Sea.JPG", 10, now, "image/jpeg")
	dog := f.mkAsset(t, f.accA.ID, &photos, "dog.png", 20, now, "image/png")
	report := f.mkAsset(t, f.accA.ID, nil, "report.pdf", 30, now, "application/pdf")
	inTwin := f.mkAsset(t, f.accA.ID, &twin, "twin-sunset.jpg", 40, now, "image/jpeg")
	gone := f.mkAsset(t, f.accA.ID, &photos, "sunset-deleted.jpg", 50, now, "image/jpeg")
	f.mkAsset(t, f.accB.ID, nil, "sunset-of-b.jpg", 60, now, "image/jpeg")

	_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, dog.ID, catalog.MetadataUpdate{
		Title: ptr("Rex"), Description: ptr("A golden retriever on the sand"), Tags: &[]string{" Pets ", "pets", "Summer"},
		Rating: ptr(4), Custom: map[string]string{"photographer": "Ann"},
	}, now)
	must(t, err, "UpdateAssetMetadata")
	must(t, s.DeleteAsset(ctx, f.accA.ID, 0, gone.ID, now), "DeleteAsset")

	search := func(q catalog.AssetQuery) string {
		t.Helper()
		q.AccountID = f.accA.ID
		if q.FolderID == nil && !q.Recursive {
			q.Recursive = true
		}
		got, _, err := s.ListAssets(ctx, q)
		must(t, err, "ListAssets %+v", q)
		return names(got)
	}
	cases := []struct {
		q    catalog.AssetQuery
		want string
	}{
		{catalog.AssetQuery{Q: "sunset"}, "Sunset_Over_Sea.JPG,twin-sunset.jpg"},
		{catalog.AssetQuery{Q: "SUNSET sea"}, "Sunset_Over_Sea.JPG"},
		{catalog.AssetQuery{Q: "og"}, "dog.png"},
		{catalog.AssetQuery{Q: "retriever"}, "dog.png"},
		{catalog.AssetQuery{Q: "rex"}, "dog.png"},
		{catalog.AssetQuery{Q: "summer"}, "dog.png"},
		{catalog.AssetQuery{Q: "ann"}, "dog.png"},     // a custom field's value
		{catalog.AssetQuery{Q: "nn"}, "dog.png"},      // ... by a short word too
		{catalog.AssetQuery{Q: "photographer"}, ""},   // not its name
		{catalog.AssetQuery{Q: "rex ann"}, "dog.png"}, // with the other fields
		{catalog.AssetQuery{Q: "100%"}, ""},
		{catalog.AssetQuery{Q: `"quoted"`}, ""},
		{catalog.AssetQuery{Tag: "PETS"}, "dog.png"},
		{catalog.AssetQuery{Tag: "pet"}, ""},
		{catalog.AssetQuery{MIME: "image/"}, "dog.png,Sunset_Over_Sea.JPG,twin-sunset.jpg"},
		{catalog.AssetQuery{MIME: "application/pdf"}, "report.pdf"},
		{catalog.AssetQuery{FolderID: &photos.ID}, "dog.png"},
		{catalog.AssetQuery{FolderID: &photos.ID, Recursive: true}, "dog.png,Sunset_Over_Sea.JPG"},
		{catalog.AssetQuery{FolderID: &photos.ID, Recursive: true, Q: "sunset"}, "Sunset_Over_Sea.JPG"},
		{catalog.AssetQuery{FolderID: &twin.ID, Recursive: true}, "twin-sunset.jpg"},
		{catalog.AssetQuery{Recursive: true}, "dog.png,report.pdf,Sunset_Over_Sea.JPG,twin-sunset.jpg"},
	}
	for _, c := range cases {
		if got := search(c.q); got != c.want {
			t.Errorf("query %+v = [%s], want [%s]", c.q, got, c.want)
		}
	}

	// A changed custom value is found by its new value only.
	_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, dog.ID, catalog.MetadataUpdate{Custom: map[string]string{"photographer": "Bartholomew"}}, now)
	must(t, err, "UpdateAssetMetadata custom")
	if got := search(catalog.AssetQuery{Q: "ann"}); got != "" {
		t.Errorf("search for the old custom value finds [%s]", got)
	}
	if got := search(catalog.AssetQuery{Q: "bartholomew"}); got != "dog.png" {
		t.Errorf("search for the new custom value finds [%s], want [dog.png]", got)
	}
	_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, dog.ID, catalog.MetadataUpdate{Custom: map[string]string{"photographer": "Ann"}}, now)
	must(t, err, "UpdateAssetMetadata custom back")

	// The bounded count a search shows: exact up to the bound, capped past it.
	counts := []struct {
		q      catalog.AssetQuery
		bound  int
		want   int64
		capped bool
	}{
		{catalog.AssetQuery{Q: "sunset"}, 10, 2, false},
		{catalog.AssetQuery{Q: "sunset"}, 2, 2, false},
		{catalog.AssetQuery{Q: "sunset"}, 1, 1, true},
		{catalog.AssetQuery{MIME: "image/"}, 2, 2, true},
		{catalog.AssetQuery{FolderID: &photos.ID, Recursive: true, Q: "sunset"}, 10, 1, false},
		{catalog.AssetQuery{Tag: "pets"}, 10, 1, false},
		{catalog.AssetQuery{Q: "nothing-like-this"}, 10, 0, false},
	}
	for _, c := range counts {
		q := c.q
		q.AccountID = f.accA.ID
		if q.FolderID == nil {
			q.Recursive = true
		}
		n, capped, err := s.CountAssetsUpTo(ctx, q, c.bound)
		must(t, err, "CountAssetsUpTo %+v", q)
		if n != c.want || capped != c.capped {
			t.Errorf("CountAssetsUpTo(%+v, %d) = %d, %v; want %d, %v", c.q, c.bound, n, capped, c.want, c.capped)
		}
	}

	// Tags are normalised and mirrored; replacing them drops the old ones.
	got, err := s.GetAsset(ctx, f.accA.ID, dog.ID)
	must(t, err, "GetAsset")
	if !slices.Equal(got.Tags, []string{"pets", "summer"}) || got.Rating != 4 || got.Title != "Rex" || got.Custom["photographer"] != "Ann" {
		t.Fatalf("metadata = %+v", got)
	}
	_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, dog.ID, catalog.MetadataUpdate{Tags: &[]string{"Winter"}}, now)
	must(t, err, "UpdateAssetMetadata tags")
	if got := search(catalog.AssetQuery{Tag: "pets"}); got != "" {
		t.Fatalf("old tag still finds %s", got)
	}
	if got := search(catalog.AssetQuery{Tag: "winter"}); got != "dog.png" {
		t.Fatalf("new tag finds [%s]", got)
	}
	if got := search(catalog.AssetQuery{Q: "summer"}); got != "" {
		t.Fatalf("search still finds the old tag: [%s]", got)
	}
	tags, err := s.ListAssetTags(ctx, f.accA.ID, 10)
	must(t, err, "ListAssetTags")
	if len(tags) != 1 || tags[0].Tag != "winter" || tags[0].Count != 1 {
		t.Fatalf("ListAssetTags = %+v", tags)
	}
	got, err = s.GetAsset(ctx, f.accA.ID, dog.ID)
	must(t, err, "GetAsset")
	if got.Title != "Rex" || got.Rating != 4 {
		t.Fatalf("a tags-only update changed other fields: %+v", got)
	}
	if _, err := s.UpdateAssetMetadata(ctx, f.accA.ID, dog.ID, catalog.MetadataUpdate{Rating: ptr(6)}, now); err == nil {
		t.Fatal("rating 6 was accepted")
	}

	// Tombstones and other accounts stay invisible.
	_, err = s.GetAsset(ctx, f.accA.ID, gone.ID)
	wantErr(t, err, catalog.ErrNotFound, "GetAsset of a deleted asset")
	_, err = s.GetAsset(ctx, f.accB.ID, report.ID)
	wantErr(t, err, catalog.ErrNotFound, "GetAsset across accounts")
	_, err = s.UpdateAssetMetadata(ctx, f.accB.ID, report.ID, catalog.MetadataUpdate{Title: ptr("mine")}, now)
	wantErr(t, err, catalog.ErrNotFound, "UpdateAssetMetadata across accounts")
	wantErr(t, s.DeleteAsset(ctx, f.accB.ID, 0, report.ID, now), catalog.ErrNotFound, "DeleteAsset across accounts")
	_, _, err = s.ListAssets(ctx, catalog.AssetQuery{AccountID: f.accB.ID, FolderID: &photos.ID, Recursive: true})
	wantErr(t, err, catalog.ErrNotFound, "recursive listing of another account's folder")
	byID, err := s.GetAssetByStorageID(ctx, f.accA.ID, "Photos/Beach/Sunset_Over_Sea.JPG")
	must(t, err, "GetAssetByStorageID")
	if byID.ID != sunset.ID || byID.Path != "Photos/Beach/Sunset_Over_Sea.JPG" {
		t.Fatalf("GetAssetByStorageID = %+v", byID)
	}
	_ = inTwin
}

// testSearchBacklog: search indexing deferred during a big import catches
// up exactly — every asset added meanwhile becomes searchable, with the
// title it has now; a deleted one leaves nothing behind; the other
// account's assets are not touched.
func testSearchBacklog(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	search := func(acct int64, q string) string {
		t.Helper()
		got, _, err := s.ListAssets(ctx, catalog.AssetQuery{AccountID: acct, Recursive: true, Q: q})
		must(t, err, "ListAssets %q", q)
		return names(got)
	}
	before := f.mkAsset(t, f.accA.ID, nil, "before-alpha.jpg", 1, now, "image/jpeg")
	must(t, s.StartSearchBacklog(ctx, f.accA.ID, now), "StartSearchBacklog")
	must(t, s.StartSearchBacklog(ctx, f.accA.ID, now), "StartSearchBacklog again")
	on, err := s.SearchIndexing(ctx, f.accA.ID)
	must(t, err, "SearchIndexing")
	if !on {
		t.Fatal("SearchIndexing after StartSearchBacklog = false")
	}
	var deferred []catalog.Asset
	for i := range 5 {
		deferred = append(deferred, f.mkAsset(t, f.accA.ID, nil, fmt.Sprintf("bulk-alpha-%d.jpg", i), 1, now, "image/jpeg"))
	}
	other := f.mkAsset(t, f.accB.ID, nil, "b-alpha.jpg", 1, now, "image/jpeg")
	if got := search(f.accA.ID, "alpha"); got != "before-alpha.jpg" {
		t.Fatalf("while deferred, search finds %q; want only the asset added before", got)
	}
	if got := search(f.accB.ID, "alpha"); got != other.Name {
		t.Fatalf("another account's search: %q", got)
	}
	// Edited and deleted while waiting; the asset from before edited too.
	_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, deferred[1].ID, catalog.MetadataUpdate{Title: ptr("Zebra")}, now)
	must(t, err, "UpdateAssetMetadata deferred")
	_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, deferred[3].ID, catalog.MetadataUpdate{Custom: map[string]string{"client": "Okapi Ltd"}}, now)
	must(t, err, "UpdateAssetMetadata deferred custom")
	_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, before.ID, catalog.MetadataUpdate{Title: ptr("Yak")}, now)
	must(t, err, "UpdateAssetMetadata before")
	must(t, s.SyncApply(ctx, f.accA.ID, now, func(tx *catalog.SyncTx) error { return tx.PurgeAsset(deferred[2].ID) }), "purge deferred")
	for i := 0; ; i++ {
		done, err := s.FillSearchBacklog(ctx, f.accA.ID, 2)
		must(t, err, "FillSearchBacklog")
		if done {
			break
		}
		if i > 10 {
			t.Fatal("FillSearchBacklog never done")
		}
		// Halfway: an edit of an already indexed asset is kept up to date.
		if i == 0 {
			_, err = s.UpdateAssetMetadata(ctx, f.accA.ID, deferred[0].ID, catalog.MetadataUpdate{Title: ptr("Walrus")}, now)
			must(t, err, "UpdateAssetMetadata halfway")
		}
	}
	if on, _ := s.SearchIndexing(ctx, f.accA.ID); on {
		t.Fatal("SearchIndexing after the fill = true")
	}
	want := "before-alpha.jpg,bulk-alpha-0.jpg,bulk-alpha-1.jpg,bulk-alpha-3.jpg,bulk-alpha-4.jpg"
	if got := search(f.accA.ID, "alpha"); got != want {
		t.Fatalf("after the fill: %q, want %q", got, want)
	}
	for q, want := range map[string]string{"zebra": "bulk-alpha-1.jpg", "walrus": "bulk-alpha-0.jpg", "yak": "before-alpha.jpg", "okapi": "bulk-alpha-3.jpg"} {
		if got := search(f.accA.ID, q); got != want {
			t.Fatalf("search %q after the fill: %q, want %q", q, got, want)
		}
	}
	// The index itself is sound: SQLite's FTS5 integrity check; on
	// PostgreSQL every asset has exactly its one search row.
	if s.Dialect() == "sqlite" {
		_, err = s.DB().ExecContext(ctx, `INSERT INTO assets_fts (assets_fts) VALUES ('integrity-check')`)
		must(t, err, "FTS5 integrity-check")
	} else {
		var bad int
		err = s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM assets a FULL JOIN asset_search s ON s.asset_id = a.id
WHERE a.id IS NULL OR s.asset_id IS NULL OR s.body <> lower(a.name || ' ' || a.title || ' ' || a.description || ' ' || a.tags || asset_custom_text(a.custom))`).Scan(&bad)
		must(t, err, "checking asset_search")
		if bad != 0 {
			t.Fatalf("%d assets without their exact search row", bad)
		}
	}
}
