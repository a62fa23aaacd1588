// Package app wires Shelf together once: configuration, the catalog, the
// secret box, the plans policy, metrics, the HTTP server and (as they land)
// the job workers. Commands in internal/cli build an App and run part of it.
package app

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/secrets"
)

// App is a wired Shelf process.
type App struct {
	Cfg    *config.Config
	Logger *slog.Logger
	Store  *catalog.Store
	Box    *secrets.Box
	Policy *policy.Policy
	// Accounts signs up, signs in and manages accounts and users (web and
	// CLI alike).
	Accounts *accounts.Service
	Registry *prometheus.Registry
	Now      func() time.Time
}

// Open connects to the catalog, applies migrations, loads (or generates)
// the secret key and the plans policy, and builds the accounts service.
func Open(ctx context.Context, cfg *config.Config, logger *slog.Logger) (*App, error) {
	if !cfg.IsPostgres() {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("creating data directory %s: %w", cfg.DataDir, err)
		}
	}
	pol := policy.Default()
	if cfg.PolicyFile != "" {
		p, err := policy.Load(cfg.PolicyFile)
		if err != nil {
			return nil, fmt.Errorf("loading the plans policy file (SHELF_POLICY_FILE): %w", err)
		}
		pol = p
	}
	key, err := secrets.LoadOrCreateKey(cfg.SecretKey, cfg.DataDir, logger)
	if err != nil {
		return nil, err
	}
	box, err := secrets.NewBox(key)
	if err != nil {
		return nil, err
	}
	store, err := catalog.Open(ctx, cfg.DatabaseURL, logger)
	if err != nil {
		return nil, err
	}
	if err := store.Migrate(ctx); err != nil {
		store.Close()
		return nil, err
	}
	now := func() time.Time { return time.Now().UTC() }
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return &App{
		Cfg:      cfg,
		Logger:   logger,
		Store:    store,
		Box:      box,
		Policy:   pol,
		Accounts: accounts.New(accounts.Config{Store: store, TrialLength: cfg.TrialLength, SignupOpen: cfg.SignupOpen, Logger: logger, Now: now}),
		Registry: reg,
		Now:      now,
	}, nil
}

// Close releases what Open acquired.
func (a *App) Close() error { return a.Store.Close() }

// NewLogger builds the process logger from the configuration.
func NewLogger(cfg *config.Config, w *os.File) *slog.Logger {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		level = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
