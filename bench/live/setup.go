package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/shelf-dam/shelf/internal/app"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/live"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
	"github.com/shelf-dam/shelf/internal/syncrun"
)

// livePolicy makes the trial plan (every new account's) sync live.
const livePolicy = `
[plans.trial]
drive_auto = "live"
s3_auto = "live"
local_auto = "live"
`

const (
	oauthClientID     = "shelf-bench-client"
	oauthClientSecret = "shelf-bench-secret"
)

// serverOptions describe one in-process Shelf.
type serverOptions struct {
	db       string // "": a temporary SQLite file; postgres://…: a fresh database on that server
	policy   string // lines put above livePolicy (drive_live_poll = "15s")
	publicMe bool   // false: SHELF_PUBLIC_URL is a non-loopback http URL (no Drive push)
	drive    *drivefake.Server
	logLevel slog.Level
}

// shelf is a whole Shelf server (HTTP, jobs, live sync) in this process.
type shelf struct {
	app     *app.App
	svc     *app.Services
	url     string // where it listens
	local   string // an allowed local root
	batches *batchCounter
	close   func()
}

// startShelf starts a server as `shelf serve` would, with a policy making
// the trial plan live and the live settings at their defaults (bar a quick
// supervision round, so connected accounts are watched at once).
func startShelf(ctx context.Context, o serverOptions) (*shelf, error) {
	dir, err := os.MkdirTemp("", "shelf-bench-live-")
	if err != nil {
		return nil, err
	}
	var cleanups []func()
	cleanup := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		os.RemoveAll(dir)
	}
	dbURL := filepath.Join(dir, "shelf.db")
	if strings.HasPrefix(o.db, "postgres") {
		u, drop, err := freshDatabase(ctx, o.db)
		if err != nil {
			cleanup()
			return nil, err
		}
		dbURL = u
		cleanups = append(cleanups, drop)
	}
	local := filepath.Join(dir, "storage")
	pf := filepath.Join(dir, "policy.toml")
	if err := os.MkdirAll(local, 0o755); err != nil {
		cleanup()
		return nil, err
	}
	if err := os.WriteFile(pf, []byte(o.policy+"\n"+livePolicy), 0o644); err != nil {
		cleanup()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cleanup()
		return nil, err
	}
	base := "http://" + ln.Addr().String()
	public := base
	if !o.publicMe {
		public = "http://shelf.example.invalid"
	}
	cfg := &config.Config{
		Listen: ln.Addr().String(), PublicURL: public, DatabaseURL: dbURL, DataDir: dir,
		SecretKey:  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		LocalRoots: []string{local}, PolicyFile: pf, SignupOpen: true, TrialLength: 14 * 24 * time.Hour,
		LogLevel: o.logLevel.String(), LogFormat: "text",
	}
	if o.drive != nil {
		cfg.GoogleClientID, cfg.GoogleClientSecret = oauthClientID, oauthClientSecret
		cfg.GoogleAuthURL, cfg.GoogleTokenURL, cfg.DriveEndpoint = o.drive.AuthURL(), o.drive.TokenURL(), o.drive.URL()
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: o.logLevel}))
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	a, err := app.Open(sctx, cfg, logger)
	if err != nil {
		cancel()
		ln.Close()
		cleanup()
		return nil, err
	}
	bc := &batchCounter{runs: map[int64]bool{}}
	svc, err := a.StartServices(sctx, app.ServicesOptions{Work: true,
		Live: func(c *live.Config) {
			c.SuperviseEvery = 200 * time.Millisecond
			bc.inner, c.Batches = c.Batches, bc
		}})
	if err != nil {
		cancel()
		a.Close()
		ln.Close()
		cleanup()
		return nil, err
	}
	srv := &http.Server{Handler: a.Handler(svc), ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelError)}
	go func() { _ = srv.Serve(ln) }()
	s := &shelf{app: a, svc: svc, url: base, local: local, batches: bc}
	s.close = func() {
		sc, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = srv.Shutdown(sc)
		_ = svc.Stop(sc)
		cancel()
		a.Close()
		cleanup()
	}
	return s, nil
}

