// Package web serves Shelf over HTTP: the JSON API under /api/v1, the
// server-rendered web app, server-sent events, health and metrics. It checks
// who is asking (session cookie or API token) and what their role allows;
// the library lock itself is enforced by the catalog, in the same
// transaction as each change.
package web

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/config"
	"github.com/shelf-dam/shelf/internal/connections"
	"github.com/shelf-dam/shelf/internal/library"
	"github.com/shelf-dam/shelf/internal/live"
	"github.com/shelf-dam/shelf/internal/media"
	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/syncrun"
)

// Deps are what the web layer needs, passed in by internal/app.
type Deps struct {
	Store  *catalog.Store
	Config *config.Config
	Logger *slog.Logger
	// Accounts signs up, signs in and manages users.
	Accounts *accounts.Service
	// Webhooks adds and changes webhooks (their secrets sealed).
	Webhooks *notify.Webhooks
	Clock    func() time.Time
	Registry *prometheus.Registry // metrics are registered here and served at /metrics
	// Plans changes an account's plan and reschedules its auto-sync.
	Plans PlanSetter
	// Policy is the plans table (manual-sync availability).
	Policy *policy.Policy
	// Conns connects storage and builds connectors.
	Conns *connections.Service
	// Syncs starts syncs and says whether one may start.
	Syncs *syncrun.Service
	// Hub carries live events to SSE subscribers.
	Hub *notify.Hub
	// Library makes write-through library changes.
	Library *library.Service
	// Media serves thumbnails and previews.
	Media *media.Service
	// Events receives storage change notifications (live sync).
	Events *live.Receiver
}

// PlanSetter changes an account's plan; the next auto-sync is rescheduled
// at once from the new plan.
type PlanSetter interface {
	SetPlan(ctx context.Context, accountID int64, plan string) (catalog.Account, error)
}

// Server is Shelf's HTTP handler.
type Server struct {
	store    *catalog.Store
	cfg      *config.Config
	logger   *slog.Logger
	accounts *accounts.Service
	webhooks *notify.Webhooks
	plans    PlanSetter
	policy   *policy.Policy
	conns    *connections.Service
	syncs    *syncrun.Service
	hub      *notify.Hub
	library  *library.Service
	media    *media.Service
	events   *live.Receiver
	// closing is closed when the server shuts down, ending SSE streams.
	closing chan struct{}
	now     func() time.Time
	// admission bounds the searches, listings and transfers running at
	// once, per account and in all.
	admission *admission
	metrics   *httpMetrics
	// origins tells Shelf's own pages from other sites' (sign-in, sign-up).
	origins *http.CrossOriginProtection
	mux     *http.ServeMux
	handler http.Handler

	// assetQueryHook, set by tests only, runs before an asset listing or
	// search reads the catalog, with the request's context: a test makes
	// searches slow with it. An error it returns is the listing's.
	assetQueryHook func(ctx context.Context, q catalog.AssetQuery) error
}

// sessionTTL is how long a session lasts.
const sessionTTL = 30 * 24 * time.Hour

// New returns the HTTP handler of a Shelf server.
func New(d Deps) *Server {
	now := d.Clock
	if now == nil {
		now = time.Now
	}
	reg := d.Registry
	if reg == nil {
		reg = prometheus.NewRegistry()
	}
	s := &Server{
		store:    d.Store,
		cfg:      d.Config,
		logger:   d.Logger,
		accounts: d.Accounts,
		webhooks: d.Webhooks,
		plans:    d.Plans,
		policy:   d.Policy,
		conns:    d.Conns,
		syncs:    d.Syncs,
		hub:      d.Hub,
		library:  d.Library,
		media:    d.Media,
		events:   d.Events,
		closing:  make(chan struct{}),
		now:      func() time.Time { return now().UTC() },
		metrics:  newHTTPMetrics(reg),
		origins:  newOriginCheck(d.Config.PublicURL, d.Logger),
		mux:      http.NewServeMux(),
	}
	s.admission = newAdmission(d.Config, d.Store.MaxConns(), reg)
	s.routes(reg)
	s.handler = s.recoverPanics(watchBody(s.logRequests(s.refuseNUL(s.mux))))
	return s
}

