package cli

import (
	"context"
	"flag"
)

func runServe(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "serve", `Runs Shelf: the web app, the JSON API under /api/v1, server-sent events,
/healthz, /readyz and /metrics, plus job workers (syncs, auto-sync
scheduling, thumbnails, webhooks). Stops gracefully on SIGTERM or Ctrl-C.`)
	fs.Bool("no-workers", false, "serve HTTP only and leave jobs to 'shelf worker' processes (PostgreSQL)")
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	noWorkers := fs.Lookup("no-workers").Value.(flag.Getter).Get().(bool)
	return a.Run(ctx, !noWorkers, nil)
}
