package cli

import (
	"context"
	"fmt"
)

func runMigrate(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "migrate", `Applies the catalog's database migrations (Shelf's and River's) and exits.
Every other command also migrates at start-up; run this one to migrate ahead
of a rolling upgrade.`)
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	fmt.Fprintf(env.Stdout, "database is up to date (%s)\n", a.Store.Dialect())
	return nil
}
