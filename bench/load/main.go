// Command load floods one account of an in-process Shelf server with
// concurrent searches and measures what everyone else sees meanwhile: it
// seeds a library (default 100,000 assets) straight into the catalog, signs
// up a flooding account (API token) and a second account (session cookie),
// fires -n searches at once from the first, and while they run probes the
// second account's GET /api/v1/me and GET /readyz at a fixed pace. It prints,
// per kind of request, the answers by status and the p50 / p99 / slowest
// latency. With -duration the flood is kept up: each client searches again
// as soon as it is answered.
//
// With -db the SQLite file (or a postgres:// URL) is kept and reused by
// later runs.
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
	"slices"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/shelf-dam/shelf/bench/internal/machine"
	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/secrets"
	"github.com/shelf-dam/shelf/internal/web"
)

type options struct {
	assets, n int
	search    string
	db        string
	probe     time.Duration
	timeout   time.Duration
	duration  time.Duration
}

func main() {
	var opt options
	flag.IntVar(&opt.assets, "assets", 100_000, "assets in the flooding account's library")
	flag.IntVar(&opt.n, "n", 1000, "concurrent searches of the flooding account")
	flag.StringVar(&opt.search, "search", "q=asset&sort=size&order=desc", "query string of each search (GET /api/v1/assets?…)")
	flag.StringVar(&opt.db, "db", "", "catalog to use and keep (SQLite path or postgres:// URL); empty: a temporary SQLite file")
	flag.DurationVar(&opt.probe, "probe", 200*time.Millisecond, "pace of the other account's /me and of /readyz during the flood")
	flag.DurationVar(&opt.timeout, "timeout", 5*time.Minute, "client timeout of every request")
	flag.DurationVar(&opt.duration, "duration", 0, "keep the flood up this long: each of the -n clients searches again as soon as it is answered, ignoring Retry-After (0: one search each)")
	flag.Parse()
	ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
	defer cancel()
	if err := run(ctx, opt); err != nil {
		fmt.Fprintln(os.Stderr, "load benchmark:", err)
		os.Exit(1)
	}
}

const benchPassword = "a long benchmark password"

func run(ctx context.Context, opt options) error {
	dbURL := opt.db
	if dbURL == "" {
		dir, err := os.MkdirTemp("", "shelf-bench-load-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		dbURL = filepath.Join(dir, "shelf.db")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	store, err := catalog.Open(ctx, dbURL, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	box, err := secrets.NewBox(bytes.Repeat([]byte{7}, secrets.KeySize))
	if err != nil {
		return err
	}
	cfg := &config.Config{SignupOpen: true, TrialLength: 14 * 24 * time.Hour, PublicURL: "http://127.0.0.1"}
	h := web.New(web.Deps{Store: store, Config: cfg, Logger: logger,
		Accounts: accounts.New(accounts.Config{Store: store, TrialLength: cfg.TrialLength, SignupOpen: true, Now: time.Now}),
		Webhooks: notify.NewWebhooks(store, box, time.Now)})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = slog.NewLogLogger(logger.Handler(), slog.LevelError)
	srv.Start()
	defer srv.Close()

	flooder, acct, err := signIn(srv.URL, "flood@shelf.example", true, opt)
	if err != nil {
		return err
	}
	other, _, err := signIn(srv.URL, "other@shelf.example", false, opt)
	if err != nil {
		return err
	}
	n, err := store.CountAssets(ctx, catalog.AssetQuery{AccountID: acct, Recursive: true})
	if err != nil {
		return err
	}
	if n == 0 {
		start := time.Now()
		if err := seed(ctx, store, acct, opt.assets); err != nil {
			return err
		}
		fmt.Printf("seeded %d assets in %s on %s\n", opt.assets, time.Since(start).Round(time.Second), store.Dialect())
	} else {
		fmt.Printf("reusing a library of %d assets on %s\n", n, store.Dialect())
	}

	searchURL := srv.URL + "/api/v1/assets?" + opt.search
	alone := flooder.get(searchURL)
	if alone.status != http.StatusOK {
		return fmt.Errorf("a single search answered HTTP %d", alone.status)
	}
	fmt.Printf("one search alone: %.1f ms; load average before the flood: %s\n", ms(alone.took), machine.LoadAverage())

	var (
		wg       sync.WaitGroup
		flood    = make([][]result, opt.n)
		start    = make(chan struct{})
		done     = make(chan struct{})
		me, rdy  []result
		mu       sync.Mutex
		probesWG sync.WaitGroup
	)
	for i := range flood {
		wg.Go(func() {
			<-start
			until := time.Now().Add(opt.duration)
			for {
				flood[i] = append(flood[i], flooder.get(searchURL))
				if time.Now().After(until) {
					return
				}
			}
		})
	}
	probe := func(c *client, url string, out *[]result) {
		defer probesWG.Done()
		t := time.NewTicker(opt.probe)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				// Probes go out at a fixed pace whether or not the previous
				// one answered, as a load balancer's would.
				probesWG.Add(1)
				go func() {
					defer probesWG.Done()
					r := c.get(url)
					mu.Lock()
					*out = append(*out, r)
					mu.Unlock()
				}()
			}
		}
	}
	health := newClient(nil, "", opt.timeout)
	probesWG.Add(2)
	go probe(other, srv.URL+"/api/v1/me", &me)
	go probe(health, srv.URL+"/readyz", &rdy)
	began := time.Now()
	close(start)
	wg.Wait()
	wall := time.Since(began)
	close(done)
	probesWG.Wait()
	loadAfter := machine.LoadAverage()

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "requests\tn\t200\t429\t503\tother\tRetry-After\tp50 ms\tp99 ms\tmax ms\t\n")
	name := fmt.Sprintf("flooding account: %d concurrent searches", opt.n)
	if opt.duration > 0 {
		name = fmt.Sprintf("flooding account: %d clients searching for %s", opt.n, opt.duration)
	}
	row(tw, name, slices.Concat(flood...))
	row(tw, "other account: GET /api/v1/me", me)
	row(tw, "GET /readyz", rdy)
	tw.Flush()
	fmt.Printf("flood took %.1f s on %s; load average after: %s\n", wall.Seconds(), store.Dialect(), loadAfter)
	return nil
}

