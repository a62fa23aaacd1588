package web

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// searchCountBound is how far a search counts its matches: past it the
// page says "1,000+", which keeps the count cheap on a library of millions.
const searchCountBound = 1000

// searchSummary is the line above search results: how many matched what,
// and where.
type searchSummary struct {
	Count  int64
	Capped bool
	Text   string
}

// summarizeSearch counts the view's matches (up to searchCountBound) and
// words them: 12 files match “sunset” in Photos.
func (p *pages) summarizeSearch(ctx context.Context, accountID int64, lp libraryParams, folder *catalog.Folder) (searchSummary, error) {
	n, capped, err := p.s.store.CountAssetsUpTo(ctx, lp.assetQuery(accountID), searchCountBound)
	if err != nil {
		return searchSummary{}, err
	}
	return searchSummary{Count: n, Capped: capped, Text: searchText(n, capped, lp, folder)}, nil
}

// searchText words a search's count, criteria and scope.
func searchText(n int64, capped bool, lp libraryParams, folder *catalog.Folder) string {
	count := thousands(n)
	if capped {
		count += "+"
	}
	noun, verb := "files", "match"
	if n == 1 && !capped {
		noun, verb = "file", "matches"
	}
	var what []string
	if lp.Q != "" {
		what = append(what, "“"+lp.Q+"”")
	}
	if lp.Tag != "" {
		what = append(what, "tagged “"+lp.Tag+"”")
	}
	if lp.Type != "" {
		what = append(what, "of type "+typeLabel(lp.Type))
	}
	where := "everywhere"
	if folder != nil && lp.Scope != "all" {
		where = "in " + folder.Name
	}
	return fmt.Sprintf("%s %s %s %s %s", count, noun, verb, strings.Join(what, " "), where)
}

// typeLabel is the search form's label of a type filter.
func typeLabel(mime string) string {
	switch mime {
	case "image/":
		return "Images"
	case "video/":
		return "Videos"
	case "audio/":
		return "Audio"
	case "application/pdf":
		return "PDF"
	}
	return mime
}

// assetFolderPath is the folder path of an asset as people read it ("" at
// the top level).
func assetFolderPath(a catalog.Asset) string {
	dir := path.Dir(strings.TrimPrefix(a.Path, "/"))
	if dir == "." || dir == "/" {
		return ""
	}
	return dir
}

// assetItem is one card or row of a library view; search results show
// where each file lives, since many files may share a name.
type assetItem struct {
	catalog.Asset
	ShowFolder bool
}

// FolderPath is the asset's folder path ("" at the top level).
func (it assetItem) FolderPath() string { return assetFolderPath(it.Asset) }

// FolderURL opens the folder holding the asset.
func (it assetItem) FolderURL() string {
	if it.FolderID == nil {
		return "/library"
	}
	return fmt.Sprintf("/library/folder/%d", *it.FolderID)
}

// Items are the page's assets as cards or rows.
func (iv itemsView) Items() []assetItem {
	out := make([]assetItem, len(iv.Assets))
	for i, a := range iv.Assets {
		out[i] = assetItem{Asset: a, ShowFolder: iv.Params.Searching()}
	}
	return out
}
