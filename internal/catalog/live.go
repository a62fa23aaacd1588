package catalog

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Live sync's state in the catalog: the events URL's secret on the
// connection, the paths waiting for a live batch (live_events), and which
// process watches which live account (live_watchers).

// LiveHolderSuffix ends the lease holder of a live batch: such a lock lasts
// a moment, and library writes wait for it rather than give up.
const LiveHolderSuffix = "/live"

// Live reports whether the lease is a live batch's.
func (l Lease) Live() bool { return strings.HasSuffix(l.Holder, LiveHolderSuffix) }

// newEventsKey returns a fresh events-URL secret: 192 random bits.
func newEventsKey() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// EventsKey returns the connection's events-URL secret, making one for a
// connection made before live sync existed.
func (s *Store) EventsKey(ctx context.Context, accountID int64) (string, error) {
	var key string
	err := s.queryRow(ctx, s.db, `SELECT events_key FROM storage_connections WHERE account_id = ?`, accountID).Scan(&key)
	if err != nil {
		return "", mapErr(err)
	}
	if key != "" {
		return key, nil
	}
	if _, err := s.exec(ctx, s.db, `UPDATE storage_connections SET events_key = ? WHERE account_id = ? AND events_key = ''`,
		newEventsKey(), accountID); err != nil {
		return "", fmt.Errorf("making the events URL: %w", err)
	}
	err = s.queryRow(ctx, s.db, `SELECT events_key FROM storage_connections WHERE account_id = ?`, accountID).Scan(&key)
	return key, mapErr(err)
}

// ConnectionByEventsKey returns the connection whose events URL carries
// key; ErrNotFound for an unknown or rotated key.
func (s *Store) ConnectionByEventsKey(ctx context.Context, key string) (Connection, error) {
	if key == "" {
		return Connection{}, ErrNotFound
	}
	return scanConnection(s.queryRow(ctx, s.db, `SELECT `+connectionColumns+` FROM storage_connections WHERE events_key = ?`, key))
}

// SetLastChange records when a live batch last changed the account's
// library.
func (s *Store) SetLastChange(ctx context.Context, accountID int64, at time.Time) error {
	_, err := s.exec(ctx, s.db, `UPDATE storage_connections SET last_change_at = ? WHERE account_id = ?`, ms(at), accountID)
	return err
}

