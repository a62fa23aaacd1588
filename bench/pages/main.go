// Command pages measures the web app's server-rendered pages on a large
// library: it seeds one account with many assets (default 1,000,000)
// straight into the catalog through the sync engine's batch writes, then
// requests the main pages over loopback HTTP with a signed-in session and
// prints, per page, the median, 95th percentile and slowest answer time and
// the page size.
//
// The library has a folder of -big assets (default 10,000), the rest spread
// over 100 top-level folders with 10 subfolders each. With -db the SQLite
// file (or a postgres:// URL) is kept and reused by later runs.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shelf-dam/shelf/bench/internal/machine"
	"github.com/shelf-dam/shelf/internal/app"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
)

type options struct {
	assets, big, rounds, batch int
	db                         string
}

func main() {
	var opt options
	flag.IntVar(&opt.assets, "assets", 1_000_000, "assets in the library")
	flag.IntVar(&opt.big, "big", 10_000, "assets in the one big folder")
	flag.IntVar(&opt.rounds, "rounds", 30, "requests per page")
	flag.IntVar(&opt.batch, "batch", 5000, "assets per seeding transaction")
	flag.StringVar(&opt.db, "db", "", "catalog to use and keep (SQLite path or postgres:// URL); empty: a temporary SQLite file")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Hour)
	defer cancel()
	if err := run(ctx, opt); err != nil {
		fmt.Fprintln(os.Stderr, "pages benchmark:", err)
		os.Exit(1)
	}
}

const (
	benchEmail    = "bench@shelf.example"
	benchPassword = "a long benchmark password"
)

func run(ctx context.Context, opt options) error {
	dbURL := opt.db
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "shelf-bench-pages-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbURL = filepath.Join(dir, "shelf.db")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	dataDir, err := os.MkdirTemp("", "shelf-bench-pages-data-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	// The real wiring (app.Open, StartServices, Handler), so every page
	// has the services it needs; this process works no jobs.
	cfg := &config.Config{DatabaseURL: dbURL, DataDir: dataDir, SignupOpen: true, TrialLength: 14 * 24 * time.Hour,
		PublicURL: "http://127.0.0.1", SecretKey: strings.Repeat("07", 32)}
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer a.Close()
	svc, err := a.StartServices(ctx, app.ServicesOptions{})
	if err != nil {
		return err
	}
	defer svc.Stop(context.WithoutCancel(ctx))
	store := a.Store
	srv := httptest.NewServer(a.Handler(svc))
	defer srv.Close()
	c, err := signIn(srv.URL)
	if err != nil {
		return err
	}
	acct, err := accountID(c, srv.URL)
	if err != nil {
		return err
	}
	n, err := store.CountAssets(ctx, catalog.AssetQuery{AccountID: acct, Recursive: true})
	if err != nil {
		return err
	}
	if n == 0 {
		start := time.Now()
		if err := seed(ctx, store, acct, opt); err != nil {
			return err
		}
		d := time.Since(start)
		fmt.Printf("seeded %d assets in %s (%.0f assets/s) on %s\n", opt.assets, d.Round(time.Second), float64(opt.assets)/d.Seconds(), store.Dialect())
	} else {
		fmt.Printf("reusing a library of %d assets on %s\n", n, store.Dialect())
	}
	return measure(ctx, c, srv.URL, store, acct, opt)
}

// signIn signs up the benchmark account (or signs in to it when the
// catalog is reused) and returns a client holding the session cookie.
func signIn(base string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]any{"email": benchEmail, "password": benchPassword, "account_name": "Benchmark"})
	resp, err := c.Post(base+"/api/v1/signup", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		return nil, fmt.Errorf("signing up: HTTP %d", resp.StatusCode)
	}
	body, _ = json.Marshal(map[string]any{"email": benchEmail, "password": benchPassword})
	resp, err = c.Post(base+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("signing in: HTTP %d", resp.StatusCode)
	}
	return c, nil
}

