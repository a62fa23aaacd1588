package catalog_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// The read-path benchmarks run on a seeded library:
//
//	go test ./internal/catalog -run '^$' -bench ReadPaths -benchtime 100x
//	SHELF_BENCH_ASSETS=1000000 SHELF_BENCH_DB=postgres go test ./internal/catalog -run '^$' -bench ReadPaths -benchtime 100x -timeout 1h
//
// SHELF_BENCH_ASSETS (default 100000) assets go in 1,000 folders (100 top
// folders of 10) plus one folder holding a tenth of them; every asset has a
// tag, and one
// in 1,000 carries the word "needle" in its name. SHELF_BENCH_POSTGRES_URL
// names an empty database to seed and keep instead of a throwaway one.
// SHELF_BENCH_SQLITE_SEED names a file that keeps a seeded SQLite library
// between runs (made by the first run, copied by the next ones).

type benchLib struct {
	store    *catalog.Store
	account  int64
	bigDir   int64
	topDir   int64
	assetIDs []int64
}

func benchLibrary(b *testing.B) *benchLib {
	b.Helper()
	kind := os.Getenv("SHELF_BENCH_DB")
	if kind == "" {
		kind = "sqlite"
	}
	n := 100000
	if v := os.Getenv("SHELF_BENCH_ASSETS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatalf("SHELF_BENCH_ASSETS: %v", err)
		}
	}
	var url string
	switch {
	case kind == "postgres" && os.Getenv("SHELF_BENCH_POSTGRES_URL") != "":
		url = os.Getenv("SHELF_BENCH_POSTGRES_URL") // kept afterwards, for EXPLAIN
	case kind == "postgres":
		url = testenv.PostgresURL(b)
	default:
		url = filepath.Join(b.TempDir(), "bench.db")
	}
	ctx := context.Background()
	s, err := catalog.Open(ctx, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	lib := &benchLib{store: s}
	b.Cleanup(func() { s.Close() })
	start := time.Now()
	if seed := os.Getenv("SHELF_BENCH_SQLITE_SEED"); kind == "sqlite" && seed != "" {
		if _, err := os.Stat(seed); err == nil {
			s.Close()
			copyFile(b, seed, url)
			if s, err = catalog.Open(ctx, url, nil); err != nil {
				b.Fatal(err)
			}
			if err := s.Migrate(ctx); err != nil {
				b.Fatal(err)
			}
			lib.store = s
			loadBench(b, lib)
			b.Logf("sqlite: copied %d seeded assets from %s in %v", len(lib.assetIDs), seed, time.Since(start).Round(time.Millisecond))
			return lib
		}
		seedBench(b, lib, n)
		if _, err := s.DB().ExecContext(ctx, "VACUUM INTO ?", seed); err != nil {
			b.Fatalf("keeping the seeded library in %s: %v", seed, err)
		}
	} else {
		seedBench(b, lib, n)
	}
	b.Logf("%s: seeded %d assets in %v", kind, n, time.Since(start).Round(time.Millisecond))
	return lib
}

// loadBench finds the seeded library in a copy of a seeded database.
func loadBench(b *testing.B, lib *benchLib) {
	ctx := context.Background()
	db := lib.store.DB()
	if err := db.QueryRowContext(ctx, `SELECT id FROM accounts WHERE name = 'bench'`).Scan(&lib.account); err != nil {
		b.Fatalf("finding the seeded account: %v", err)
	}
	for path, id := range map[string]*int64{"big": &lib.bigDir, "top000": &lib.topDir} {
		if err := db.QueryRowContext(ctx, `SELECT id FROM folders WHERE account_id = ? AND path = ?`, lib.account, path).Scan(id); err != nil {
			b.Fatalf("finding seeded folder %s: %v", path, err)
		}
	}
	lib.assetIDs = readAssetIDs(b, lib)
}

func copyFile(b *testing.B, from, to string) {
	data, err := os.ReadFile(from)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o600); err != nil {
		b.Fatal(err)
	}
}

