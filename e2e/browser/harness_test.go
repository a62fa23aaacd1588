// Package browser drives Shelf's web app in a real Chromium (chromedp)
// against a whole Shelf started in-process: catalog on SQLite, job workers,
// live events, local-folder storage.
package browser

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shelf-dam/shelf/internal/app"
	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/demo"
	"github.com/shelf-dam/shelf/internal/live"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// waitLimit bounds every wait for the page; a failure, not a measurement.
const waitLimit = 60 * time.Second

// shelf is a running Shelf for one test.
type shelf struct {
	URL  string
	App  *app.App
	Svc  *app.Services
	Root string // the local storage folder (sample library)
}

// startShelf opens a fresh Shelf on SQLite with job workers, serving the
// generated sample library as an allowed local root.
func startShelf(t *testing.T) *shelf {
	t.Helper()
	return startShelfWith(t, nil)
}

// startShelfWith is startShelf with the configuration changed by mod.
func startShelfWith(t *testing.T, mod func(*config.Config)) *shelf {
	t.Helper()
	testenv.Chromium(t) // skip before starting anything when there is no browser
	ctx, cancel := context.WithCancel(context.Background())
	dir := t.TempDir()
	root := filepath.Join(dir, "library")
	if _, err := demo.Generate(root); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	cfg := &config.Config{
		Listen:      ln.Addr().String(),
		PublicURL:   url,
		DataDir:     filepath.Join(dir, "data"),
		DatabaseURL: filepath.Join(dir, "data", "shelf.db"),
		LocalRoots:  []string{root},
		SignupOpen:  true,
		TrialLength: 14 * 24 * time.Hour,
		LogLevel:    "warn",
		LogFormat:   "text",
		SecretKey:   strings.Repeat("ab", 32),
		// The tests' webhook receivers listen on loopback, as the
		// operator's SHELF_WEBHOOK_ALLOW_PRIVATE would allow.
		WebhookAllowPrivate: true,
	}
	if mod != nil {
		mod(cfg)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, err := app.Open(ctx, cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	// Live accounts (a policy file saying "live") are picked up at once.
	svc, err := a.StartServices(ctx, app.ServicesOptions{Work: true, Live: func(c *live.Config) {
		c.LeaseTTL, c.SuperviseEvery = 3*time.Second, 200*time.Millisecond
	}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(a.Handler(svc))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(func() {
		cancel()
		srv.CloseClientConnections()
		srv.Close()
		stop, done := context.WithTimeout(context.Background(), 30*time.Second)
		defer done()
		if err := svc.Stop(stop); err != nil {
			t.Logf("stopping services: %v", err)
		}
		a.Close()
	})
	return &shelf{URL: url, App: a, Svc: svc, Root: root}
}

// testWriter sends server logs to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// browser is one Chromium for a test; tabs share its cookies.
type browser struct {
	t       *testing.T
	ctx     context.Context // the first tab
	mu      sync.Mutex
	errors  []string // console errors and uncaught exceptions, all tabs
	shotDir string
}

// newBrowser starts a headless Chromium with a fresh profile. When the test
// ends it closes the browser and fails the test if any page logged a
// console error or threw.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := testenv.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, _ := chromedp.NewContext(allocCtx)
	b := &browser{t: t, ctx: ctx}
	b.shotDir = os.Getenv("SHELF_SCREENSHOT_DIR")
	if b.shotDir == "" {
		b.shotDir = t.TempDir()
	} else if err := os.MkdirAll(b.shotDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx); err != nil { // start the browser without a deadline
		cancelAlloc()
		t.Fatalf("starting Chromium %s: %v", exe, err)
	}
	b.watchConsole(ctx)
	t.Cleanup(func() {
		stop, done := context.WithTimeout(ctx, 20*time.Second)
		defer done()
		if err := chromedp.Cancel(stop); err != nil {
			t.Logf("closing Chromium: %v", err)
		}
		cancelAlloc()
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errors {
			t.Errorf("browser console: %s", e)
		}
	})
	return b
}

// newTab opens another tab of the same browser (same cookies).
func (b *browser) newTab() context.Context {
	b.t.Helper()
	ctx, _ := chromedp.NewContext(b.ctx)
	if err := chromedp.Do(ctx); err != nil {
		b.t.Fatalf("opening a tab: %v", err)
	}
	b.watchConsole(ctx)
	return ctx
}

// watchConsole records console errors and exceptions of a tab. Failed
// network requests (the browser's "network" log) are not page errors: a
// refused change (423) is one on purpose.
func (b *browser) watchConsole(ctx context.Context) {
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Source == "network" {
				continue
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, fmt.Sprintf("%s (%s:%d)", m.Text, m.URL, m.Line+1))
				b.mu.Unlock()
			}
		}
	}()
}

