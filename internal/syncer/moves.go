package syncer

import (
	"context"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// maxMoveGroup bounds how many candidates with the same content and name
// are compared with each other; larger groups are not matched (their files
// are added, and removed to tombstones, instead).
const maxMoveGroup = 1000

// matchMoves pairs new files with gone ones of the same content (path
// identified storage: a delete and a create within one sync are a move).
// The rule, applied in this order:
//  1. same content and same name: when exactly one new and one gone file
//     share them, they are a move; when several do (identical copies
//     inside a moved folder), each new file goes with the gone file whose
//     path shares the longest tail of folder names with it, when that
//     best is unique both ways;
//  2. then, same content alone (a rename): only when exactly one new and
//     one gone file are left with that content;
//  3. anything else is not guessed at: the new files are added and the gone
//     ones become tombstones, their metadata kept for the tombstone TTL.
//
// For local folders, whose listing gives no content hash, "same content"
// starts as same size and modification time (which a rename keeps) and is
// confirmed by hashing the new file when the gone file's hash is known.
func (r *run) matchMoves(ctx context.Context) error {
	news := newStageCursor(r, catalog.StageNewAsset)
	gones := newStageCursor(r, catalog.StageGoneAsset)
	for {
		n, nok, err := news.peek(ctx)
		if err != nil {
			return err
		}
		g, gok, err := gones.peek(ctx)
		if err != nil {
			return err
		}
		if !nok || !gok {
			break
		}
		nk, gk := groupKey(n), groupKey(g)
		switch {
		case nk < gk:
			if _, err := news.group(ctx); err != nil {
				return err
			}
		case gk < nk:
			if _, err := gones.group(ctx); err != nil {
				return err
			}
		default:
			ng, err := news.group(ctx)
			if err != nil {
				return err
			}
			gg, err := gones.group(ctx)
			if err != nil {
				return err
			}
			for _, p := range pairGroup(ng, gg) {
				if err := r.match(ctx, p[0], p[1]); err != nil {
					return err
				}
			}
		}
	}
	if err := r.flush(ctx); err != nil {
		return err
	}
	after := ""
	for {
		pairs, err := r.store.SyncStageSinglePairs(ctx, r.job.AccountID, after, r.e.cfg.BatchSize)
		if err != nil {
			return err
		}
		for _, p := range pairs {
			if err := r.match(ctx, p[0], p[1]); err != nil {
				return err
			}
		}
		if err := r.flush(ctx); err != nil {
			return err
		}
		if len(pairs) < r.e.cfg.BatchSize {
			return nil
		}
		after = pairs[len(pairs)-1][0].StorageID
	}
}

// match records a move of gone to nw, after confirming the content by hash
// for local folders.
func (r *run) match(ctx context.Context, nw, gone catalog.StageRow) error {
	etag := nw.ETag
	if r.local {
		h, err := r.hash(ctx, nw.StorageID)
		if err != nil {
			r.log.Info("sync: cannot hash a move candidate; treating it as a new file", "path", nw.StorageID, "error", err.Error())
			return nil
		}
		if gone.ETag != "" && gone.ETag != h {
			return nil
		}
		etag = h
	}
	return r.push(ctx, op{kind: opMatch, stage: nw, row: catalog.SyncRow{ID: gone.RefID, StorageID: gone.StorageID}, etag: etag})
}

// applyMoves moves every matched gone asset to its new place, keeping its
// metadata.
func (r *run) applyMoves(ctx context.Context) error {
	return r.eachStaged(ctx, catalog.StageNewAsset, func(st catalog.StageRow) error {
		if !st.Matched {
			return nil
		}
		e := entryOf(st)
		return r.push(ctx, op{kind: opUpdateAsset, row: catalog.SyncRow{ID: st.RefID}, e: e, etag: st.ETag, count: countMoved})
	})
}

func groupKey(st catalog.StageRow) string { return st.Fingerprint + "\x00" + st.Name }

// pairGroup pairs new and gone files sharing content and name (rule 1).
func pairGroup(news, gones []catalog.StageRow) [][2]catalog.StageRow {
	if len(news) == 0 || len(gones) == 0 || len(news) > maxMoveGroup || len(gones) > maxMoveGroup {
		return nil
	}
	if len(news) == 1 && len(gones) == 1 {
		return [][2]catalog.StageRow{{news[0], gones[0]}}
	}
	best := func(from catalog.StageRow, to []catalog.StageRow) int {
		bi, bl, tie := -1, -1, false
		for i, c := range to {
			l := commonTail(from.Path, c.Path)
			switch {
			case l > bl:
				bi, bl, tie = i, l, false
			case l == bl:
				tie = true
			}
		}
		if tie {
			return -1
		}
		return bi
	}
	var out [][2]catalog.StageRow
	for i, n := range news {
		j := best(n, gones)
		if j >= 0 && best(gones[j], news) == i {
			out = append(out, [2]catalog.StageRow{n, gones[j]})
		}
	}
	return out
}

// commonTail counts the folder names two paths share from their end (the
// file names themselves are equal).
func commonTail(a, b string) int {
	as, bs := strings.Split(a, "/"), strings.Split(b, "/")
	n := 0
	for i, j := len(as)-2, len(bs)-2; i >= 0 && j >= 0 && as[i] == bs[j]; i, j = i-1, j-1 {
		n++
	}
	return n
}

// stageCursor pages through unmatched staged move candidates of one kind
// in (fingerprint, name, storage ID) order.
type stageCursor struct {
	r     *run
	kind  string
	buf   []catalog.StageRow
	after catalog.StageKey
	done  bool
}

func newStageCursor(r *run, kind string) *stageCursor { return &stageCursor{r: r, kind: kind} }

func (c *stageCursor) peek(ctx context.Context) (catalog.StageRow, bool, error) {
	if len(c.buf) == 0 && !c.done {
		limit := c.r.e.cfg.BatchSize
		rows, err := c.r.store.SyncStageMatchPage(ctx, c.r.job.AccountID, c.kind, c.after, limit)
		if err != nil {
			return catalog.StageRow{}, false, err
		}
		c.done = len(rows) < limit
		if len(rows) > 0 {
			last := rows[len(rows)-1]
			c.after = catalog.StageKey{Fingerprint: last.Fingerprint, Name: last.Name, StorageID: last.StorageID}
		}
		c.buf = rows
	}
	if len(c.buf) == 0 {
		return catalog.StageRow{}, false, nil
	}
	return c.buf[0], true, nil
}

// group consumes every row with the head's fingerprint and name and returns
// them (only the first maxMoveGroup+1: the caller refuses larger groups).
func (c *stageCursor) group(ctx context.Context) ([]catalog.StageRow, error) {
	head, ok, err := c.peek(ctx)
	if err != nil || !ok {
		return nil, err
	}
	key := groupKey(head)
	var out []catalog.StageRow
	for {
		row, ok, err := c.peek(ctx)
		if err != nil {
			return nil, err
		}
		if !ok || groupKey(row) != key {
			return out, nil
		}
		c.buf = c.buf[1:]
		if len(out) <= maxMoveGroup {
			out = append(out, row)
		}
	}
}
