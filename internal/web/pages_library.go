package web

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// Page sizes of the library views: one screen of cards, then infinite
// scroll in pages of the same size.
const (
	gridPageSize = 60
	listPageSize = 100
)

// libraryParams are the browse and search settings of a library view, kept
// in the URL so every view can be linked and reloaded.
type libraryParams struct {
	FolderID *int64
	Q        string
	Tag      string
	Type     string
	Sort     string
	Desc     bool
	View     string // grid | list
	Scope    string // folder | all (search scope)
	Cursor   string
}

// Searching reports whether the view is a search rather than a folder.
func (lp libraryParams) Searching() bool { return lp.Q != "" || lp.Tag != "" || lp.Type != "" }

// Query encodes the parameters (without the cursor) for links.
func (lp libraryParams) Query() url.Values {
	v := url.Values{}
	if lp.FolderID != nil {
		v.Set("folder", strconv.FormatInt(*lp.FolderID, 10))
	}
	for k, s := range map[string]string{"q": lp.Q, "tag": lp.Tag, "type": lp.Type} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if lp.Sort != catalog.SortName {
		v.Set("sort", lp.Sort)
	}
	if lp.Desc {
		v.Set("order", "desc")
	}
	if lp.View != "grid" {
		v.Set("view", lp.View)
	}
	if lp.Scope == "all" {
		v.Set("scope", "all")
	}
	return v
}

