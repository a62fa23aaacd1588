package catalog

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestFileMetaPendingByIndex: the assets whose metadata is to be read are
// found through the assets_meta_pending index (not by comparing every
// asset of the account with its last read), a new version is pending
// again, a stale read clears nothing and other accounts stay apart.
func TestFileMetaPendingByIndex(t *testing.T) {
	t.Parallel()
	onEachDialect(t, func(t *testing.T, s *Store, acct Account, now time.Time) {
		ctx := context.Background()
		other, err := s.CreateAccount(ctx, NewAccount{Name: "B"}, now)
		if err != nil {
			t.Fatal(err)
		}
		put := func(acct int64, key string, size int64) Asset {
			t.Helper()
			a, err := s.PutUploadedAsset(ctx, acct, 0, Asset{Name: key, StorageID: key, Size: size, ETag: key + string(rune('0'+size)), ModTime: &now}, now)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
		pending := func() []int64 {
			t.Helper()
			list, err := s.ListFileMetaPending(ctx, acct.ID, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, a := range list {
				ids = append(ids, a.ID)
			}
			return ids
		}
		a, b := put(acct.ID, "a.jpg", 1), put(acct.ID, "b.jpg", 1)
		put(other.ID, "c.jpg", 1)
		if got := pending(); !slices.Equal(got, []int64{a.ID, b.ID}) {
			t.Fatalf("pending %v, want the two new assets", got)
		}
		if ok, err := s.ApplyFileMeta(ctx, a, FileMeta{Reader: "go"}, now); !ok || err != nil {
			t.Fatal(ok, err)
		}
		if got := pending(); !slices.Equal(got, []int64{b.ID}) {
			t.Fatalf("pending %v after reading a, want b", got)
		}
		cur := put(acct.ID, "a.jpg", 2) // a new version
		if n, err := s.RecordFileMetaFailure(ctx, a); n != 0 || err != nil {
			t.Errorf("a failure of the old version counted: %d %v", n, err)
		}
		for want := 1; want <= 2; want++ {
			if n, err := s.RecordFileMetaFailure(ctx, cur); n != want || err != nil {
				t.Errorf("failure %d counted as %d (%v)", want, n, err)
			}
		}
		if ok, _ := s.ApplyFileMeta(ctx, a, FileMeta{Reader: "go"}, now); ok {
			t.Fatal("a read of the old version was recorded")
		}
		if got := pending(); !slices.Equal(got, []int64{a.ID, b.ID}) {
			t.Fatalf("pending %v after a new version of a, want a and b", got)
		}

		put(acct.ID, "a.jpg", 3) // a newer version starts again
		if n, err := s.RecordFileMetaFailure(ctx, cur); n != 0 || err != nil {
			t.Errorf("a failure of the replaced version counted: %d %v", n, err)
		}
		cur.Size, cur.ETag = 3, "a.jpg3"
		if n, err := s.RecordFileMetaFailure(ctx, cur); n != 1 || err != nil {
			t.Errorf("the first failure of the new version counted as %d (%v)", n, err)
		}

		plan := explain(t, s, fileMetaPendingQuery, acct.ID, 0, 10)
		if !strings.Contains(plan, "assets_meta_pending") {
			t.Errorf("the pending assets are not found by their index:\n%s", plan)
		}
	})
}

// explain returns the query plan of query (seq scans discouraged on
// PostgreSQL, whose planner scans a tiny table whole).
func explain(t *testing.T, s *Store, query string, args ...any) string {
	t.Helper()
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	prefix := "EXPLAIN QUERY PLAN "
	if s.dialect == DialectPostgres {
		prefix = "EXPLAIN "
		if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
			t.Fatal(err)
		}
		defer func() { _, _ = conn.ExecContext(ctx, "RESET enable_seqscan") }()
	}
	rows, err := conn.QueryContext(ctx, prefix+s.Rebind(query), args...)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rows.Close() }()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		for _, v := range vals {
			switch v := v.(type) {
			case string:
				out = append(out, v)
			case []byte:
				out = append(out, string(v))
			}
		}
	}
	return strings.Join(out, "\n")
}
