package catalog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Sort keys of AssetQuery.
const (
	SortName = "name"
	SortDate = "date" // the file's modification time
	SortSize = "size"
)

// MaxAssetPage is the largest page ListAssets returns.
const MaxAssetPage = 1000

// ErrBadCursor: a pagination cursor that this query did not produce.
var ErrBadCursor = errors.New("invalid page cursor; start again from the first page")

// AssetQuery selects live assets of one account for browsing and search.
type AssetQuery struct {
	AccountID int64
	// FolderID is the folder listed (nil: the root). With Recursive the
	// whole subtree under it (nil: the whole library).
	FolderID  *int64
	Recursive bool
	// Q searches name, title, description, tags and the values of custom
	// fields: every word must occur (substring, case-insensitive).
	Q string
	// Tag keeps assets carrying this tag (exact, case-insensitive).
	Tag string
	// MIME keeps one type ("image/png") or, ending in "/", a family ("image/").
	MIME string
	// Sort is SortName (default), SortDate or SortSize; Desc reverses it.
	Sort string
	Desc bool
	// Cursor continues after the page that returned it ("" starts).
	Cursor string
	// Limit is the page size (default 100, at most MaxAssetPage).
	Limit int
}

// assetCursor is the opaque keyset position: the last row's sort key and id.
type assetCursor struct {
	Sort string `json:"s"`
	Desc bool   `json:"d,omitempty"`
	Str  string `json:"k,omitempty"`
	Int  int64  `json:"n,omitempty"`
	ID   int64  `json:"i"`
}

func (c assetCursor) encode() string {
	b, _ := json.Marshal(c) // a struct of strings and numbers always encodes
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeAssetCursor(s string) (assetCursor, error) {
	var c assetCursor
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return c, ErrBadCursor
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, ErrBadCursor
	}
	return c, nil
}

// sortKeyExpr is the SQL of a sort key; each matches an index of the schema.
func sortKeyExpr(sort string) (string, error) {
	switch sort {
	case SortName:
		return "lower(a.name)", nil
	case SortDate:
		return "COALESCE(a.mod_time, 0)", nil
	case SortSize:
		return "a.size", nil
	}
	return "", fmt.Errorf("unknown sort %q; use name, date or size", sort)
}

// defaultCommonTagRows is where a tag counts as common (Store.commonTagRows):
// a page of its assets is then found faster by walking the sort index and
// probing the tag than by sorting every asset carrying it.
const defaultCommonTagRows = 5000

// tagIsCommon says whether at least s.commonTagRows assets carry tag
// (counted no further than that).
func (s *Store) tagIsCommon(ctx context.Context, accountID int64, tag string) (bool, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM (SELECT 1 FROM asset_tags WHERE account_id = ? AND tag = ? LIMIT ?) t`,
		accountID, tag, s.commonTagRows).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("counting tagged assets: %w", mapErr(err))
	}
	return n >= s.commonTagRows, nil
}

// subtreeIsBig says whether at least s.commonTagRows live assets lie under
// path (counted no further than that).
func (s *Store) subtreeIsBig(ctx context.Context, accountID int64, path string) (bool, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM (SELECT 1 FROM assets WHERE account_id = ? AND path >= ? AND path < ? AND removed_at IS NULL LIMIT ?) t`,
		accountID, path+"/", path+"0", s.commonTagRows).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sizing the folder's subtree: %w", mapErr(err))
	}
	return n >= s.commonTagRows, nil
}

// filterPlan picks how assetFilter writes conditions whose best plan
// depends on how many rows match, for sorted pages.
type filterPlan struct {
	// probeTag writes the tag as a per-row probe (a common tag) rather than
	// as the list of tagged assets.
	probeTag bool
	// walkSubtree keeps SQLite from ranging over the subtree's paths (a
	// big subtree): it walks the sort index and filters instead.
	// PostgreSQL's planner makes this choice itself from its statistics.
	walkSubtree bool
}

