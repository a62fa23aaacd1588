package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"github.com/shelf-dam/shelf/internal/app"
	"github.com/shelf-dam/shelf/internal/catalog"
)

func runSync(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "sync", `Syncs one account now, in the foreground, showing progress (a progress bar
on a terminal, plain lines otherwise) and printing the summary. No plan limit
applies (operator action). If a sync of the account is already running, it
follows that one instead of starting another; a sync whose worker died (a
killed 'shelf sync') is taken over once its lease expires, and a retry that
waits is run at once. Exit status 1 when the sync fails or waits for an
admin's confirmation.`)
	id := fs.Int64("account", 0, "account ID (required)")
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	if *id <= 0 {
		return usagef("--account is required ('shelf account list' shows the IDs)")
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if _, err := a.Store.GetAccount(ctx, *id); errors.Is(err, catalog.ErrNotFound) {
		return fmt.Errorf("no account %d; 'shelf account list' shows the accounts", *id)
	}
	svc, err := a.StartServices(ctx, app.ServicesOptions{Work: true})
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = svc.Stop(sctx)
	}()
	run, started, err := svc.Syncs.StartCLISync(ctx, *id, a.Now())
	if err != nil {
		return err
	}
	if started {
		fmt.Fprintf(env.Stdout, "sync run %d started for account %d\n", run.ID, *id)
	} else {
		fmt.Fprintf(env.Stdout, "a sync of account %d is already %s (run %d); following it\n", *id, run.State, run.ID)
	}
	final, err := follow(ctx, a, svc, run, env.Stdout)
	if err != nil {
		return err
	}
	// A run whose worker died (this command killed, say) fails once its
	// lease expires, and its retry waits: take it over, and report how the
	// sync really ended.
	for range maxTakeovers {
		if final.State != catalog.RunFailed {
			break
		}
		next, ok, err := svc.Syncs.TakeOverRetry(ctx, *id, a.Now())
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		fmt.Fprintf(env.Stdout, "run %d failed (%s); its retry runs now as run %d\n", final.ID, final.Error, next.ID)
		if final, err = follow(ctx, a, svc, next, env.Stdout); err != nil {
			return err
		}
	}
	c := final.Counts
	fmt.Fprintf(env.Stdout, "run %d %s in %s: seen %d, added %d, updated %d, moved %d, removed %d, errors %d\n",
		final.ID, final.State, duration(final), c.Seen, c.Added, c.Updated, c.Moved, c.Removed, c.Errors)
	switch final.State {
	case catalog.RunFailed:
		return fmt.Errorf("sync failed: %s", final.Error)
	case catalog.RunNeedsConfirmation:
		return fmt.Errorf("sync stopped before removing files: %s", final.Error)
	}
	return nil
}

// maxTakeovers bounds how many retries one `shelf sync` takes over.
const maxTakeovers = 5

// follow polls the run until it ends, drawing progress. A run whose worker
// died (a killed `shelf sync`) ends when its lease expires: follow reaps
// expired leases itself rather than wait for the scheduler's tick.
func follow(ctx context.Context, a *app.App, svc *app.Services, run catalog.SyncRun, out io.Writer) (catalog.SyncRun, error) {
	var bar *progressbar.ProgressBar
	if f, ok := out.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(out), progressbar.OptionSetDescription("syncing"),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("files"),
			progressbar.OptionThrottle(100*time.Millisecond), progressbar.OptionClearOnFinish())
	}
	lastLine, lastReap := time.Time{}, time.Now()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return run, fmt.Errorf("stopped waiting for run %d (it goes on in the background): %w", run.ID, ctx.Err())
		case <-tick.C:
		}
		if time.Since(lastReap) >= 2*time.Second {
			lastReap = time.Now()
			if _, err := svc.Syncs.ReapExpiredLeases(ctx, a.Now()); err != nil {
				a.Logger.Warn("reaping expired sync leases", "err", err)
			}
		}
		cur, err := a.Store.GetSyncRun(ctx, run.AccountID, run.ID)
		if err != nil {
			return run, err
		}
		run = cur
		if bar != nil {
			if run.TotalEstimate != nil && *run.TotalEstimate > 0 {
				bar.ChangeMax64(*run.TotalEstimate)
			}
			_ = bar.Set64(run.Counts.Seen)
		} else if time.Since(lastLine) >= 2*time.Second {
			fmt.Fprintf(out, "%s: %s\n", run.State, progressLine(run))
			lastLine = time.Now()
		}
		if run.State != catalog.RunQueued && run.State != catalog.RunRunning {
			if bar != nil {
				_ = bar.Finish()
			}
			return run, nil
		}
	}
}

func progressLine(r catalog.SyncRun) string {
	c := r.Counts
	s := fmt.Sprintf("seen %d", c.Seen)
	if r.TotalEstimate != nil && *r.TotalEstimate > 0 {
		s += fmt.Sprintf(" of ~%d", *r.TotalEstimate)
	}
	return s + fmt.Sprintf(", added %d, updated %d, moved %d, removed %d", c.Added, c.Updated, c.Moved, c.Removed)
}

func duration(r catalog.SyncRun) string {
	if r.StartedAt == nil || r.FinishedAt == nil {
		return "-"
	}
	return r.FinishedAt.Sub(*r.StartedAt).Round(time.Millisecond).String()
}