// AddLiveEvents records paths of the account as changed, coalesced with
// those already waiting. When more than limit would wait, they are
// replaced by "" (re-list everything) and overflowed is true: memory and
// the table stay bounded whatever a storage sends.
func (s *Store) AddLiveEvents(ctx context.Context, accountID int64, paths []string, limit int, now time.Time) (overflowed bool, err error) {
	if len(paths) == 0 {
		return false, nil
	}
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM live_events WHERE account_id = ?`, accountID).Scan(&n); err != nil {
			return mapErr(err)
		}
		if n+len(paths) > limit {
			overflowed = true
			if _, err := s.exec(ctx, tx, `DELETE FROM live_events WHERE account_id = ? AND path <> ''`, accountID); err != nil {
				return err
			}
			paths = []string{""}
		}
		for start := 0; start < len(paths); start += 200 {
			chunk := paths[start:min(start+200, len(paths))]
			var b strings.Builder
			args := make([]any, 0, 3*len(chunk))
			for i, p := range chunk {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?)")
				args = append(args, accountID, p, ms(now))
			}
			if _, err := s.exec(ctx, tx, `INSERT INTO live_events (account_id, path, created_at) VALUES `+b.String()+`
ON CONFLICT (account_id, path) DO NOTHING`, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("recording storage changes: %w", err)
	}
	return overflowed, nil
}

// TakeLiveEvents removes and returns up to limit paths waiting for the
// account's next live batch once they settled: the newest is at least quiet
// old, or the oldest at least maxDelay (so a steady stream still gets
// applied). Nothing is returned (and nothing removed) before that. When ""
// (re-list everything) waits, it alone is returned and every path goes
// with it.
func (s *Store) TakeLiveEvents(ctx context.Context, accountID int64, quiet, maxDelay time.Duration, limit int, now time.Time) ([]string, error) {
	var out []string
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		var oldest, newest sql.NullInt64
		var all int
		if err := s.queryRow(ctx, tx, `SELECT MIN(created_at), MAX(created_at), COUNT(CASE WHEN path = '' THEN 1 END)
FROM live_events WHERE account_id = ?`, accountID).Scan(&oldest, &newest, &all); err != nil {
			return mapErr(err)
		}
		if !newest.Valid || (newest.Int64 > ms(now.Add(-quiet)) && oldest.Int64 > ms(now.Add(-maxDelay))) {
			return nil
		}
		if all > 0 {
			out = []string{""}
			_, err := s.exec(ctx, tx, `DELETE FROM live_events WHERE account_id = ?`, accountID)
			return err
		}
		rows, err := s.query(ctx, tx, `DELETE FROM live_events WHERE account_id = ? AND path IN (
    SELECT path FROM live_events WHERE account_id = ? ORDER BY created_at, path LIMIT ?)
RETURNING path`, accountID, accountID, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("taking storage changes: %w", err)
	}
	return out, nil
}

// LiveEventAccounts returns the accounts watched by holder whose waiting
// changes settled at now (see TakeLiveEvents), the longest waiting first:
// every account gets its turn however many wait.
func (s *Store) LiveEventAccounts(ctx context.Context, holder string, quiet, maxDelay time.Duration, now time.Time) ([]int64, error) {
	rows, err := s.query(ctx, s.db, `SELECT e.account_id FROM live_events e
JOIN live_watchers w ON w.account_id = e.account_id WHERE w.holder = ?
GROUP BY e.account_id
HAVING MAX(e.created_at) <= ? OR MIN(e.created_at) <= ?
ORDER BY MIN(e.created_at), e.account_id`, holder, ms(now.Add(-quiet)), ms(now.Add(-maxDelay)))
	if err != nil {
		return nil, fmt.Errorf("listing accounts with storage changes: %w", err)
	}
	return collectIDs(rows)
}

func collectIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// LiveCandidate is an account with a storage connection, as the live
// supervisor weighs it.
type LiveCandidate struct {
	AccountID int64
	Plan      string
	Kind      string
	Status    string
	// EventsKey changes on every (re)connect: a watcher of the former
	// connection is started afresh.
	EventsKey string
}

// ListLiveCandidates returns every account with a storage connection.
func (s *Store) ListLiveCandidates(ctx context.Context) ([]LiveCandidate, error) {
	rows, err := s.query(ctx, s.db, `SELECT a.id, a.plan, c.kind, c.status, c.events_key FROM accounts a
JOIN storage_connections c ON c.account_id = a.id ORDER BY a.id`)
	if err != nil {
		return nil, fmt.Errorf("listing accounts for live sync: %w", err)
	}
	defer rows.Close()
	var out []LiveCandidate
	for rows.Next() {
		var c LiveCandidate
		if err := rows.Scan(&c.AccountID, &c.Plan, &c.Kind, &c.Status, &c.EventsKey); err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// LiveWatcher is the live_watchers row of an account.
type LiveWatcher struct {
	AccountID       int64
	Holder          string
	ExpiresAt       time.Time
	Mode, Note      string
	ChannelID       string
	ChannelResource string
	ChannelToken    string
	ChannelExpires  *time.Time
}

const liveWatcherColumns = `account_id, holder, expires_at, mode, note, channel_id, channel_resource, channel_token, channel_expires`

func scanLiveWatcher(row interface{ Scan(...any) error }) (LiveWatcher, error) {
	var w LiveWatcher
	var exp int64
	var chExp sql.NullInt64
	if err := row.Scan(&w.AccountID, &w.Holder, &exp, &w.Mode, &w.Note, &w.ChannelID, &w.ChannelResource, &w.ChannelToken, &chExp); err != nil {
		return w, mapErr(err)
	}
	w.ExpiresAt, w.ChannelExpires = fromMS(exp), fromNullMS(chExp)
	return w, nil
}

// GetLiveWatcher returns the account's watcher row, expired or not;
// ErrNotFound when none.
func (s *Store) GetLiveWatcher(ctx context.Context, accountID int64) (LiveWatcher, error) {
	return scanLiveWatcher(s.queryRow(ctx, s.db, `SELECT `+liveWatcherColumns+` FROM live_watchers WHERE account_id = ?`, accountID))
}

// ClaimLiveWatcher makes holder the account's watcher until now+ttl when
// nobody else holds it unexpired. It returns the row as it was before (the
// previous holder's push channel, to stop) and whether the claim worked.
func (s *Store) ClaimLiveWatcher(ctx context.Context, accountID int64, holder string, now time.Time, ttl time.Duration) (prev LiveWatcher, ok bool, err error) {
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		prev, err = scanLiveWatcher(s.queryRow(ctx, tx, `SELECT `+liveWatcherColumns+` FROM live_watchers WHERE account_id = ?`, accountID))
		switch {
		case errors.Is(err, ErrNotFound):
			prev = LiveWatcher{}
		case err != nil:
			return err
		case prev.Holder != holder && prev.ExpiresAt.After(now):
			return nil
		}
		res, err := s.exec(ctx, tx, `INSERT INTO live_watchers (account_id, holder, expires_at) VALUES (?, ?, ?)
ON CONFLICT (account_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at, mode = '', note = ''
WHERE live_watchers.holder = excluded.holder OR live_watchers.expires_at <= ?`, accountID, holder, ms(now.Add(ttl)), ms(now))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = err == nil && n == 1
		return err
	})
	if err != nil {
		return prev, false, fmt.Errorf("claiming the live watcher of account %d: %w", accountID, err)
	}
	return prev, ok, nil
}

// RenewLiveWatchers extends every unexpired row of holder to now+ttl and
// returns the accounts it still holds (a row that expired meanwhile may
// have been taken over: it is not renewed).
func (s *Store) RenewLiveWatchers(ctx context.Context, holder string, now time.Time, ttl time.Duration) ([]int64, error) {
	rows, err := s.query(ctx, s.db, `UPDATE live_watchers SET expires_at = ? WHERE holder = ? AND expires_at > ? RETURNING account_id`,
		ms(now.Add(ttl)), holder, ms(now))
	if err != nil {
		return nil, fmt.Errorf("renewing live watchers: %w", err)
	}
	return collectIDs(rows)
}

// ReleaseLiveWatcher gives up holder's row of the account.
func (s *Store) ReleaseLiveWatcher(ctx context.Context, accountID int64, holder string) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM live_watchers WHERE account_id = ? AND holder = ?`, accountID, holder)
	return err
}