// do runs actions on a tab with the wait limit.
func (b *browser) do(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	if err := chromedp.Do(tctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// eval evaluates a JavaScript expression on a tab and decodes its value.
func eval[T any](b *browser, ctx context.Context, expr string) T {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	v, err := chromedp.Run(tctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript condition until it holds, failing the test
// after the wait limit with what.
func (b *browser) waitFor(ctx context.Context, what, cond string) {
	b.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		ok, err := chromedp.Run(tctx, chromedp.Evaluate[bool]("!!("+cond+")", chromedp.EvalAwaitPromise))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText.slice(0, 2000) : ''"))
			b.t.Fatalf("waiting for %s (%s): not true after %s (last error %v); page text:\n%s", what, cond, waitLimit, err, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// open navigates a tab to path and waits for its script to be ready.
func (b *browser) open(ctx context.Context, base, path string) {
	b.t.Helper()
	b.do(ctx, "opening "+path, chromedp.Navigate(base+path))
	b.waitFor(ctx, "the page script of "+path, "window.shelf && document.readyState === 'complete'")
}

// screenshot saves a full-page PNG of the tab under the artifact directory.
func (b *browser) screenshot(ctx context.Context, name string) {
	b.t.Helper()
	b.shoot(ctx, name, chromedp.FullScreenshot(100))
}

// shoot saves the PNG that capture takes under the artifact directory.
func (b *browser) shoot(ctx context.Context, name string, capture chromedp.Action[[]byte]) {
	b.t.Helper()
	tctx, cancel := context.WithTimeout(ctx, waitLimit)
	defer cancel()
	png, err := chromedp.Run(tctx, capture)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(b.shotDir, b.t.Name()+"-"+name+".png")
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
}

// signUp creates an account through the sign-up page and leaves the tab
// signed in on Settings → Storage.
func (b *browser) signUp(ctx context.Context, base, email string) {
	b.t.Helper()
	b.open(ctx, base, "/signup")
	b.do(ctx, "filling the sign-up form",
		chromedp.SendKeys(chromedp.ID("account_name"), "Studio Team"),
		chromedp.SendKeys(chromedp.ID("email"), email),
		chromedp.SendKeys(chromedp.ID("password"), "correct horse battery staple"),
		chromedp.Click(chromedp.CSS("#signup-form button[type=submit]")),
	)
	b.waitFor(ctx, "Settings → Storage after sign-up", "location.pathname === '/settings/storage' && document.readyState === 'complete' && window.shelf")
}

// connectLocal connects the local folder through Settings → Storage; the
// page then moves to Settings → Sync.
func (b *browser) connectLocal(ctx context.Context, base, root string) {
	b.t.Helper()
	b.open(ctx, base, "/settings/storage")
	b.do(ctx, "connecting the local folder",
		chromedp.SetValue(chromedp.ID("local-path"), root),
		chromedp.Click(chromedp.CSS("#local-form button[type=submit]")),
	)
	b.waitFor(ctx, "Settings → Sync after connecting", "location.pathname === '/settings/sync' && document.readyState === 'complete' && window.shelf")
}

// apiJSON calls the JSON API from the page (with its session and CSRF
// token) and returns status and body.
func apiJSON(b *browser, ctx context.Context, method, path string, body any) (int, map[string]any) {
	b.t.Helper()
	payload := "undefined"
	if body != nil {
		data, _ := json.Marshal(body)
		payload = string(data)
	}
	raw := eval[string](b, ctx, fmt.Sprintf(`shelf.api(%q, %q, %s).then(r => JSON.stringify({status: r.status, data: r.data || (r.error ? {error: r.error} : null)}))`, method, path, payload))
	var out struct {
		Status int            `json:"status"`
		Data   map[string]any `json:"data"`
	}
	if err := json.Unmarshal([]byte(raw), &out); err != nil {
		b.t.Fatalf("API answer %q: %v", raw, err)
	}
	return out.Status, out.Data
}

// waitIdle waits until the account has no running sync (seen through the
// API) and returns the latest run.
func waitIdle(b *browser, ctx context.Context) map[string]any {
	b.t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		code, st := apiJSON(b, ctx, "GET", "/sync", nil)
		if code == http.StatusOK && st["state"] == "idle" && st["latest_run"] != nil {
			run, _ := st["latest_run"].(map[string]any)
			return run
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("the sync did not finish within %s: %d %v", waitLimit, code, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