func accountID(c *http.Client, base string) (int64, error) {
	resp, err := c.Get(base + "/api/v1/me")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var me struct {
		Account struct {
			ID int64 `json:"id"`
		} `json:"account"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&me); err != nil {
		return 0, fmt.Errorf("reading /api/v1/me: %w", err)
	}
	return me.Account.ID, nil
}

// seed writes the folders and assets in batches the way a first sync of a
// big library does since issue 12: the search index left to catch up after
// the rows (StartSearchBacklog), multi-row inserts (COPY on PostgreSQL),
// then the backlog filled and the planner statistics refreshed.
func seed(ctx context.Context, store *catalog.Store, acct int64, opt options) error {
	now := time.Now().UTC()
	if err := store.StartSearchBacklog(ctx, acct, now); err != nil {
		return err
	}
	var leaves []int64
	var bigID int64
	err := store.SyncApply(ctx, acct, now, func(tx *catalog.SyncTx) error {
		id, err := tx.AddFolder(nil, "big", "big", "big")
		if err != nil {
			return err
		}
		bigID = id
		for i := range 100 {
			name := fmt.Sprintf("folder-%03d", i)
			top, err := tx.AddFolder(nil, name, name, name)
			if err != nil {
				return err
			}
			for j := range 10 {
				sub := fmt.Sprintf("sub-%02d", j)
				id, err := tx.AddFolder(&top, name+"/"+sub, sub, name+"/"+sub)
				if err != nil {
					return err
				}
				leaves = append(leaves, id)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seeding folders: %w", err)
	}
	paths := map[int64]string{bigID: "big"}
	for i, id := range leaves {
		paths[id] = fmt.Sprintf("folder-%03d/sub-%02d", i/10, i%10)
	}
	kinds := []struct{ ext, mime string }{{"jpg", "image/jpeg"}, {"png", "image/png"}, {"mp4", "video/mp4"}, {"pdf", "application/pdf"}, {"txt", "text/plain"}}
	for done := 0; done < opt.assets; {
		end := min(done+opt.batch, opt.assets)
		err := store.SyncApply(ctx, acct, now, func(tx *catalog.SyncTx) error {
			var folders []*int64
			var files []catalog.SyncFile
			for i := done; i < end; i++ {
				folder := bigID
				if i >= opt.big {
					folder = leaves[i%len(leaves)]
				}
				k := kinds[i%len(kinds)]
				name := fmt.Sprintf("asset-%07d.%s", i, k.ext)
				p := paths[folder] + "/" + name
				mod := now.Add(-time.Duration(i) * time.Minute)
				f := folder
				folders = append(folders, &f)
				files = append(files, catalog.SyncFile{StorageID: p, Name: name, Path: p, Size: int64(1000 + (i*7919)%5_000_000), ETag: fmt.Sprintf("e%d", i), ModTime: &mod, MIME: k.mime})
			}
			return tx.AddAssets(folders, files)
		})
		if err != nil {
			return fmt.Errorf("seeding assets %d–%d: %w", done, end, err)
		}
		done = end
		if done%100_000 == 0 {
			fmt.Fprintf(os.Stderr, "seeded %d assets\n", done)
		}
	}
	start := time.Now()
	for {
		finished, err := store.FillSearchBacklog(ctx, acct, 5000)
		if err != nil {
			return fmt.Errorf("filling the search index: %w", err)
		}
		if finished {
			break
		}
	}
	fmt.Fprintf(os.Stderr, "search index caught up in %s\n", time.Since(start).Round(time.Second))
	return store.SyncAnalyze(ctx, "assets", "folders")
}

// page is one measured URL.
type page struct{ name, path string }

var moreRE = regexp.MustCompile(`data-more="(/library/items\?[^"]+)"`)

func measure(ctx context.Context, c *http.Client, base string, store *catalog.Store, acct int64, opt options) error {
	big, err := store.GetFolderByPath(ctx, acct, "big")
	if err != nil {
		return fmt.Errorf("finding the big folder: %w", err)
	}
	leaf, err := store.GetFolderByPath(ctx, acct, "folder-050/sub-05")
	if err != nil {
		return fmt.Errorf("finding a leaf folder: %w", err)
	}
	top, err := store.GetFolderByPath(ctx, acct, "folder-050")
	if err != nil {
		return err
	}
	assets, _, err := store.ListAssets(ctx, catalog.AssetQuery{AccountID: acct, FolderID: &big.ID, Limit: 1})
	if err != nil || len(assets) == 0 {
		return fmt.Errorf("finding an asset: %v", err)
	}
	// A cursor deep in the big folder: follow the list view to its last page.
	deep := fmt.Sprintf("/library/folder/%d?view=list", big.ID)
	for range 100 {
		_, body, err := get(c, base+deep)
		if err != nil {
			return err
		}
		m := moreRE.FindStringSubmatch(body)
		if m == nil {
			break
		}
		deep = strings.ReplaceAll(m[1], "&amp;", "&")
	}
	pages := []page{
		{"library root", "/library"},
		{"big folder (10k), grid by name", fmt.Sprintf("/library/folder/%d", big.ID)},
		{"big folder, list by size desc", fmt.Sprintf("/library/folder/%d?view=list&sort=size&order=desc", big.ID)},
		{"big folder, list by date", fmt.Sprintf("/library/folder/%d?view=list&sort=date", big.ID)},
		{"big folder, last page (scroll)", deep},
		{"nested folder", fmt.Sprintf("/library/folder/%d", leaf.ID)},
		{"tree children (lazy)", fmt.Sprintf("/library/tree?parent=%d", top.ID)},
		{"search everywhere, by name", "/library?q=asset-0424242&scope=all"},
		{"search everywhere, name part", "/library?q=0424242&scope=all"},
		{"search everywhere, by type", "/library?type=video/&scope=all"},
		{"search in folder", fmt.Sprintf("/library/folder/%d?q=0004242", big.ID)},
		{"asset page", fmt.Sprintf("/assets/%d", assets[0].ID)},
		{"settings: sync", "/settings/sync"},
		{"settings: storage", "/settings/storage"},
		{"team", "/team"},
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "page\tmin ms\tp50 ms\tp95 ms\tmax ms\tKB\t\n")
	worst := time.Duration(0)
	for _, p := range pages {
		var times []time.Duration
		size := 0
		for range opt.rounds {
			start := time.Now()
			code, body, err := get(c, base+p.path)
			d := time.Since(start)
			if err != nil {
				return err
			}
			if code != http.StatusOK {
				return fmt.Errorf("%s: HTTP %d: %.300s", p.path, code, body)
			}
			size = len(body)
			times = append(times, d)
		}
		slices.Sort(times)
		p50, p95, mx := times[len(times)/2], times[len(times)*95/100], times[len(times)-1]
		worst = max(worst, p95)
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t%.1f\t\n", p.name, ms(times[0]), ms(p50), ms(p95), ms(mx), float64(size)/1000)
	}
	tw.Flush()
	fmt.Printf("slowest p95: %.1f ms (target: under 100 ms); load average while measuring: %s\n", ms(worst), machine.LoadAverage())
	return nil
}

func get(c *http.Client, url string) (int, string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