// assetFilter builds the WHERE clause shared by ListAssets and CountAssets.
func (s *Store) assetFilter(ctx context.Context, q AssetQuery, plan filterPlan) (string, []any, error) {
	// XMP sidecars are not shown as assets (SPEC §4.1): their values go
	// to the file they describe (internal/embedmeta).
	where := []string{"a.account_id = ?", "a.removed_at IS NULL", "lower(a.name) NOT LIKE '%.xmp'"}
	args := []any{q.AccountID}
	switch {
	case q.FolderID == nil && !q.Recursive:
		where = append(where, "a.folder_id IS NULL")
	case q.FolderID != nil && !q.Recursive:
		where = append(where, "a.folder_id = ?")
		args = append(args, *q.FolderID)
	case q.FolderID != nil && q.Recursive:
		f, err := s.GetFolder(ctx, q.AccountID, *q.FolderID)
		if err != nil {
			return "", nil, err
		}
		// The path range lets the index narrow the rows; the subtree
		// membership keeps Drive's same-named sibling folders out. SQLite's
		// unary + stops it from using an index for a term.
		unindexed := ""
		if plan.walkSubtree {
			unindexed = "+"
		}
		where = append(where, unindexed+"a.path >= ? AND "+unindexed+"a.path < ?",
			unindexed+"a.folder_id IN ("+folderSubtreeSQL+"SELECT id FROM tree)")
		args = append(args, f.Path+"/", f.Path+"0", f.ID, q.AccountID, q.AccountID)
	}
	if tag := strings.ToLower(strings.TrimSpace(q.Tag)); tag != "" {
		if plan.probeTag {
			where = append(where, "EXISTS (SELECT 1 FROM asset_tags t WHERE t.account_id = ? AND t.tag = ? AND t.asset_id = a.id)")
		} else {
			where = append(where, "a.id IN (SELECT asset_id FROM asset_tags WHERE account_id = ? AND tag = ?)")
		}
		args = append(args, q.AccountID, tag)
	}
	if m := strings.ToLower(strings.TrimSpace(q.MIME)); m != "" {
		if strings.HasSuffix(m, "/") {
			where = append(where, `a.mime LIKE ? ESCAPE '\'`)
			args = append(args, likeEscape(m)+"%")
		} else {
			where = append(where, "a.mime = ?")
			args = append(args, m)
		}
	}
	w, a := s.searchFilter(q.AccountID, q.Q)
	where = append(where, w...)
	args = append(args, a...)
	return strings.Join(where, " AND "), args, nil
}

