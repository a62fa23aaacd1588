package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/shelf-dam/shelf/internal/config"
)

// Requests come in three weights. Cheap ones (sign-in, /me, one asset,
// settings, health, thumbnails — whose regeneration media bounds itself)
// run at once. Catalog queries (searches and listings, API and pages) each
// hold a catalog connection for their length: their budget leaves some of
// the pool to everyone else, and their catalog work has a deadline.
// Transfers (downloads and uploads) are long but light on the catalog:
// their own budget keeps them from holding up searches, and they have no
// deadline.
type admission struct {
	queries      *limiter
	transfers    *limiter
	queryTimeout time.Duration
	refused      *prometheus.CounterVec
}

// newAdmission sizes the budgets from the configuration; zero settings
// take their defaults. The query budget defaults to the catalog's
// connections less two (kept for sign-in, page chrome and the job
// workers), an account's share to half of it.
func newAdmission(cfg *config.Config, catalogConns int, reg prometheus.Registerer) *admission {
	or := func(v, def int) int {
		if v > 0 {
			return v
		}
		return def
	}
	wait := cfg.AdmissionWait
	if wait <= 0 {
		wait = config.DefaultAdmissionWait
	}
	timeout := cfg.QueryTimeout
	if timeout <= 0 {
		timeout = config.DefaultQueryTimeout
	}
	queue := or(cfg.AdmissionQueue, config.DefaultAdmissionQueue)
	queries := or(cfg.QueryConcurrency, max(catalogConns-2, 1))
	a := &admission{
		queries: newLimiter("query", "searches and listings", queries,
			or(cfg.QueryConcurrencyPerAccount, max(queries/2, 1)), queue, wait),
		transfers: newLimiter("transfer", "downloads and uploads", or(cfg.TransferConcurrency, config.DefaultTransferConcurrency),
			or(cfg.TransferConcurrencyPerAccount, config.DefaultTransferConcurrencyPerAccount), queue, wait),
		queryTimeout: timeout,
		refused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "shelf_http_requests_refused_total",
			Help: "Requests refused by admission control, by class (query, transfer) and whose budget was full (account: 429, server: 503).",
		}, []string{"class", "reason"}),
	}
	reg.MustRegister(a.refused)
	for _, l := range []*limiter{a.queries, a.transfers} {
		reg.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "shelf_http_admitted_requests", Help: "Requests running under admission control, by class.",
				ConstLabels: prometheus.Labels{"class": l.class}}, func() float64 { n, _ := l.usage(); return float64(n) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "shelf_http_waiting_requests", Help: "Requests waiting for admission, by class.",
				ConstLabels: prometheus.Labels{"class": l.class}}, func() float64 { _, n := l.usage(); return float64(n) }),
		)
	}
	return a
}

// admit takes a slot of l for the principal's account, or returns the
// answer to give instead.
func (s *Server) admit(ctx context.Context, l *limiter, accountID int64) (func(), error) {
	release, reason, err := l.acquire(ctx, accountID)
	if reason != "" {
		s.admission.refused.WithLabelValues(l.class, reason).Inc()
	}
	return release, err
}

// query wraps a search or listing of the API: admitted within the query
// budget, its catalog work bounded by the query timeout.
func (s *Server) query(h authedHandler) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		release, err := s.admit(r.Context(), s.admission.queries, p.Account.ID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer release()
		ctx, cancel := context.WithTimeout(r.Context(), s.admission.queryTimeout)
		defer cancel()
		h(w, r.WithContext(ctx), p)
	}
}

// transfer wraps a download or upload: admitted within the transfer
// budget, without a deadline (a large file takes long).
func (s *Server) transfer(h authedHandler) authedHandler {
	return func(w http.ResponseWriter, r *http.Request, p *principal) {
		release, err := s.admit(r.Context(), s.admission.transfers, p.Account.ID)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		defer release()
		h(w, r, p)
	}
}

// query wraps a page that lists or searches the library, as Server.query
// does for the API.
func (p *pages) query(h pageHandler) pageHandler {
	return func(w http.ResponseWriter, r *http.Request, v *view) error {
		s := p.s
		release, err := s.admit(r.Context(), s.admission.queries, v.Account.ID)
		if err != nil {
			return err
		}
		defer release()
		ctx, cancel := context.WithTimeout(r.Context(), s.admission.queryTimeout)
		defer cancel()
		r = r.WithContext(ctx)
		if err := h(w, r, v); err != nil {
			if ae := s.timedOut(r, err); ae != nil {
				return ae
			}
			return err
		}
		return nil
	}
}

// timedOut is the answer to a request whose catalog work the query
// timeout stopped (logged), nil when err is something else.
func (s *Server) timedOut(r *http.Request, err error) *apiError {
	if !errors.Is(r.Context().Err(), context.DeadlineExceeded) {
		return nil
	}
	s.logger.WarnContext(r.Context(), "catalog query stopped by the query timeout (SHELF_QUERY_TIMEOUT)",
		slog.String("method", r.Method), slog.String("path", logPath(r)), slog.Duration("timeout", s.admission.queryTimeout), slog.Any("err", err))
	return &apiError{Status: http.StatusServiceUnavailable, Code: "query_timeout", RetryAfter: 5 * time.Second, quiet: true,
		Message: "the library took longer than " + s.admission.queryTimeout.String() + " to answer and the query was stopped; narrow the search (a folder, more words) or try again in a moment"}
}