func seedBench(b *testing.B, lib *benchLib, n int) {
	ctx := context.Background()
	s := lib.store
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	acct, err := s.CreateAccount(ctx, catalog.NewAccount{Name: "bench"}, now)
	if err != nil {
		b.Fatal(err)
	}
	lib.account = acct.ID
	var folders []catalog.Folder
	for i := range 100 {
		top, err := s.CreateFolder(ctx, acct.ID, 0, nil, fmt.Sprintf("top%03d", i), fmt.Sprintf("top%03d", i), now)
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			lib.topDir = top.ID
		}
		for j := range 10 {
			sub, err := s.CreateFolder(ctx, acct.ID, 0, &top.ID, fmt.Sprintf("sub%02d", j), fmt.Sprintf("%s/sub%02d", top.Path, j), now)
			if err != nil {
				b.Fatal(err)
			}
			folders = append(folders, sub)
		}
	}
	big, err := s.CreateFolder(ctx, acct.ID, 0, nil, "big", "big", now)
	if err != nil {
		b.Fatal(err)
	}
	lib.bigDir = big.ID
	const batch = 500
	tags := []string{"red", "green", "blue", "cat", "dog", "sea", "city", "night"}
	for lo := 0; lo < n; lo += batch {
		err := s.InTx(ctx, func(tx *sql.Tx) error {
			var (
				q    strings.Builder
				args []any
			)
			q.WriteString(`INSERT INTO assets (account_id, folder_id, storage_id, name, path, size, etag, mod_time, mime, tags, created_at, updated_at) VALUES `)
			for i := lo; i < min(lo+batch, n); i++ {
				f := folders[i%len(folders)]
				if i < n/10 {
					f = big
				}
				name := fmt.Sprintf("IMG_%07d.jpg", (i*7919)%n)
				if i%1000 == 0 {
					name = fmt.Sprintf("needle_%d.jpg", i)
				}
				if i > lo {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
				tag := tags[i%len(tags)]
				args = append(args, acct.ID, f.ID, f.Path+"/"+name, name, f.Path+"/"+name, int64(i%5000)*1000, fmt.Sprintf("e%d", i),
					now.Add(time.Duration(i)*time.Second).UnixMilli(), "image/jpeg", `["`+tag+`"]`, now.UnixMilli(), now.UnixMilli())
			}
			if _, err := tx.ExecContext(ctx, s.Rebind(q.String()), args...); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, s.Rebind(`INSERT INTO asset_tags (account_id, tag, asset_id)
SELECT account_id, substr(tags, 3, length(tags) - 4), id FROM assets WHERE account_id = ? AND id > (SELECT COALESCE(MAX(asset_id), 0) FROM asset_tags)`), acct.ID)
			return err
		})
		if err != nil {
			b.Fatalf("seeding assets: %v", err)
		}
	}
	if _, err := s.DB().ExecContext(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	lib.assetIDs = readAssetIDs(b, lib)
}

func readAssetIDs(b *testing.B, lib *benchLib) []int64 {
	s := lib.store
	rows, err := s.DB().QueryContext(context.Background(), s.Rebind(`SELECT id FROM assets WHERE account_id = ? ORDER BY id`), lib.account)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return ids
}

