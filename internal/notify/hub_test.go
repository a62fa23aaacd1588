package notify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shelf-dam/shelf/internal/testenv"
)

// hubSetup returns a started hub: in-process, or over PostgreSQL NOTIFY.
type hubSetup func(t *testing.T) *Hub

func localHub(t *testing.T) *Hub {
	h := NewHub(HubConfig{ProgressInterval: time.Hour})
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Stop)
	return h
}

func pgPool(t *testing.T) *pgxpool.Pool {
	url := testenv.PostgresURL(t)
	pool, err := pgxpool.New(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func pgHub(pool *pgxpool.Pool) hubSetup {
	return func(t *testing.T) *Hub {
		h := NewHub(HubConfig{Pool: pool, ProgressInterval: time.Hour})
		if err := h.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h.Stop)
		return h
	}
}

func receive(t *testing.T, s *Subscription) Event {
	t.Helper()
	select {
	case ev, ok := <-s.C:
		if !ok {
			t.Fatal("subscription closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10s")
	}
	return Event{}
}

// testIsolation: a subscriber of account A gets A's events and never B's.
func testIsolation(t *testing.T, pub, sub *Hub) {
	ctx := context.Background()
	a := sub.Subscribe(1)
	defer a.Close()
	b := sub.Subscribe(2)
	defer b.Close()

	for i := range 5 {
		if err := pub.Publish(ctx, Event{Type: SyncCompleted, AccountID: 2, RunID: int64(100 + i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Publish(ctx, Event{Type: SyncCompleted, AccountID: 1, RunID: 7}); err != nil {
		t.Fatal(err)
	}
	// A's first event is its own: B's five, published before, never reached it.
	if ev := receive(t, a); ev.AccountID != 1 || ev.RunID != 7 || ev.Type != SyncCompleted {
		t.Fatalf("account 1 subscriber got %+v, want its sync.completed of run 7", ev)
	}
	for i := range 5 {
		if ev := receive(t, b); ev.AccountID != 2 || ev.RunID != int64(100+i) {
			t.Fatalf("account 2 subscriber got %+v, want run %d", ev, 100+i)
		}
	}
	select {
	case ev := <-a.C:
		t.Fatalf("account 1 subscriber got a second event %+v", ev)
	default:
	}
}

func TestHubIsolationLocal(t *testing.T) {
	t.Parallel()
	h := localHub(t)
	testIsolation(t, h, h)
}

// TestHubAcrossProcesses: a worker's hub publishes, the server's hub
// delivers, through PostgreSQL NOTIFY.
func TestHubAcrossProcessesPostgres(t *testing.T) {
	t.Parallel()
	pool := pgPool(t)
	worker := pgHub(pool)(t)
	server := pgHub(pool)(t)
	testIsolation(t, worker, server)
}

func TestProgressIsCoalesced(t *testing.T) {
	t.Parallel()
	h := NewHub(HubConfig{ProgressInterval: time.Hour})
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	s := h.Subscribe(1)
	defer s.Close()
	ctx := context.Background()
	for i := range 200 {
		data := MarshalData(map[string]int{"seen": i})
		if err := h.Publish(ctx, Event{Type: SyncProgress, AccountID: 1, RunID: 9, Data: data}); err != nil {
			t.Fatal(err)
		}
	}
	if err := h.Publish(ctx, Event{Type: SyncCompleted, AccountID: 1, RunID: 9}); err != nil {
		t.Fatal(err)
	}
	var types []string
	for ev := range s.C {
		types = append(types, ev.Type)
		if ev.Type == SyncCompleted {
			break
		}
	}
	// With an hour-long interval only the first progress event goes out;
	// the pending one is dropped by the completion.
	if fmt.Sprint(types) != "[sync.progress sync.completed]" {
		t.Fatalf("events = %v, want one progress then the completion", types)
	}
	if d := s.Dropped(); d != 0 {
		t.Fatalf("subscriber dropped %d events", d)
	}
}

func TestPendingProgressIsFlushed(t *testing.T) {
	t.Parallel()
	h := NewHub(HubConfig{ProgressInterval: 20 * time.Millisecond})
	if err := h.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer h.Stop()
	s := h.Subscribe(3)
	defer s.Close()
	ctx := context.Background()
	for i := range 3 {
		if err := h.Publish(ctx, Event{Type: SyncProgress, AccountID: 3, RunID: 1, Data: MarshalData(i)}); err != nil {
			t.Fatal(err)
		}
	}
	first, last := receive(t, s), receive(t, s)
	if string(first.Data) != "0" || string(last.Data) != "2" {
		t.Fatalf("progress data = %s then %s, want 0 then the latest, 2", first.Data, last.Data)
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	t.Parallel()
	h := localHub(t)
	slow := h.Subscribe(5)
	defer slow.Close()
	for i := range subscriberBuffer + 10 {
		if err := h.Publish(context.Background(), Event{Type: AssetUpdated, AccountID: 5, Data: MarshalData(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if got := slow.Dropped(); got != 10 {
		t.Fatalf("dropped = %d, want 10", got)
	}
}
