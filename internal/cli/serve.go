package cli

import (
	"context"
	"log/slog"
)

func runServe(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "serve", `Runs Shelf: the web app, the JSON API under /api/v1, server-sent events,
/healthz, /readyz and /metrics, plus job workers (syncs, auto-sync
scheduling, thumbnails, webhooks). Stops gracefully on SIGTERM or Ctrl-C.`)
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := a.Listen()
	if err != nil {
		return err
	}
	a.Logger.Info("shelf serving", slog.String("url", cfg.PublicURL), slog.String("database", a.Store.Dialect()))
	return a.ServeHTTP(ctx, ln, a.Handler())
}
