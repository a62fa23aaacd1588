package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/shelf-dam/shelf/internal/notify"
	"github.com/shelf-dam/shelf/internal/web"
)

// shutdownGrace is how long in-flight requests get to finish on SIGTERM.
const shutdownGrace = 20 * time.Second

// Handler returns Shelf's HTTP handler using the started services.
func (a *App) Handler(svc *Services) *web.Server {
	return web.New(web.Deps{
		Store:    a.Store,
		Config:   a.Cfg,
		Logger:   a.Logger,
		Accounts: a.Accounts,
		Webhooks: notify.NewWebhooks(a.Store, a.Box, a.Now, notify.AllowPrivateTargets(a.Cfg.WebhookAllowPrivate)),
		Clock:    a.Now,
		Registry: a.Registry,
		Plans:    plans{store: a.Store, syncs: svc.Syncs, now: a.Now},
		Policy:   a.Policy,
		Conns:    svc.Conns,
		Syncs:    svc.Syncs,
		Hub:      svc.Hub,
		Library:  svc.Library,
		Media:    svc.Media,
		Events:   svc.Events,
	})
}

// Listen opens the configured listen address.
func (a *App) Listen() (net.Listener, error) {
	ln, err := net.Listen("tcp", a.Cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s (SHELF_LISTEN): %w", a.Cfg.Listen, err)
	}
	return ln, nil
}

// ServeHTTP serves h on ln until ctx is canceled, then shuts down
// gracefully: event streams end, the listener closes and in-flight
// requests get shutdownGrace to finish.
func (a *App) ServeHTTP(ctx context.Context, ln net.Listener, h *web.Server) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(a.Logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("HTTP server stopped: %w", err)
	case <-ctx.Done():
	}
	a.Logger.Info("shutting down: finishing in-flight requests", slog.Duration("grace", shutdownGrace))
	h.Close()
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("shutting down HTTP server: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