func benchList(b *testing.B, lib *benchLib, q catalog.AssetQuery, pages int) {
	q.AccountID = lib.account
	ctx := context.Background()
	for b.Loop() {
		q := q
		for range pages {
			got, next, err := lib.store.ListAssets(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			if len(got) == 0 {
				b.Fatalf("query %+v returned nothing", q)
			}
			if next == "" {
				break
			}
			q.Cursor = next
		}
	}
}

// BenchmarkReadPaths times the library's read paths on one seeded library.
func BenchmarkReadPaths(b *testing.B) {
	lib := benchLibrary(b)
	ctx := context.Background()
	b.Run("BrowseBigFolderByName", func(b *testing.B) {
		benchList(b, lib, catalog.AssetQuery{FolderID: &lib.bigDir, Limit: 100}, 1)
	})
	b.Run("BrowseBigFolderBySize", func(b *testing.B) {
		benchList(b, lib, catalog.AssetQuery{FolderID: &lib.bigDir, Sort: catalog.SortSize, Limit: 100}, 1)
	})
	b.Run("BrowseBigFolderByDateDescAll100Pages", func(b *testing.B) {
		benchList(b, lib, catalog.AssetQuery{FolderID: &lib.bigDir, Sort: catalog.SortDate, Desc: true, Limit: 100}, 100)
	})
	b.Run("EverywhereByName", func(b *testing.B) {
		benchList(b, lib, catalog.AssetQuery{Recursive: true, Limit: 100}, 1)
	})
	b.Run("EverywhereByDateDesc", func(b *testing.B) {
		benchList(b, lib, catalog.AssetQuery{Recursive: true, Sort: catalog.SortDate, Desc: true, Limit: 100}, 1)
	})
	b.Run("SubtreeByName", func(b *testing.B) {
		benchList(b, lib, catalog.AssetQuery{FolderID: &lib.topDir, Recursive: true, Limit: 100}, 1)
	})
	b.Run("SearchNameEverywhere", func(b *testing.B) {
		benchList(b, lib, catalog.AssetQuery{Recursive: true, Q: "needle", Limit: 100}, 1)
	})
	b.Run("SearchTagEverywhere", func(b *testing.B) {
		benchList(b, lib, catalog.AssetQuery{Recursive: true, Tag: "night", Limit: 100}, 1)
	})
	b.Run("CountBigFolder", func(b *testing.B) {
		for b.Loop() {
			if _, err := lib.store.CountAssets(ctx, catalog.AssetQuery{AccountID: lib.account, FolderID: &lib.bigDir}); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The bounded counts a search page shows ("1,000+ match").
	countUpTo := func(b *testing.B, q catalog.AssetQuery) {
		q.AccountID = lib.account
		for b.Loop() {
			if _, _, err := lib.store.CountAssetsUpTo(ctx, q, 1000); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("CountUpToSearchNameEverywhere", func(b *testing.B) {
		countUpTo(b, catalog.AssetQuery{Recursive: true, Q: "needle"})
	})
	b.Run("CountUpToEverywhere", func(b *testing.B) {
		countUpTo(b, catalog.AssetQuery{Recursive: true})
	})
	b.Run("CountUpToTagEverywhere", func(b *testing.B) {
		countUpTo(b, catalog.AssetQuery{Recursive: true, Tag: "night"})
	})
	b.Run("RenameBigFolder", func(b *testing.B) {
		names := []string{"big-renamed", "big"}
		i := 0
		holds := trackBatchHolds(lib.store)
		probe := startWriteProbe(lib)
		for b.Loop() {
			name := names[i%2]
			if _, err := lib.store.MoveFolder(ctx, lib.account, 0, lib.bigDir, nil, name, name, time.Now()); err != nil {
				b.Fatal(err)
			}
			i++
		}
		longest, failed := probe.stop()
		b.ReportMetric(float64(len(lib.assetIDs)/10), "assets/rename")
		b.ReportMetric(float64(longest.Milliseconds()), "max-write-wait-ms")
		b.ReportMetric(float64(failed), "failed-writes")
		b.ReportMetric(float64(holds().Milliseconds()), "max-batch-hold-ms")
	})
	b.Run("GetAsset", func(b *testing.B) {
		i := 0
		for b.Loop() {
			if _, err := lib.store.GetAsset(ctx, lib.account, lib.assetIDs[(i*7919)%len(lib.assetIDs)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// trackBatchHolds records how long each batch of a folder move held the
// account; the returned function gives the longest.
func trackBatchHolds(s *catalog.Store) func() time.Duration {
	var longest time.Duration
	s.TuneFolderMoves(catalog.FolderMoveTuning{AfterBatch: func(_ int, held time.Duration) error {
		longest = max(longest, held)
		return nil
	}})
	return func() time.Duration { return longest }
}

// writeProbe edits one asset outside the renamed folder, over and over,
// while a benchmark runs: the longest edit is how long the account's
// library writes were held (the longest transaction holding the account).
type writeProbe struct {
	done    chan struct{}
	stopped chan struct{}
	longest time.Duration
	failed  int
}

func startWriteProbe(lib *benchLib) *writeProbe {
	p := &writeProbe{done: make(chan struct{}), stopped: make(chan struct{})}
	asset := lib.assetIDs[len(lib.assetIDs)-1] // seeded last: in a small folder
	go func() {
		defer close(p.stopped)
		ctx := context.Background()
		for i := 0; ; i++ {
			select {
			case <-p.done:
				return
			case <-time.After(5 * time.Millisecond):
			}
			rating := i % 6
			start := time.Now()
			_, err := lib.store.UpdateAssetMetadata(ctx, lib.account, asset, catalog.MetadataUpdate{Rating: &rating}, time.Now())
			p.longest = max(p.longest, time.Since(start))
			if err != nil {
				p.failed++ // SQLite gives up after its busy timeout (5 s)
			}
		}
	}()
	return p
}

// stop ends the probe and returns the longest edit and how many failed.
func (p *writeProbe) stop() (time.Duration, int) {
	close(p.done)
	<-p.stopped
	return p.longest, p.failed
}