// With returns the folder page URL with one parameter changed.
func (lp libraryParams) With(key, value string) string {
	v := lp.Query()
	v.Del("folder")
	if value == "" {
		v.Del(key)
	} else {
		v.Set(key, value)
	}
	base := "/library"
	if lp.FolderID != nil {
		base = "/library/folder/" + strconv.FormatInt(*lp.FolderID, 10)
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

// MoreURL is the fragment URL of the page after cursor (for the page's
// script).
func (lp libraryParams) MoreURL(cursor string) string {
	v := lp.Query()
	v.Set("cursor", cursor)
	return "/library/items?" + v.Encode()
}

// PageURL is the full page showing the page after cursor (for browsing
// without script).
func (lp libraryParams) PageURL(cursor string) string {
	v := lp.Query()
	v.Del("folder")
	v.Set("cursor", cursor)
	base := "/library"
	if lp.FolderID != nil {
		base = "/library/folder/" + strconv.FormatInt(*lp.FolderID, 10)
	}
	return base + "?" + v.Encode()
}

func parseLibraryParams(r *http.Request) (libraryParams, error) {
	q := r.URL.Query()
	lp := libraryParams{
		Q:      strings.TrimSpace(q.Get("q")),
		Tag:    strings.TrimSpace(q.Get("tag")),
		Type:   strings.TrimSpace(q.Get("type")),
		Sort:   q.Get("sort"),
		Desc:   q.Get("order") == "desc",
		View:   q.Get("view"),
		Scope:  q.Get("scope"),
		Cursor: q.Get("cursor"),
	}
	id := r.PathValue("id")
	if id == "" {
		id = q.Get("folder")
	}
	if id != "" {
		n, err := strconv.ParseInt(id, 10, 64)
		if err != nil {
			return lp, errNotFound("folder")
		}
		lp.FolderID = &n
	}
	switch lp.Sort {
	case catalog.SortName, catalog.SortDate, catalog.SortSize:
	default:
		lp.Sort = catalog.SortName
	}
	if lp.View != "list" {
		lp.View = "grid"
	}
	if lp.Scope != "all" {
		lp.Scope = "folder"
	}
	return lp, nil
}

// assetQuery turns the view into the catalog's keyset query.
func (lp libraryParams) assetQuery(accountID int64) catalog.AssetQuery {
	q := catalog.AssetQuery{
		AccountID: accountID, FolderID: lp.FolderID,
		Q: lp.Q, Tag: lp.Tag, MIME: lp.Type,
		Sort: lp.Sort, Desc: lp.Desc, Cursor: lp.Cursor, Limit: gridPageSize,
	}
	if lp.View == "list" {
		q.Limit = listPageSize
	}
	if lp.Searching() {
		q.Recursive = true
		if lp.Scope == "all" {
			q.FolderID = nil
		}
	}
	return q
}

// treeNode is one folder of the sidebar tree; Children is nil when not
// loaded yet (the page's script fetches them on expand).
type treeNode struct {
	Folder   catalog.Folder
	Children []*treeNode
	Loaded   bool
	Current  bool
}

// libraryView is the content of the library page.
type libraryView struct {
	Params      libraryParams
	Folder      *catalog.Folder
	Breadcrumbs []catalog.Folder
	Tree        []*treeNode
	Subfolders  []catalog.Folder
	Items       itemsView
	HasStorage  bool
	// Search is the count and wording of a search's matches (nil when
	// browsing).
	Search *searchSummary
	// Indexing: search is still catching up with a big import (some
	// files are not found by search yet).
	Indexing bool
}

// itemsView is one page of assets (also the infinite-scroll fragment).
type itemsView struct {
	Params  libraryParams
	Assets  []catalog.Asset
	MoreURL string // the next page as a fragment
	NextURL string // the next page as a whole page
	CanEdit bool
	Locked  bool
}

// handleLibrary renders a folder (or the root) with its tree, subfolders
// and the first page of assets, or a search.
func (p *pages) handleLibrary(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	acct := v.Account.ID
	lp, err := parseLibraryParams(r)
	if err != nil {
		return err
	}
	lv := libraryView{Params: lp}
	if lp.FolderID != nil {
		crumbs, err := p.s.store.FolderAncestry(ctx, acct, *lp.FolderID)
		if errors.Is(err, catalog.ErrNotFound) {
			return errNotFound("folder")
		}
		if err != nil {
			return err
		}
		lv.Breadcrumbs = crumbs
		f := crumbs[len(crumbs)-1]
		lv.Folder = &f
	}
	if lv.Tree, err = p.folderTree(r, acct, lv.Breadcrumbs); err != nil {
		return err
	}
	if !lp.Searching() {
		if lv.Subfolders, err = p.s.store.ListFolders(ctx, acct, lp.FolderID); err != nil {
			return err
		}
	}
	if lv.Items, err = p.items(r, v, lp); err != nil {
		return err
	}
	if lp.Searching() {
		sum, err := p.summarizeSearch(ctx, acct, lp, lv.Folder)
		if err != nil {
			return err
		}
		lv.Search = &sum
	}
	if lv.Indexing, err = p.s.store.SearchIndexing(ctx, acct); err != nil {
		return err
	}
	if _, err := p.s.store.GetConnection(ctx, acct); err == nil {
		lv.HasStorage = true
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return err
	}
	v.Nav = "library"
	v.Title = "Library"
	if lv.Folder != nil {
		v.Title = lv.Folder.Name
	}
	if lp.Searching() {
		v.Title = "Search"
	}
	v.Data = lv
	return p.render(w, http.StatusOK, "library", v)
}

// items reads one keyset page of the view's assets.
func (p *pages) items(r *http.Request, v *view, lp libraryParams) (itemsView, error) {
	assets, next, err := p.s.store.ListAssets(r.Context(), lp.assetQuery(v.Account.ID))
	if errors.Is(err, catalog.ErrBadCursor) {
		return itemsView{}, errBadRequest("invalid_cursor", "%v", err)
	}
	if errors.Is(err, catalog.ErrNotFound) {
		return itemsView{}, errNotFound("folder")
	}
	if err != nil {
		return itemsView{}, err
	}
	iv := itemsView{Params: lp, Assets: assets, CanEdit: v.CanEdit(), Locked: v.Locked()}
	if next != "" {
		iv.MoreURL = lp.MoreURL(next)
		iv.NextURL = lp.PageURL(next)
	}
	return iv, nil
}

// handleLibraryItems answers the next page of a library view as an HTML
// fragment (cards or table rows, then the next "more" link).
func (p *pages) handleLibraryItems(w http.ResponseWriter, r *http.Request, v *view) error {
	lp, err := parseLibraryParams(r)
	if err != nil {
		return err
	}
	iv, err := p.items(r, v, lp)
	if err != nil {
		return err
	}
	return p.renderFragment(w, "items", iv)
}

// folderTree builds the sidebar tree: the top-level folders, with the path
// to the current folder expanded.
func (p *pages) folderTree(r *http.Request, accountID int64, crumbs []catalog.Folder) ([]*treeNode, error) {
	level, err := p.treeLevel(r, accountID, nil)
	if err != nil {
		return nil, err
	}
	top := level
	for i, c := range crumbs {
		var node *treeNode
		for _, n := range level {
			if n.Folder.ID == c.ID {
				node = n
			}
		}
		if node == nil {
			break
		}
		if i == len(crumbs)-1 {
			node.Current = true
		}
		id := c.ID
		if node.Children, err = p.treeLevel(r, accountID, &id); err != nil {
			return nil, err
		}
		node.Loaded = true
		level = node.Children
	}
	return top, nil
}

func (p *pages) treeLevel(r *http.Request, accountID int64, parent *int64) ([]*treeNode, error) {
	folders, err := p.s.store.ListFolders(r.Context(), accountID, parent)
	if err != nil {
		return nil, err
	}
	nodes := make([]*treeNode, len(folders))
	for i, f := range folders {
		nodes[i] = &treeNode{Folder: f}
	}
	return nodes, nil
}

// handleTreeChildren answers the child folders of one tree node as a
// fragment, for lazy expansion.
func (p *pages) handleTreeChildren(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := strconv.ParseInt(r.URL.Query().Get("parent"), 10, 64)
	if err != nil {
		return errBadRequest("invalid_field", "parent must be a folder id")
	}
	if _, err := p.s.store.GetFolder(r.Context(), v.Account.ID, id); err != nil {
		if errors.Is(err, catalog.ErrNotFound) {
			return errNotFound("folder")
		}
		return err
	}
	nodes, err := p.treeLevel(r, v.Account.ID, &id)
	if err != nil {
		return err
	}
	return p.renderFragment(w, "tree-level", nodes)
}

// assetView is the content of the asset page.
type assetView struct {
	Asset       catalog.Asset
	Breadcrumbs []catalog.Folder
	CustomKeys  []string
	// File is the file's own metadata and where the team fields came from.
	File catalog.FileFacts
	// Location is the file's GPS position as text ("" when none).
	Location string
	// Sources says where each team field's value came from.
	Sources []sourceRow
}

// handleAsset renders one asset: preview, file facts, team metadata.
func (p *pages) handleAsset(w http.ResponseWriter, r *http.Request, v *view) error {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return errNotFound("asset")
	}
	a, err := p.s.store.GetAsset(r.Context(), v.Account.ID, id)
	if errors.Is(err, catalog.ErrNotFound) {
		return errNotFound("asset")
	}
	if err != nil {
		return err
	}
	av := assetView{Asset: a}
	if a.FolderID != nil {
		if av.Breadcrumbs, err = p.s.store.FolderAncestry(r.Context(), v.Account.ID, *a.FolderID); err != nil && !errors.Is(err, catalog.ErrNotFound) {
			return err
		}
	}
	if av.File, err = p.s.store.GetFileFacts(r.Context(), v.Account.ID, a.ID); err != nil {
		return err
	}
	av.Location = gpsText(av.File)
	av.Sources = sourceRows(av.File)
	for k := range a.Custom {
		av.CustomKeys = append(av.CustomKeys, k)
	}
	slices.Sort(av.CustomKeys)
	v.Nav = "library"
	v.Title = a.Name
	v.Data = av
	return p.render(w, http.StatusOK, "asset", v)
}