// result is one answered (or failed) request.
type result struct {
	status     int // 0: no answer (transport error or client timeout)
	took       time.Duration
	retryAfter bool
}

func row(w io.Writer, name string, rs []result) {
	var times []time.Duration
	count := map[int]int{}
	other, retry := 0, 0
	for _, r := range rs {
		times = append(times, r.took)
		switch r.status {
		case http.StatusOK, http.StatusTooManyRequests, http.StatusServiceUnavailable:
			count[r.status]++
		default:
			other++
		}
		if r.retryAfter {
			retry++
		}
	}
	if len(times) == 0 {
		fmt.Fprintf(w, "%s\t0\t\t\t\t\t\t\t\t\t\n", name)
		return
	}
	slices.Sort(times)
	pct := func(p int) float64 { return ms(times[min(len(times)-1, len(times)*p/100)]) }
	fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%.0f\t%.0f\t%.0f\t\n", name, len(rs),
		count[http.StatusOK], count[http.StatusTooManyRequests], count[http.StatusServiceUnavailable], other, retry,
		pct(50), pct(99), ms(times[len(times)-1]))
}

// client is one user's HTTP client: its own connections, as separate
// users' browsers or scripts would have.
type client struct {
	http  *http.Client
	token string
}

func newClient(jar http.CookieJar, token string, timeout time.Duration) *client {
	tr := &http.Transport{MaxIdleConns: 0, MaxIdleConnsPerHost: 2000, IdleConnTimeout: time.Minute}
	return &client{http: &http.Client{Jar: jar, Transport: tr, Timeout: timeout}, token: token}
}

func (c *client) get(url string) result {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return result{}
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		return result{took: time.Since(start)}
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return result{status: resp.StatusCode, took: time.Since(start), retryAfter: resp.Header.Get("Retry-After") != ""}
}

// signIn signs up an account (or signs in to it when the catalog is
// reused) and returns its client, with an API token or a session cookie,
// and its account id.
func signIn(base, email string, token bool, opt options) (*client, int64, error) {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]any{"email": email, "password": benchPassword, "account_name": email})
	resp, err := hc.Post(base+"/api/v1/signup", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusConflict {
		return nil, 0, fmt.Errorf("signing up %s: HTTP %d", email, resp.StatusCode)
	}
	body, _ = json.Marshal(map[string]any{"email": email, "password": benchPassword, "api_token": token})
	resp, err = hc.Post(base+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	var login struct {
		Token   string `json:"token"`
		Account struct {
			ID int64 `json:"id"`
		} `json:"account"`
	}
	if resp.StatusCode != http.StatusOK {
		return nil, 0, fmt.Errorf("signing in %s: HTTP %d", email, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&login); err != nil {
		return nil, 0, fmt.Errorf("reading the sign-in answer: %w", err)
	}
	if token {
		return newClient(nil, login.Token, opt.timeout), login.Account.ID, nil
	}
	return newClient(jar, "", opt.timeout), login.Account.ID, nil
}

// seed writes folders and assets in batches, as a first sync would: 100
// folders, names sharing the word "asset" so that a search for it matches
// the whole library.
func seed(ctx context.Context, store *catalog.Store, acct int64, assets int) error {
	now := time.Now().UTC()
	var folders []int64
	err := store.SyncApply(ctx, acct, now, func(tx *catalog.SyncTx) error {
		for i := range 100 {
			name := fmt.Sprintf("folder-%03d", i)
			id, err := tx.AddFolder(nil, name, name, name)
			if err != nil {
				return err
			}
			folders = append(folders, id)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seeding folders: %w", err)
	}
	const batch = 5000
	for done := 0; done < assets; done += batch {
		end := min(done+batch, assets)
		err := store.SyncApply(ctx, acct, now, func(tx *catalog.SyncTx) error {
			for i := done; i < end; i++ {
				f := folders[i%len(folders)]
				name := fmt.Sprintf("asset-%07d.jpg", i)
				p := fmt.Sprintf("folder-%03d/%s", i%len(folders), name)
				mod := now.Add(-time.Duration(i) * time.Minute)
				if _, err := tx.AddAsset(&f, catalog.SyncFile{StorageID: p, Name: name, Path: p, Size: int64(1000 + (i*7919)%5_000_000),
					ETag: fmt.Sprintf("e%d", i), ModTime: &mod, MIME: "image/jpeg"}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("seeding assets %d–%d: %w", done, end, err)
		}
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
