package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgChannel is the PostgreSQL NOTIFY channel live events travel on.
const pgChannel = "shelf_events"

// pgMaxPayload is below PostgreSQL's NOTIFY payload limit (8000 bytes);
// larger events are sent without their Data.
const pgMaxPayload = 7900

// pgBus carries events between processes with LISTEN/NOTIFY on one
// dedicated connection, reconnecting when it drops. Events published while
// a listener is reconnecting are lost to it: live messages are best effort,
// the notification list is the record.
type pgBus struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	cancel context.CancelFunc
	done   chan struct{}
	once   sync.Once
}

func newPGBus(pool *pgxpool.Pool, logger *slog.Logger) *pgBus {
	return &pgBus{pool: pool, logger: logger}
}

func (b *pgBus) start(ctx context.Context, deliver func(Event)) error {
	conn, err := b.listen(ctx)
	if err != nil {
		return err
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	b.done = make(chan struct{})
	go b.loop(lctx, conn, deliver)
	return nil
}

// listen takes a connection out of the pool for good and listens on it.
func (b *pgBus) listen(ctx context.Context) (*pgx.Conn, error) {
	pc, err := b.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("taking a PostgreSQL connection for LISTEN: %w", err)
	}
	conn := pc.Hijack()
	if _, err := conn.Exec(ctx, "LISTEN "+pgChannel); err != nil {
		_ = conn.Close(context.Background())
		return nil, fmt.Errorf("listening on PostgreSQL channel %s: %w", pgChannel, err)
	}
	return conn, nil
}

func (b *pgBus) loop(ctx context.Context, conn *pgx.Conn, deliver func(Event)) {
	defer close(b.done)
	backoff := 100 * time.Millisecond
	for {
		if conn == nil {
			c, err := b.listen(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				b.logger.Warn("live events: reconnecting the PostgreSQL listener", "error", err, "retry_in", backoff)
				select {
				case <-ctx.Done():
					return
				case <-time.After(backoff):
				}
				backoff = min(backoff*2, 10*time.Second)
				continue
			}
			conn, backoff = c, 100*time.Millisecond
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			_ = conn.Close(context.Background())
			conn = nil
			if ctx.Err() != nil {
				return
			}
			b.logger.Warn("live events: PostgreSQL listener lost its connection", "error", err)
			continue
		}
		var ev Event
		if err := json.Unmarshal([]byte(n.Payload), &ev); err != nil {
			b.logger.Warn("live events: dropping a malformed notification", "error", err)
			continue
		}
		deliver(ev)
	}
}

func (b *pgBus) send(ctx context.Context, ev Event) error {
	payload, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encoding event: %w", err)
	}
	if len(payload) > pgMaxPayload {
		ev.Data = nil
		if payload, err = json.Marshal(ev); err != nil {
			return fmt.Errorf("encoding event: %w", err)
		}
	}
	if _, err := b.pool.Exec(ctx, "SELECT pg_notify($1, $2)", pgChannel, string(payload)); err != nil {
		return fmt.Errorf("sending PostgreSQL notification: %w", err)
	}
	return nil
}

func (b *pgBus) stop() {
	b.once.Do(func() {
		if b.cancel == nil {
			return
		}
		b.cancel()
		<-b.done
	})
}