// freshDatabase creates an empty database on the PostgreSQL server at
// admin and returns its URL and a function dropping it.
func freshDatabase(ctx context.Context, admin string) (string, func(), error) {
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", nil, fmt.Errorf("connecting to PostgreSQL (-db): %w", err)
	}
	defer conn.Close(ctx)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "shelf_bench_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", nil, fmt.Errorf("creating a benchmark database: %w", err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", nil, err
	}
	u.Path = "/" + name
	drop := func() {
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(dctx, admin)
		if err != nil {
			return
		}
		defer c.Close(dctx)
		_, _ = c.Exec(dctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	return u.String(), drop, nil
}

// batchCounter counts the live batches the server applies (it sits
// between the live service and syncrun).
type batchCounter struct {
	inner live.Batcher

	mu    sync.Mutex
	stats batchStats
	runs  map[int64]bool
}

type batchStats struct {
	batches  int // applied (or failed) batches
	relists  int // batches re-listing the whole root (overflow, catch-up)
	paths    int // paths handed to batches
	busy     int // batches refused with ErrLiveBusy (the paths wait)
	failed   int
	inFlight int
	runs     int // distinct history rows the batches were summed into
	longest  time.Duration
}

func (b *batchCounter) LiveBatch(ctx context.Context, accountID int64, paths []string) (syncrun.LiveResult, error) {
	b.mu.Lock()
	b.stats.inFlight++
	b.mu.Unlock()
	start := time.Now()
	res, err := b.inner.LiveBatch(ctx, accountID, paths)
	took := time.Since(start)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats.inFlight--
	switch {
	case errors.Is(err, syncrun.ErrLiveBusy):
		b.stats.busy++
		return res, err
	case err != nil:
		b.stats.failed++
	}
	b.stats.batches++
	b.stats.paths += len(paths)
	for _, p := range paths {
		if p == "" {
			b.stats.relists++
			break
		}
	}
	if res.RunID != 0 && !b.runs[res.RunID] {
		b.runs[res.RunID] = true
		b.stats.runs++
	}
	b.stats.longest = max(b.stats.longest, took)
	return res, err
}

// settledSnapshot waits (up to 10 s) for batches in flight to return, then
// returns the counters.
func (b *batchCounter) settledSnapshot() batchStats {
	for range 200 {
		if b.snapshot().inFlight == 0 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return b.snapshot()
}

func (b *batchCounter) snapshot() batchStats {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.stats
}

// reset zeroes the counters (a batch in flight still counts as in flight).
func (b *batchCounter) reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stats = batchStats{inFlight: b.stats.inFlight}
	b.runs = map[int64]bool{}
}

// settled reports whether the account has nothing left to apply: no
// changes waiting in live_events and no batch running.
func (s *shelf) settled(ctx context.Context) (bool, error) {
	var n int
	if err := s.app.Store.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM live_events`).Scan(&n); err != nil {
		return false, err
	}
	return n == 0 && s.batches.snapshot().inFlight == 0, nil
}

// countAssets is the number of live assets in the account's catalog.
func (s *shelf) countAssets(ctx context.Context, accountID int64) (int64, error) {
	return s.app.Store.CountAssets(ctx, catalog.AssetQuery{AccountID: accountID, Recursive: true})
}

// waitRun waits for a sync run to end.
func (s *shelf) waitRun(ctx context.Context, accountID, runID int64, limit time.Duration) (catalog.SyncRun, error) {
	var run catalog.SyncRun
	err := poll(ctx, limit, 50*time.Millisecond, func() (bool, error) {
		var err error
		run, err = s.app.Store.GetSyncRun(ctx, accountID, runID)
		return err == nil && run.State != catalog.RunQueued && run.State != catalog.RunRunning, err
	})
	if err != nil {
		return run, fmt.Errorf("waiting for sync run %d: %w", runID, err)
	}
	return run, nil
}

// poll calls cond every `every` until it is true, fails, or limit passed.
func poll(ctx context.Context, limit, every time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(limit)
	for {
		ok, err := cond()
		if err != nil || ok {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}
