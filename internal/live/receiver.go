package live

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/live/s3event"
	"github.com/shelf-dam/shelf/internal/policy"
	"github.com/shelf-dam/shelf/internal/storage"
)

// Receiver takes the storage notifications POSTed to a connection's events
// URL (POST /api/v1/storage/events/{key}): S3 bucket events (directly, or
// inside SNS messages whose signature it checks) and Drive push
// notifications. It runs in every serving process.
//
// A flood is absorbed in bounded memory: the changed paths are coalesced
// per account in memory (at most MaxPending per account and maxBuffered in
// all; beyond that the account collapses to "re-list everything") and
// written to the catalog every flushEvery, where the watching process
// takes them.
type Receiver struct {
	store    *catalog.Store
	policy   *policy.Policy
	conns    Connectors
	verifier *s3event.Verifier
	log      *slog.Logger
	wake     func()
	max      int

	mu       sync.Mutex
	buf      map[int64]map[string]struct{}
	buffered int
	targets  map[string]target
}

// target is what an events key resolves to, cached briefly.
type target struct {
	accountID int64
	kind      storage.Kind
	live      bool // the plan syncs this storage live
	bucket    string
	prefix    string
	found     bool
	until     time.Time
}

const (
	flushEvery  = 100 * time.Millisecond
	maxBuffered = 100000
	targetTTL   = 2 * time.Second
	maxTargets  = 10000
)

// ReceiverConfig configures a Receiver.
type ReceiverConfig struct {
	Store *catalog.Store
	// Policy says which plans sync live: events of other accounts are
	// answered 200 and dropped (their syncs list the storage anyway).
	Policy     *policy.Policy
	Connectors Connectors
	// Verifier checks SNS signatures; NewVerifier(nil) when nil.
	Verifier *s3event.Verifier
	// Wake, when set, is called after changes were recorded (the live
	// service of the same process looks at once).
	Wake       func()
	MaxPending int
	Logger     *slog.Logger
}