// Close ends long-lived responses (server-sent event streams) so that a
// graceful shutdown does not wait for them.
func (s *Server) Close() {
	select {
	case <-s.closing:
	default:
		close(s.closing)
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

func (s *Server) routes(reg *prometheus.Registry) {
	m := s.mux
	m.HandleFunc("GET /healthz", s.handleHealthz)
	m.HandleFunc("GET /readyz", s.handleReadyz)
	m.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))

	// Accounts and sign-in.
	m.HandleFunc("POST /api/v1/signup", s.handleSignup)
	m.HandleFunc("POST /api/v1/login", s.handleLogin)
	m.Handle("POST /api/v1/logout", s.authed(anyRole, s.handleLogout))
	m.Handle("GET /api/v1/me", s.authed(anyRole, s.handleMe))
	m.Handle("GET /api/v1/tokens", s.authed(anyRole, s.handleListTokens))
	m.Handle("POST /api/v1/tokens", s.authed(anyRole, s.handleCreateToken))
	m.Handle("DELETE /api/v1/tokens/{id}", s.authed(anyRole, s.handleRevokeToken))
	m.Handle("GET /api/v1/account/tokens", s.authed(adminOnly, s.handleListAccountTokens))
	m.Handle("DELETE /api/v1/account/tokens/{id}", s.authed(adminOnly, s.handleRevokeAccountToken))
	m.Handle("GET /api/v1/users", s.authed(adminOnly, s.handleListUsers))
	m.Handle("POST /api/v1/users", s.authed(adminOnly, s.handleCreateUser))
	m.Handle("PATCH /api/v1/users/{id}", s.authed(adminOnly, s.handleUpdateUser))
	m.Handle("DELETE /api/v1/users/{id}", s.authed(adminOnly, s.handleDeleteUser))
	m.Handle("GET /api/v1/account", s.authed(anyRole, s.handleGetAccount))
	m.Handle("PATCH /api/v1/account", s.authed(adminOnly, s.handlePatchAccount))

	// Storage and sync.
	m.Handle("GET /api/v1/storage", s.authed(adminOnly, s.handleGetStorage))
	m.Handle("PUT /api/v1/storage", s.authed(adminOnly, s.handlePutStorage))
	m.HandleFunc(eventsPattern, s.handleStorageEvents)
	m.Handle("GET /api/v1/storage/gdrive/folders", s.authed(adminOnly, s.handleDriveFolders))
	m.Handle("GET /oauth/google/start", s.authed(adminOnly, s.handleOAuthStart))
	m.Handle("GET /oauth/google/callback", s.authed(adminOnly, s.handleOAuthCallback))
	m.Handle("GET /api/v1/sync", s.authed(anyRole, s.handleGetSync))
	m.Handle("POST /api/v1/sync", s.authed(editorOrAdmin, s.handleStartSync))
	m.Handle("GET /api/v1/sync/runs", s.authed(anyRole, s.handleListRuns))
	m.Handle("GET /api/v1/sync/runs/{id}", s.authed(anyRole, s.handleGetRun))
	m.Handle("POST /api/v1/sync/runs/{id}/confirm", s.authed(adminOnly, s.handleConfirmRun))
	m.Handle("GET /api/v1/events", s.authed(anyRole, s.handleEvents))

	// Library.
	m.Handle("GET /api/v1/folders", s.authed(anyRole, s.query(s.handleListFolders)))
	m.Handle("GET /api/v1/folders/{id}", s.authed(anyRole, s.handleGetFolder))
	m.Handle("POST /api/v1/folders", s.authed(editorOrAdmin, s.handleCreateFolder))
	m.Handle("PATCH /api/v1/folders/{id}", s.authed(editorOrAdmin, s.handlePatchFolder))
	m.Handle("DELETE /api/v1/folders/{id}", s.authed(editorOrAdmin, s.handleDeleteFolder))
	m.Handle("GET /api/v1/assets", s.authed(anyRole, s.query(s.handleListAssets)))
	m.Handle("POST /api/v1/assets", s.authed(editorOrAdmin, s.transfer(s.handleUpload)))
	m.Handle("GET /api/v1/assets/{id}", s.authed(anyRole, s.handleGetAsset))
	m.Handle("POST /api/v1/assets/bulk/tag", s.authed(editorOrAdmin, s.handleBulkTag))
	m.Handle("POST /api/v1/assets/bulk/move", s.authed(editorOrAdmin, s.handleBulkMove))
	m.Handle("POST /api/v1/assets/bulk/delete", s.authed(editorOrAdmin, s.handleBulkDelete))
	m.Handle("POST /api/v1/assets/zip", s.authed(anyRole, s.transfer(s.handleZip)))
	m.Handle("PATCH /api/v1/assets/{id}", s.authed(editorOrAdmin, s.handlePatchAsset))
	m.Handle("DELETE /api/v1/assets/{id}", s.authed(editorOrAdmin, s.handleDeleteAsset))
	m.Handle("GET /api/v1/assets/{id}/download", s.authed(anyRole, s.transfer(s.handleDownload)))
	m.Handle("GET /api/v1/assets/{id}/thumb", s.authed(anyRole, s.handleThumb))
	m.Handle("GET /api/v1/assets/{id}/animation", s.authed(anyRole, s.transfer(s.handleAnimation)))
	m.Handle("POST /api/v1/metadata-writes", s.authed(editorOrAdmin, s.handleStartMetadataWrite))
	m.Handle("GET /api/v1/metadata-writes", s.authed(anyRole, s.handleListMetadataWrites))
	m.Handle("GET /api/v1/metadata-writes/{id}", s.authed(anyRole, s.handleGetMetadataWrite))

	// Notifications and webhooks.
	m.Handle("GET /api/v1/notifications", s.authed(anyRole, s.handleListNotifications))
	m.Handle("POST /api/v1/notifications/read", s.authed(anyRole, s.handleReadNotifications))
	m.Handle("GET /api/v1/webhooks", s.authed(adminOnly, s.handleListWebhooks))
	m.Handle("POST /api/v1/webhooks", s.authed(adminOnly, s.handleCreateWebhook))
	m.Handle("PATCH /api/v1/webhooks/{id}", s.authed(adminOnly, s.handlePatchWebhook))
	m.Handle("DELETE /api/v1/webhooks/{id}", s.authed(adminOnly, s.handleDeleteWebhook))
	m.Handle("GET /api/v1/webhooks/{id}/deliveries", s.authed(adminOnly, s.handleWebhookDeliveries))

	// Operator.
	m.Handle("GET /api/v1/admin/accounts", s.authed(operatorOnly, s.handleAdminListAccounts))
	m.Handle("PUT /api/v1/admin/accounts/{id}/plan", s.authed(operatorOnly, s.handleAdminSetPlan))

	s.pageRoutes()
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusNotFound, "not_found", "no API endpoint %s %s; see docs/api.md", r.Method, logPath(r)))
	})
}