// LiveHeartbeat records holder as taking part in live watching until
// now+ttl and returns how many other processes do.
func (s *Store) LiveHeartbeat(ctx context.Context, holder string, now time.Time, ttl time.Duration) (others int, err error) {
	if _, err := s.exec(ctx, s.db, `INSERT INTO live_nodes (holder, expires_at) VALUES (?, ?)
ON CONFLICT (holder) DO UPDATE SET expires_at = excluded.expires_at`, holder, ms(now.Add(ttl))); err != nil {
		return 0, fmt.Errorf("recording this process for live sync: %w", err)
	}
	if _, err := s.exec(ctx, s.db, `DELETE FROM live_nodes WHERE expires_at < ?`, ms(now.Add(-time.Hour))); err != nil {
		return 0, err
	}
	err = s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM live_nodes WHERE holder <> ? AND expires_at > ?`, holder, ms(now)).Scan(&others)
	return others, mapErr(err)
}

// LeaveLive removes holder from live watching (it stops).
func (s *Store) LeaveLive(ctx context.Context, holder string) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM live_nodes WHERE holder = ?`, holder)
	return err
}

// SetLiveWatcherMode records how changes of the account arrive (mode
// "push" or "polling") and why, while holder watches it.
func (s *Store) SetLiveWatcherMode(ctx context.Context, accountID int64, holder, mode, note string) error {
	_, err := s.exec(ctx, s.db, `UPDATE live_watchers SET mode = ?, note = ? WHERE account_id = ? AND holder = ?`, mode, note, accountID, holder)
	return err
}

// SetLiveChannel records the Drive push channel holder opened for the
// account (all empty: none).
func (s *Store) SetLiveChannel(ctx context.Context, accountID int64, holder, id, resource, token string, expires *time.Time) error {
	_, err := s.exec(ctx, s.db, `UPDATE live_watchers SET channel_id = ?, channel_resource = ?, channel_token = ?, channel_expires = ?
WHERE account_id = ? AND holder = ?`, id, resource, token, msPtr(expires), accountID, holder)
	return err
}

// ListLiveWatchers returns every watcher row, expired ones included.
func (s *Store) ListLiveWatchers(ctx context.Context) ([]LiveWatcher, error) {
	rows, err := s.query(ctx, s.db, `SELECT `+liveWatcherColumns+` FROM live_watchers`)
	if err != nil {
		return nil, fmt.Errorf("listing live watchers: %w", err)
	}
	defer rows.Close()
	var out []LiveWatcher
	for rows.Next() {
		w, err := scanLiveWatcher(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// LiveEventsWaiting counts the account's changed paths waiting for a batch.
func (s *Store) LiveEventsWaiting(ctx context.Context, accountID int64) (int, error) {
	var n int
	err := s.queryRow(ctx, s.db, `SELECT COUNT(*) FROM live_events WHERE account_id = ?`, accountID).Scan(&n)
	return n, mapErr(err)
}

// LibraryVersion returns the account's count of library writes made
// through Shelf: a live batch that read the storage before taking the
// library uses what it read only if no write came between.
func (s *Store) LibraryVersion(ctx context.Context, accountID int64) (int64, error) {
	return s.libraryVersion(ctx, s.db, accountID)
}

func (s *Store) libraryVersion(ctx context.Context, q querier, accountID int64) (int64, error) {
	var v int64
	err := s.queryRow(ctx, q, `SELECT library_version FROM accounts WHERE id = ?`, accountID).Scan(&v)
	return v, mapErr(err)
}
