package notify

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// DefaultProgressInterval is the least time between two sync.progress
// events of one run that subscribers see.
const DefaultProgressInterval = 500 * time.Millisecond

// subscriberBuffer is how many events a slow subscriber may fall behind
// before events to it are dropped.
const subscriberBuffer = 64

// HubConfig configures a Hub.
type HubConfig struct {
	Logger *slog.Logger
	// Pool, when set, carries events between processes with PostgreSQL
	// LISTEN/NOTIFY, so a subscriber on the server sees what a worker
	// process publishes. Nil keeps events inside this process (SQLite,
	// one process).
	Pool *pgxpool.Pool
	// ProgressInterval coalesces sync.progress events: at most one per run
	// per interval is published, the latest counts win. Zero means
	// DefaultProgressInterval.
	ProgressInterval time.Duration
}

// Hub fans live events out to subscribers, each of which sees one account's
// events only. Publish may be called from any process sharing the database
// when the hub is backed by PostgreSQL. Start it before use and Stop it on
// shutdown.
type Hub struct {
	logger   *slog.Logger
	interval time.Duration
	bus      bus

	mu   sync.Mutex
	subs map[int64]map[*Subscription]struct{}

	throttleMu sync.Mutex
	throttles  map[int64]*throttle // by run
}

// bus carries published events to every process's hub (deliver).
type bus interface {
	start(ctx context.Context, deliver func(Event)) error
	send(ctx context.Context, ev Event) error
	stop()
}

// NewHub returns a hub; call Start before publishing.
func NewHub(cfg HubConfig) *Hub {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &Hub{
		logger:    logger,
		interval:  cfg.ProgressInterval,
		subs:      map[int64]map[*Subscription]struct{}{},
		throttles: map[int64]*throttle{},
	}
	if h.interval <= 0 {
		h.interval = DefaultProgressInterval
	}
	if cfg.Pool != nil {
		h.bus = newPGBus(cfg.Pool, logger)
	} else {
		h.bus = &localBus{}
	}
	return h
}

// Start begins delivering events (on PostgreSQL: listens for other
// processes' events). It returns once the hub is ready.
func (h *Hub) Start(ctx context.Context) error {
	if err := h.bus.start(ctx, h.deliver); err != nil {
		return fmt.Errorf("starting the live event hub: %w", err)
	}
	return nil
}

// Stop stops delivery and closes every subscription.
func (h *Hub) Stop() {
	h.bus.stop()
	h.throttleMu.Lock()
	for id, t := range h.throttles {
		t.cancel()
		delete(h.throttles, id)
	}
	h.throttleMu.Unlock()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, set := range h.subs {
		for s := range set {
			s.closeLocked()
		}
	}
	h.subs = map[int64]map[*Subscription]struct{}{}
}

// Publish sends an event to the subscribers of its account, in every
// process. Missing ID and Time are filled in. sync.progress events are
// coalesced per run; any other event of a run drops that run's pending
// progress, so progress never arrives after the run's end.
func (h *Hub) Publish(ctx context.Context, ev Event) error {
	if ev.ID == "" {
		ev.ID = newEventID()
	}
	if ev.Time.IsZero() {
		ev.Time = time.Now().UTC()
	}
	if ev.RunID != 0 {
		if ev.Type == SyncProgress {
			return h.throttled(ev)
		}
		h.endThrottle(ev.RunID)
	}
	return h.send(ctx, ev)
}

func (h *Hub) send(ctx context.Context, ev Event) error {
	if err := h.bus.send(ctx, ev); err != nil {
		return fmt.Errorf("publishing %s event for account %d: %w", ev.Type, ev.AccountID, err)
	}
	return nil
}

// deliver hands an event to this process's subscribers of its account. A
// subscriber that is not keeping up loses the event rather than stalling
// everyone else.
func (h *Hub) deliver(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for s := range h.subs[ev.AccountID] {
		select {
		case s.ch <- ev:
		default:
			s.dropped++
		}
	}
}

// Subscription receives one account's events on C until Close.
type Subscription struct {
	// C delivers the events; it is closed when the subscription or the hub
	// ends.
	C <-chan Event

	ch        chan Event
	hub       *Hub
	accountID int64
	closed    bool
	dropped   int
}

// Subscribe returns a subscription to the events of one account.
func (h *Hub) Subscribe(accountID int64) *Subscription {
	ch := make(chan Event, subscriberBuffer)
	s := &Subscription{C: ch, ch: ch, hub: h, accountID: accountID}
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.subs[accountID]
	if set == nil {
		set = map[*Subscription]struct{}{}
		h.subs[accountID] = set
	}
	set[s] = struct{}{}
	return s
}

// Close ends the subscription; C is closed. Safe to call more than once.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	if set := s.hub.subs[s.accountID]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(s.hub.subs, s.accountID)
		}
	}
	s.closeLocked()
}

func (s *Subscription) closeLocked() {
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}

// Dropped reports how many events this subscriber missed by not keeping up.
func (s *Subscription) Dropped() int {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.dropped
}

// localBus delivers within this process only.
type localBus struct {
	mu      sync.RWMutex
	deliver func(Event)
}

func (b *localBus) start(_ context.Context, deliver func(Event)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.deliver = deliver
	return nil
}

func (b *localBus) send(_ context.Context, ev Event) error {
	b.mu.RLock()
	deliver := b.deliver
	b.mu.RUnlock()
	if deliver == nil {
		return fmt.Errorf("the event hub is not started")
	}
	deliver(ev)
	return nil
}

func (b *localBus) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.deliver = nil
}

func newEventID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return "evt_" + hex.EncodeToString(b[:])
}

// MarshalData encodes v as an event's Data, for publishers.
func MarshalData(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
