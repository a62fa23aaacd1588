package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/app"
	"github.com/shelf-dam/shelf/internal/auth"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/demo"
)

// demoEmail is the sign-in of the demo account's admin.
const demoEmail = "demo@shelf.example"

func runDemo(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "demo", `Runs Shelf on the embedded default (SQLite under the data directory) with a
demo account whose storage is a local folder of generated sample images in
nested folders (DATA_DIR/demo-library). It runs the first sync, serves the
web app and prints the URL and the sign-in. Edit files in the demo folder
and press "Sync now" to see them arrive. A new password is printed on every
start.`)
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
	password, err := auth.NewSecret(12)
	if err != nil {
		return err
	}
	acct, err := ensureDemoAccount(ctx, a, password, libDir)
	if err != nil {
		return err
	}
	return a.Run(ctx, true, func(url string, svc *app.Services) {
		if _, err := a.Store.LatestFinishedSyncRun(ctx, acct.ID); errors.Is(err, catalog.ErrNotFound) {
			if _, _, err := svc.Jobs.StartInitialSync(ctx, acct.ID, 0, a.Now()); err != nil {
				a.Logger.Error("starting the demo library's first sync", slog.Any("err", err))
			}
		}
		fmt.Fprintf(env.Stdout, "\nShelf demo is running at %s\n  sign in as: %s\n  password:   %s\n  library:    %s (a local folder: change files there, then Sync now)\n  account:    %d on plan %s\nStop with Ctrl-C.\n\n",
			url, demoEmail, password, libDir, acct.ID, acct.Plan)
	})
}

// ensureDemoAccount creates the demo account, its admin and its local
// storage connection on first run, and sets the admin's password.
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
		if _, err := a.Accounts.SetPassword(ctx, demoEmail, password); err != nil {
			return catalog.Account{}, err
		}
	}
	now := a.Now()
	if _, err := a.Store.GetConnection(ctx, u.AccountID); errors.Is(err, catalog.ErrNotFound) {
		cfgJSON, _ := json.Marshal(map[string]string{"path": libDir})
		if _, err := a.Store.PutConnection(ctx, catalog.Connection{AccountID: u.AccountID, Kind: "local", Config: cfgJSON, RootKey: libDir, Status: catalog.ConnOK}, now); err != nil {
			return catalog.Account{}, fmt.Errorf("connecting the demo library: %w", err)
		}
	} else if err != nil {
		return catalog.Account{}, err
	}
	return a.Store.GetAccount(ctx, u.AccountID)
}
