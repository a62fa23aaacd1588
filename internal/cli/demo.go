package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/app"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/demo"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncrun"
)

// demoEmail is the sign-in of the demo account's admin.
const demoEmail = "demo@shelf.example"

// demoSyncWait bounds how long the start-up sync may hold back the sign-in.
const demoSyncWait = time.Minute

func runDemo(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "demo", `Runs Shelf on the embedded default (SQLite under the data directory) with a
demo account whose storage is a local folder of generated sample images in
nested folders (DATA_DIR/demo-library). It syncs the folder, serves the web
app and prints the URL and the sign-in last. The demo syncs live: add, edit,
move or delete files in the demo folder and the open library shows it within
seconds. The password is generated on the
first start and kept in DATA_DIR/`+demo.PasswordFile+` (delete it for a new one).`)
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	libDir, err := filepath.Abs(filepath.Join(cfg.DataDir, "demo-library"))
	if err != nil {
		return err
	}
	n, err := demo.Generate(libDir)
	if err != nil {
		return err
	}
	cfg.LocalRoots = append(cfg.LocalRoots, libDir)

	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	if n > 0 {
		a.Logger.Info("generated demo library", slog.String("path", libDir), slog.Int("files", n))
	}
	password, _, err := demo.Password(cfg.DataDir)
	if err != nil {
		return err
	}
	acct, err := ensureDemoAccount(ctx, a, password, libDir)
	if err != nil {
		return err
	}
	// The demo runs live whatever its plan (SPEC §3.4): a newcomer who drops
	// a file into the folder sees it appear in the open library page.
	for _, plan := range policy.Plans() {
		a.Policy = a.Policy.WithLive(plan)
	}
	// The sign-in is printed once the start-up sync has finished, so that it
	// comes after the start-up logs instead of scrolling away among them.
	var printed sync.WaitGroup
	defer printed.Wait()
	return a.Run(ctx, true, func(url string, svc *app.Services) {
		// Subscribed before the sync starts, so its end cannot be missed.
		ended, unsubscribe := svc.Queue.Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed,
			river.EventKindJobCancelled, river.EventKindJobSnoozed)
		err := startDemoSync(ctx, a, svc, acct.ID)
		if err != nil {
			a.Logger.Error("starting the demo library's sync", slog.Any("err", err))
		}
		printed.Add(1)
		go func() {
			defer printed.Done()
			defer unsubscribe()
			if err == nil {
				waitForSyncJob(ctx, ended, demoSyncWait)
				waitLiveCaughtUp(ctx, a, acct.ID, demoSyncWait)
			}
			if ctx.Err() != nil {
				return
			}
			fmt.Fprintf(env.Stdout, "\nShelf demo is running at %s\n  sign in as: %s\n  password:   %s (kept in %s)\n  library:    %s (a local folder, synced live: change files there and watch the library)\n  account:    %d on plan %s\nStop with Ctrl-C.\n\n",
				url, demoEmail, password, filepath.Join(cfg.DataDir, demo.PasswordFile), libDir, acct.ID, acct.Plan)
		}()
	})
}

// ensureDemoAccount creates the demo account, its admin and its local
// storage connection on first run, and makes password the admin's
// password (unchanged when it already is, so sessions survive a restart).
func ensureDemoAccount(ctx context.Context, a *app.App, password, libDir string) (catalog.Account, error) {
	u, err := a.Store.GetUserByEmail(ctx, demoEmail)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		_, u, err = a.Accounts.CreateAccountWithAdmin(ctx, "Demo team",
			accounts.NewUser{Email: demoEmail, Name: "Demo admin", Password: password, IsOperator: true})
		if err != nil {
			return catalog.Account{}, fmt.Errorf("creating the demo account: %w", err)
		}
	case err != nil:
		return catalog.Account{}, err
	default:
		if _, err := a.Accounts.EnsurePassword(ctx, demoEmail, password); err != nil {
			return catalog.Account{}, fmt.Errorf("setting the demo password: %w", err)
		}
	}
	now := a.Now()
	if _, err := a.Store.GetConnection(ctx, u.AccountID); errors.Is(err, catalog.ErrNotFound) {
		cfgJSON, _ := json.Marshal(map[string]string{"path": libDir})
		if _, err := a.Store.PutConnection(ctx, catalog.Connection{AccountID: u.AccountID, Kind: string(storage.KindLocal), Config: cfgJSON, RootKey: libDir, Status: catalog.ConnOK}, now); err != nil {
			return catalog.Account{}, fmt.Errorf("connecting the demo library: %w", err)
		}
	} else if err != nil {
		return catalog.Account{}, err
	}
	return a.Store.GetAccount(ctx, u.AccountID)
}

// startDemoSync syncs the demo library at start-up: the first sync, or one
// that brings in what changed in the folder while the demo was stopped.
func startDemoSync(ctx context.Context, a *app.App, svc *app.Services, accountID int64) error {
	_, err := a.Store.LatestFinishedSyncRun(ctx, accountID)
	switch {
	case errors.Is(err, catalog.ErrNotFound):
		_, _, err = svc.Syncs.StartInitialSync(ctx, accountID, 0, a.Now())
	case err == nil:
		_, _, err = svc.Syncs.StartCLISync(ctx, accountID, a.Now())
	}
	return err
}

// waitForSyncJob returns when a sync job has been worked (River reports it
// after the worker's last log line), ctx is done or max has passed.
// waitLiveCaughtUp waits (at most max) until the demo library is watched
// live and the catch-up of its watcher (a reconciliation) is done, so that
// the sign-in is printed after its logs too.
func waitLiveCaughtUp(ctx context.Context, a *app.App, accountID int64, max time.Duration) {
	var after int64
	if r, err := a.Store.LatestFinishedSyncRun(ctx, accountID); err == nil {
		after = r.ID
	}
	deadline := time.Now().Add(max)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		r, err := a.Store.LatestFinishedSyncRun(ctx, accountID)
		waiting, werr := a.Store.LiveEventsWaiting(ctx, accountID)
		_, aerr := a.Store.ActiveSyncRun(ctx, accountID)
		if err == nil && r.ID > after && r.Trigger == catalog.TriggerAuto && werr == nil && waiting == 0 && errors.Is(aerr, catalog.ErrNotFound) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func waitForSyncJob(ctx context.Context, ended <-chan *river.Event, max time.Duration) {
	timeout := time.NewTimer(max)
	defer timeout.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timeout.C:
			return
		case ev, ok := <-ended:
			if !ok || ev.Job.Kind == syncrun.KindSync {
				return
			}
		}
	}
}