// NewReceiver returns a Receiver; run its Run to write what it gathers.
func NewReceiver(cfg ReceiverConfig) *Receiver {
	if cfg.Verifier == nil {
		cfg.Verifier = s3event.NewVerifier(nil)
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = DefaultMaxPending
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Wake == nil {
		cfg.Wake = func() {}
	}
	if cfg.Policy == nil {
		cfg.Policy = policy.Default()
	}
	return &Receiver{store: cfg.Store, policy: cfg.Policy, conns: cfg.Connectors, verifier: cfg.Verifier, log: cfg.Logger.With("component", "live-receiver"),
		wake: cfg.Wake, max: cfg.MaxPending, buf: map[int64]map[string]struct{}{}, targets: map[string]target{}}
}

// ReceiveError is a refused notification: the HTTP status and a message
// saying what is wrong.
type ReceiveError struct {
	Status  int
	Message string
}

func (e *ReceiveError) Error() string { return e.Message }

// Receive handles one notification for the events key. A nil error means
// 200 (nothing to do is not an error: a test event, another bucket, a
// path outside the prefix).
func (r *Receiver) Receive(ctx context.Context, key string, header http.Header, body []byte) error {
	t, err := r.resolve(ctx, key)
	if err != nil {
		return err
	}
	if !t.live {
		// Not (or no longer) a live plan: nothing will take the changes;
		// the plan's syncs find them.
		return nil
	}
	if header.Get("X-Goog-Channel-ID") != "" || header.Get("X-Goog-Resource-State") != "" {
		return r.driveNotification(ctx, t, header)
	}
	if t.kind != storage.KindS3 {
		return &ReceiveError{http.StatusBadRequest, "this storage is not S3: its events URL takes only Google Drive push notifications"}
	}
	m, err := r.verifier.Parse(ctx, header, body)
	switch {
	case errors.Is(err, s3event.ErrMalformed):
		return &ReceiveError{http.StatusBadRequest, err.Error()}
	case errors.Is(err, s3event.ErrSignature):
		return &ReceiveError{http.StatusForbidden, err.Error()}
	case err != nil:
		return &ReceiveError{http.StatusServiceUnavailable, "the SNS signing certificate could not be fetched; SNS will send the message again: " + err.Error()}
	}
	switch m.Kind {
	case s3event.KindSubscription:
		if err := r.verifier.ConfirmSubscription(ctx, m); err != nil {
			return &ReceiveError{http.StatusBadGateway, "confirming the SNS subscription failed: " + err.Error()}
		}
		r.log.Info("confirmed an SNS subscription for bucket events", "account_id", t.accountID, "topic", m.TopicArn)
		return nil
	case s3event.KindUnsubscribe:
		r.log.Info("the SNS subscription for bucket events was removed", "account_id", t.accountID, "topic", m.TopicArn)
		return nil
	}
	paths := make([]string, 0, len(m.Records))
	for _, rec := range m.Records {
		if p, ok := t.pathOf(rec); ok {
			paths = append(paths, p)
		}
	}
	r.add(t.accountID, paths)
	return nil
}

// pathOf maps a record to the root-relative path it changed; false for
// another bucket, a key outside the prefix, the root's own marker, or a key
// no path can name (a scan skips those too).
func (t target) pathOf(rec s3event.Record) (string, bool) {
	if rec.Bucket != t.bucket || (!rec.Created && !rec.Removed) {
		return "", false
	}
	rel, ok := strings.CutPrefix(rec.Key, t.prefix)
	if !ok {
		return "", false
	}
	p, err := storage.CleanPath(strings.TrimSuffix(rel, "/"), false)
	if err != nil {
		return "", false
	}
	return p, true
}

// driveNotification checks a Drive push notification against the channel
// the watching process opened and, for a change, has the feed read now.
func (r *Receiver) driveNotification(ctx context.Context, t target, h http.Header) error {
	if t.kind != storage.KindGDrive {
		return &ReceiveError{http.StatusBadRequest, "a Google Drive notification for storage that is not Drive"}
	}
	w, err := r.store.GetLiveWatcher(ctx, t.accountID)
	if err != nil && !errors.Is(err, catalog.ErrNotFound) {
		return err
	}
	id, token := h.Get("X-Goog-Channel-ID"), h.Get("X-Goog-Channel-Token")
	if err != nil || w.ChannelID == "" || w.ChannelID != id || subtle.ConstantTimeCompare([]byte(w.ChannelToken), []byte(token)) != 1 {
		// Drive stops sending to a channel answered with an error only
		// after a while; an unknown (stopped, replaced) channel is 404.
		return &ReceiveError{http.StatusNotFound, "unknown or replaced push channel"}
	}
	switch h.Get("X-Goog-Resource-State") {
	case "sync":
		return nil // the channel's first message: nothing changed
	default:
		r.add(t.accountID, []string{""})
		return nil
	}
}

// resolve finds the connection of an events key (cached briefly, unknown
// keys too, so a flood costs no query per request).
func (r *Receiver) resolve(ctx context.Context, key string) (target, error) {
	now := time.Now()
	r.mu.Lock()
	t, ok := r.targets[key]
	r.mu.Unlock()
	if !ok || now.After(t.until) {
		var err error
		t, err = r.lookup(ctx, key)
		if err != nil {
			return t, err
		}
		t.until = now.Add(targetTTL)
		r.mu.Lock()
		if len(r.targets) >= maxTargets {
			clear(r.targets)
		}
		r.targets[key] = t
		r.mu.Unlock()
	}
	if !t.found {
		return t, &ReceiveError{http.StatusNotFound, "unknown events URL: the storage was reconnected (which makes a new URL) or disconnected; copy the current URL from Settings → Storage"}
	}
	return t, nil
}

func (r *Receiver) lookup(ctx context.Context, key string) (target, error) {
	conn, err := r.store.ConnectionByEventsKey(ctx, key)
	if errors.Is(err, catalog.ErrNotFound) {
		return target{}, nil
	}
	if err != nil {
		return target{}, fmt.Errorf("looking up the events URL: %w", err)
	}
	t := target{accountID: conn.AccountID, kind: storage.Kind(conn.Kind), found: true}
	acct, err := r.store.GetAccount(ctx, conn.AccountID)
	if err != nil {
		return target{}, fmt.Errorf("looking up the events URL's account: %w", err)
	}
	t.live = r.policy.Live(acct.Plan, conn.Kind)
	if t.kind == storage.KindS3 {
		c, err := r.conns.Connector(ctx, conn.AccountID)
		if err != nil {
			return target{}, &ReceiveError{http.StatusServiceUnavailable, "the storage connection cannot be opened: " + err.Error()}
		}
		b, ok := c.(interface {
			Bucket() string
			Prefix() string
		})
		if !ok {
			return target{}, fmt.Errorf("the S3 connector does not say its bucket")
		}
		t.bucket, t.prefix = b.Bucket(), b.Prefix()
	}
	return t, nil
}

// add buffers changed paths of an account, bounded.
func (r *Receiver) add(accountID int64, paths []string) {
	if len(paths) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	set := r.buf[accountID]
	if set == nil {
		set = map[string]struct{}{}
		r.buf[accountID] = set
	}
	if _, all := set[""]; all {
		return
	}
	for _, p := range paths {
		if _, dup := set[p]; dup {
			continue
		}
		if r.buffered >= maxBuffered {
			// Full: the account holding the most gives way (most likely
			// the one flooding), re-listed instead.
			r.collapse(r.largest())
			if _, all := set[""]; all {
				return
			}
		}
		if len(set) >= r.max || p == "" {
			r.collapse(accountID)
			return
		}
		set[p] = struct{}{}
		r.buffered++
	}
}

// collapse replaces an account's buffered paths by "" (re-list it).
func (r *Receiver) collapse(accountID int64) {
	set := r.buf[accountID]
	r.buffered -= len(set)
	clear(set)
	set[""] = struct{}{}
	r.buffered++
}

// largest is the account with the most buffered paths.
func (r *Receiver) largest() int64 {
	var best int64
	n := -1
	for id, set := range r.buf {
		if len(set) > n {
			best, n = id, len(set)
		}
	}
	return best
}

// Run writes the buffered changes to the catalog every flushEvery until ctx
// ends (and once more then).
func (r *Receiver) Run(ctx context.Context) {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			r.flush(fctx)
			cancel()
			return
		case <-t.C:
			r.flush(ctx)
		}
	}
}

func (r *Receiver) flush(ctx context.Context) {
	r.mu.Lock()
	buf := r.buf
	r.buf, r.buffered = map[int64]map[string]struct{}{}, 0
	r.mu.Unlock()
	if len(buf) == 0 {
		return
	}
	for acct, set := range buf {
		paths := make([]string, 0, len(set))
		for p := range set {
			paths = append(paths, p)
		}
		if _, err := r.store.AddLiveEvents(ctx, acct, paths, r.max, time.Now()); err != nil {
			// Kept for the next flush (bounded as ever): the sender was
			// told 200 already.
			r.log.Warn("recording storage events failed; trying again", "account_id", acct, "paths", len(paths), "error", err)
			r.add(acct, paths)
		}
	}
	r.wake()
}
