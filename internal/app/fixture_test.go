package app_test

import (
	"context"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/app"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/live"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
	"github.com/shelf-dam/shelf/internal/syncrun"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// env is a whole Shelf server (HTTP, jobs, hub) on a fresh catalog, with a
// local-folder root the accounts may connect and a fake Google (Drive API
// and OAuth).
type env struct {
	t      *testing.T
	a      *app.App
	svc    *app.Services
	url    string
	local  string // an allowed local root
	drive  *drivefake.Server
	cancel context.CancelFunc
	logs   *apitest.LogBuffer // the server's log, info and up
}

const (
	oauthClientID     = "shelf-test-client"
	oauthClientSecret = "shelf-test-secret"
)

func start(t *testing.T, dialect string) *env {
	t.Helper()
	return startWith(t, dialect, nil, nil)
}

// startWith is start with the configuration adjusted by mod and the sync
// settings by tweak (each nil: none).
func startWith(t *testing.T, dialect string, mod func(*config.Config), tweak func(*syncrun.Config)) *env {
	return startWithLive(t, dialect, mod, tweak, nil)
}

// startWithLive is startWith with live sync settings of the test's own.
func startWithLive(t *testing.T, dialect string, mod func(*config.Config), tweak func(*syncrun.Config), liveTweak func(*live.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	dbURL := filepath.Join(dir, "shelf.db")
	if dialect == "postgres" {
		dbURL = testenv.PostgresURL(t)
	}
	local := filepath.Join(dir, "storage")
	if err := os.MkdirAll(local, 0o755); err != nil {
		t.Fatal(err)
	}
	drive := drivefake.New(t, drivefake.Options{RequireAuth: true})
	drive.AddOAuthClient(oauthClientID, oauthClientSecret)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	cfg := &config.Config{
		Listen: ln.Addr().String(), PublicURL: base, DatabaseURL: dbURL, DataDir: dir,
		SecretKey:  "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		LocalRoots: []string{local}, SignupOpen: true, TrialLength: 14 * 24 * time.Hour,
		GoogleClientID: oauthClientID, GoogleClientSecret: oauthClientSecret,
		GoogleAuthURL: drive.AuthURL(), GoogleTokenURL: drive.TokenURL(), DriveEndpoint: drive.URL(),
		LogLevel: "warn", LogFormat: "text",
		WebhookAllowPrivate: true, // the tests' webhook receivers listen on loopback
	}
	if mod != nil {
		mod(cfg)
	}
	logs := &apitest.LogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, nil))
	if testing.Verbose() {
		logger = slog.New(slog.NewMultiHandler(logger.Handler(), slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := a.StartServices(ctx, app.ServicesOptions{Work: true, FetchPollInterval: 100 * time.Millisecond, Live: func(c *live.Config) {
		c.LeaseTTL, c.SuperviseEvery = 3*time.Second, 200*time.Millisecond
		if liveTweak != nil {
			liveTweak(c)
		}
	}, Syncs: func(c *syncrun.Config) {
		c.LeaseTTL = 3 * time.Second
		// River's own retry of a failed sync waits long: tests that want
		// a sync press Sync now.
		c.SyncRetryDelay = time.Hour
		if tweak != nil {
			tweak(c)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Handler(svc))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	e := &env{t: t, a: a, svc: svc, url: base, local: local, drive: drive, cancel: cancel, logs: logs}
	t.Cleanup(func() {
		srv.Close()
		sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
		defer c()
		_ = svc.Stop(sctx)
		cancel()
		a.Close()
	})
	return e
}

// signup creates an account and returns its admin's client and ids.
func (e *env) signup(email, account string) (c *apitest.Client, accountID, userID int64) {
	e.t.Helper()
	c, r := apitest.Signup(e.t, e.url, email, account)
	return c, apitest.Num(r.Obj("account")["id"]), apitest.Num(r.Obj("user")["id"])
}

// waitRun polls a run until it ends and returns it.
func (e *env) waitRun(accountID, runID int64) catalog.SyncRun {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r, err := e.a.Store.GetSyncRun(context.Background(), accountID, runID)
		if err != nil {
			e.t.Fatal(err)
		}
		if r.State != catalog.RunQueued && r.State != catalog.RunRunning {
			return r
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("run %d did not finish in 30 s", runID)
	return catalog.SyncRun{}
}

// writeFile creates a file under the local root.
func (e *env) writeFile(rel, content string) {
	e.t.Helper()
	p := filepath.Join(e.local, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		e.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func forEachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}