// searchFilter turns the words of q into conditions: an asset matches
// when every word occurs in its name, title, description, tags or custom
// field values, or every word occurs in its file facts (creator,
// copyright, lens). Both are sets of asset ids found through an index
// and joined by one UNION, so that the assets table is probed by id
// rather than scanned for the OR: PostgreSQL matches each word with LIKE
// on asset_search.body and on the facts (pg_trgm GIN indexes), SQLite
// words of three or more characters in its FTS5 trigram indexes. Only
// SQLite's shorter words are matched row by row with LIKE.
func (s *Store) searchFilter(accountID int64, q string) ([]string, []any) {
	words := strings.Fields(q)
	if len(words) == 0 {
		return nil, nil
	}
	var (
		rowWise, likes, phrase []string
		rowArgs, likeArgs      []any
	)
	for _, w := range words {
		pattern := "%" + likeEscape(strings.ToLower(w)) + "%"
		switch {
		case s.dialect == DialectPostgres:
			likes = append(likes, `body LIKE ? ESCAPE '\'`)
			likeArgs = append(likeArgs, pattern)
		case utf8.RuneCountInString(w) >= 3:
			phrase = append(phrase, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
		default:
			rowWise = append(rowWise, `(a.name LIKE ? ESCAPE '\' OR a.title LIKE ? ESCAPE '\' OR a.description LIKE ? ESCAPE '\' OR a.tags LIKE ? ESCAPE '\'`+
				` OR EXISTS (SELECT 1 FROM json_each(a.custom) j WHERE j.value LIKE ? ESCAPE '\'))`)
			rowArgs = append(rowArgs, pattern, pattern, pattern, pattern, pattern)
		}
	}
	var textSet string
	var textArgs []any
	switch {
	case len(likes) > 0:
		textSet = "SELECT asset_id FROM asset_search WHERE account_id = ? AND " + strings.Join(likes, " AND ")
		textArgs = append([]any{accountID}, likeArgs...)
	case len(phrase) > 0:
		textSet = "SELECT rowid FROM assets_fts WHERE assets_fts MATCH ?"
		textArgs = []any{strings.Join(phrase, " AND ")}
	}
	factsSet, factsArgs := s.factsFilter(accountID, words)
	if len(rowWise) == 0 {
		return []string{"a.id IN (" + textSet + " UNION " + factsSet + ")"}, append(textArgs, factsArgs...)
	}
	args := rowArgs
	if textSet != "" {
		rowWise = append(rowWise, "a.id IN ("+textSet+")")
		args = append(args, textArgs...)
	}
	return []string{"((" + strings.Join(rowWise, " AND ") + ") OR a.id IN (" + factsSet + "))"}, append(args, factsArgs...)
}

// factsExpr is the searchable text of an asset's file facts (creator,
// copyright, lens), as migration 0034 indexes it.
const factsExpr = `lower(creator || ' ' || copyright || ' ' || lens)`

// factsFilter is the set of the account's assets whose file facts hold
// every word: SQLite's trigram index asset_facts_fts for words of three
// or more characters (LIKE for shorter ones), PostgreSQL's pg_trgm index
// on factsExpr.
func (s *Store) factsFilter(accountID int64, words []string) (string, []any) {
	var (
		likes, phrase []string
		args          = []any{accountID}
	)
	for _, w := range words {
		if s.dialect == DialectSQLite && utf8.RuneCountInString(w) >= 3 {
			phrase = append(phrase, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
			continue
		}
		likes = append(likes, factsExpr+` LIKE ? ESCAPE '\'`)
		args = append(args, "%"+likeEscape(strings.ToLower(w))+"%")
	}
	conds := append([]string{"account_id = ?"}, likes...)
	if len(phrase) > 0 {
		conds = append(conds, "asset_id IN (SELECT rowid FROM asset_facts_fts WHERE asset_facts_fts MATCH ?)")
		args = append(args, strings.Join(phrase, " AND "))
	}
	return "SELECT asset_id FROM asset_file_meta WHERE " + strings.Join(conds, " AND "), args
}

// planFilter sizes the query's tag and subtree to pick its filterPlan.
func (s *Store) planFilter(ctx context.Context, q AssetQuery) (filterPlan, error) {
	var (
		plan filterPlan
		err  error
	)
	if tag := strings.ToLower(strings.TrimSpace(q.Tag)); tag != "" {
		if plan.probeTag, err = s.tagIsCommon(ctx, q.AccountID, tag); err != nil {
			return plan, err
		}
	}
	if q.Recursive && q.FolderID != nil && s.dialect == DialectSQLite {
		f, err := s.GetFolder(ctx, q.AccountID, *q.FolderID)
		if err != nil {
			return plan, err
		}
		if plan.walkSubtree, err = s.subtreeIsBig(ctx, q.AccountID, f.Path); err != nil {
			return plan, err
		}
	}
	return plan, nil
}

// ListAssets returns one page of the assets q selects, in q's order, and
// the cursor of the next page ("" after the last). Pages follow the sort key
// and the id (keyset pagination), so every asset appears exactly once
// across pages even while others are added.
func (s *Store) ListAssets(ctx context.Context, q AssetQuery) ([]Asset, string, error) {
	if q.Sort == "" {
		q.Sort = SortName
	}
	key, err := sortKeyExpr(q.Sort)
	if err != nil {
		return nil, "", err
	}
	limit := q.Limit
	if limit <= 0 {
		limit = 100
	}
	limit = min(limit, MaxAssetPage)
	plan, err := s.planFilter(ctx, q)
	if err != nil {
		return nil, "", err
	}
	where, args, err := s.assetFilter(ctx, q, plan)
	if err != nil {
		return nil, "", err
	}
	cmp, dir := ">", "ASC"
	if q.Desc {
		cmp, dir = "<", "DESC"
	}
	if q.Cursor != "" {
		c, err := decodeAssetCursor(q.Cursor)
		if err != nil {
			return nil, "", err
		}
		if c.Sort != q.Sort || c.Desc != q.Desc {
			return nil, "", ErrBadCursor
		}
		// (key, id) after the cursor, written so that both databases range
		// over the sort index: key >= k AND (key > k OR id > i).
		where += " AND " + key + " " + cmp + "= ? AND (" + key + " " + cmp + " ? OR a.id " + cmp + " ?)"
		var k any = c.Int
		if q.Sort == SortName {
			k = c.Str
		}
		args = append(args, k, k, c.ID)
	}
	query := `SELECT ` + prefixColumns("a.", assetColumns) + `, ` + key + ` FROM assets a WHERE ` + where +
		` ORDER BY ` + key + ` ` + dir + `, a.id ` + dir + ` LIMIT ?`
	args = append(args, limit+1)
	rows, err := s.query(ctx, s.db, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing assets: %w", err)
	}
	defer rows.Close()
	var (
		out  []Asset
		last assetCursor
	)
	for rows.Next() {
		c := assetCursor{Sort: q.Sort, Desc: q.Desc}
		var (
			a   Asset
			err error
		)
		if q.Sort == SortName {
			a, err = scanAsset(rows, &c.Str)
		} else {
			a, err = scanAsset(rows, &c.Int)
		}
		if err != nil {
			return nil, "", fmt.Errorf("reading asset: %w", err)
		}
		if len(out) == limit {
			return out, last.encode(), mapErr(rows.Err())
		}
		c.ID = a.ID
		last = c
		out = append(out, a)
	}
	return out, "", mapErr(rows.Err())
}

// CountAssets counts the assets q selects (its cursor, sort and limit are
// ignored).
func (s *Store) CountAssets(ctx context.Context, q AssetQuery) (int64, error) {
	where, args, err := s.assetFilter(ctx, q, filterPlan{})
	if err != nil {
		return 0, err
	}
	var n int64
	if err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM assets a WHERE `+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting assets: %w", mapErr(err))
	}
	return n, nil
}

// CountAssetsUpTo counts the assets q selects, stopping past bound: it
// returns bound and capped true when more than bound match, so the count a
// search shows stays cheap on a library of millions.
func (s *Store) CountAssetsUpTo(ctx context.Context, q AssetQuery, bound int) (n int64, capped bool, err error) {
	// No order to keep: the tag's asset list and the subtree's path range
	// are the cheapest ways in, however many rows match (filterPlan{}).
	where, args, err := s.assetFilter(ctx, q, filterPlan{})
	if err != nil {
		return 0, false, err
	}
	args = append(args, bound+1)
	err = s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM (SELECT 1 FROM assets a WHERE `+where+` LIMIT ?) t`, args...).Scan(&n)
	if err != nil {
		return 0, false, fmt.Errorf("counting matching assets: %w", mapErr(err))
	}
	if n > int64(bound) {
		return int64(bound), true, nil
	}
	return n, false, nil
}
