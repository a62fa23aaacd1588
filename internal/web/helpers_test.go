package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	neturl "net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/queue"
	"github.com/shelf-dam/shelf/internal/secrets"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncer"
	"github.com/shelf-dam/shelf/internal/syncrun"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// fixture is a running API server on a fresh catalog with a settable clock.
type fixture struct {
	t     *testing.T
	store *catalog.Store
	srv   *httptest.Server
	web   *Server
	cfg   *config.Config

	mu  sync.Mutex
	now time.Time
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

// planSetter is the minimal PlanSetter of the tests: no auto-sync schedule.
type planSetter struct{ f *fixture }

func (p planSetter) SetPlan(ctx context.Context, id int64, plan string) (catalog.Account, error) {
	if _, err := p.f.store.GetAccount(ctx, id); err != nil {
		return catalog.Account{}, err
	}
	next := policy.Default().NextAutoSync(plan, "local", p.f.clock())
	if err := p.f.store.SetPlan(ctx, id, plan, next, p.f.clock()); err != nil {
		return catalog.Account{}, err
	}
	return p.f.store.GetAccount(ctx, id)
}

// setup starts a server on SQLite ("sqlite") or PostgreSQL ("postgres").
func setup(t *testing.T, dialect string) *fixture { return setupWith(t, dialect, fixtureOptions{}) }

// fixtureOptions adjust the server of setupWith.
type fixtureOptions struct {
	config func(*config.Config) // changes settings before the server is built
	server func(*Server)        // sets test hooks before it serves
	policy *policy.Policy       // the plans table; nil: the built-in one
}

// setupWith is setup with options.
func setupWith(t *testing.T, dialect string, opts fixtureOptions) *fixture {
	t.Helper()
	ctx := context.Background()
	var url string
	if dialect == "postgres" {
		url = testenv.PostgresURL(t)
	} else {
		url = filepath.Join(t.TempDir(), "shelf.db")
	}
	store, err := catalog.Open(ctx, url, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	box, err := secrets.NewBox(bytes.Repeat([]byte{1}, secrets.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, store: store, now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	f.cfg = &config.Config{SignupOpen: true, TrialLength: 14 * 24 * time.Hour, PublicURL: "http://127.0.0.1"}
	// The tests' webhook receivers listen on loopback, as the operator's
	// SHELF_WEBHOOK_ALLOW_PRIVATE would allow.
	f.cfg.WebhookAllowPrivate = true
	if opts.config != nil {
		opts.config(f.cfg)
	}
	pol := opts.policy
	if pol == nil {
		pol = policy.Default()
	}
	s := New(Deps{Store: store, Config: f.cfg, Logger: slog.New(slog.DiscardHandler), Policy: pol,
		Accounts: accounts.New(accounts.Config{Store: store, TrialLength: f.cfg.TrialLength, SignupOpen: f.cfg.SignupOpen, Now: f.clock}),
		Webhooks: notify.NewWebhooks(store, box, f.clock, notify.AllowPrivateTargets(f.cfg.WebhookAllowPrivate)), Clock: f.clock, Plans: planSetter{f},
		Syncs: newSyncs(t, store, pol, f.clock)})
	if opts.server != nil {
		opts.server(s)
	}
	f.web = s
	f.srv = httptest.NewServer(s)
	t.Cleanup(f.srv.Close)
	return f
}

// client is an API client with its own cookie jar and optional token.
type client struct {
	f     *fixture
	http  *http.Client
	token string // Bearer token, when set
	csrf  string // CSRF token from sign-in, sent on writes when set
	// header is sent with every request (a proxy's X-Forwarded-For, say).
	header http.Header
}

func (f *fixture) newClient() *client {
	jar, _ := cookiejar.New(nil)
	return &client{f: f, http: &http.Client{Jar: jar}}
}

// do sends a request with a JSON body (nil: none, string: raw) and decodes
// a JSON answer into a map.
func (c *client) do(method, path string, body any) (int, map[string]any) {
	c.f.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = bytes.NewBufferString(b)
	default:
		data, _ := json.Marshal(b)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.f.srv.URL+path, r)
	if err != nil {
		c.f.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.csrf != "" {
		req.Header.Set(csrfHeader, c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.f.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	data, _ := io.ReadAll(resp.Body)
	if len(data) > 0 {
		if err := json.Unmarshal(data, &out); err != nil {
			c.f.t.Fatalf("%s %s: answer is not JSON: %q", method, path, data)
		}
	}
	return resp.StatusCode, out
}

// signup creates an account and returns a signed-in client for its admin.
func (f *fixture) signup(email, account string) (*client, map[string]any) {
	f.t.Helper()
	c := f.newClient()
	code, body := c.do("POST", "/api/v1/signup", map[string]any{"email": email, "password": "a good long password", "account_name": account})
	if code != http.StatusCreated {
		f.t.Fatalf("signup %s: %d %v", email, code, body)
	}
	c.login(email, "a good long password")
	return c, body
}

func (c *client) login(email, password string) {
	c.f.t.Helper()
	code, body := c.do("POST", "/api/v1/login", map[string]any{"email": email, "password": password})
	if code != http.StatusOK {
		c.f.t.Fatalf("login %s: %d %v", email, code, body)
	}
	c.csrf, _ = body["csrf_token"].(string)
}

func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// forEachDialect runs a test on SQLite and on PostgreSQL.
func forEachDialect(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, d := range []string{"sqlite", "postgres"} {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, setup(t, d))
		})
	}
}

func mustJSON(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func mustURL(s string) *neturl.URL {
	u, err := neturl.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func mustString(t *testing.T, c *client, path, key string) string {
	t.Helper()
	_, body := c.do("GET", path, nil)
	s, _ := body[key].(string)
	if s == "" {
		t.Fatalf("GET %s: no %s in %v", path, key, body)
	}
	return s
}

// newSyncs is a sync service that starts and reports syncs but runs none
// (no process here works the queue): the web tests see queued runs.
func newSyncs(t *testing.T, store *catalog.Store, pol *policy.Policy, now func() time.Time) *syncrun.Service {
	t.Helper()
	q, err := queue.New(queue.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := syncrun.New(syncrun.Config{Store: store, Queue: q, Policy: pol, Connections: noConnections{}, Engine: noEngine{}, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

type noConnections struct{}

func (noConnections) Connector(context.Context, int64) (storage.Connector, error) {
	return nil, errors.New("no storage in the web tests")
}
func (noConnections) MarkFailure(context.Context, int64, error) {}

type noEngine struct{}

func (noEngine) Run(context.Context, syncer.Job) (syncer.Result, error) {
	return syncer.Result{}, errors.New("no sync engine in the web tests")
}
