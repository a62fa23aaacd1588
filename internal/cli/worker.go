package cli

import (
	"context"
)

func runWorker(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "worker", `Works jobs without serving HTTP: syncs, the auto-sync scheduler (one
process is elected leader), thumbnails, webhook deliveries and emails. On
PostgreSQL run any number of workers beside 'shelf serve'; every due account
is synced once per interval and a killed worker's sync is retried by
another. Stops gracefully on SIGTERM, letting running jobs finish.`)
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	return a.RunWorker(ctx)
}
