// Package catalog is Shelf's SQL store: accounts, users, sign-in state,
// storage connections, the mirrored folders and assets with their team
// metadata, sync runs and the library lease, notifications and webhooks.
// The same code runs on SQLite (the embedded default) and PostgreSQL.
package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// Dialects a Store can speak.
const (
	DialectSQLite   = "sqlite"
	DialectPostgres = "postgres"
)

// sqliteMaxConns bounds the SQLite pool. SQLite allows one writer at a time;
// with WAL, readers run beside it, so a few connections keep pages readable
// while a sync writes, and BEGIN IMMEDIATE (see sqliteDSN) makes writers
// queue on busy_timeout instead of failing on a lock upgrade.
const sqliteMaxConns = 4

// Store is the catalog. It is safe for concurrent use.
//
// River (the job queue, internal/queue) runs on the same database: a
// catalog change and the job it enqueues commit together through
// InQueueTx. Never enqueue outside that while a transaction of this Store
// is open in the same goroutine: SQLite allows a single writer, so it
// would wait for itself.
//
// Migrate applies River's own migrations too.
type Store struct {
	db   *sql.DB
	pool *pgxpool.Pool // nil on SQLite
	// probe is one connection of its own for Ready, so that requests
	// queueing for db's connections do not make the database look down.
	probe   *sql.DB
	dialect string
	logger  *slog.Logger
	// commonTagRows is where a tag or a subtree counts as big (see planFilter).
	commonTagRows int
	// moveTuning adjusts folder moves (TuneFolderMoves).
	moveTuning FolderMoveTuning
	// writersWaiting counts the writes of this process waiting for the
	// database (SQLite: to begin, every transaction being a writer with
	// BEGIN IMMEDIATE; PostgreSQL: for an account's lock), and writersBegun
	// those that got it: a long rewrite lets them in between its batches
	// (yieldToWriters).
	writersWaiting atomic.Int64
	writersBegun   atomic.Uint64
}

// Open connects to the catalog database. databaseURL is a SQLite file path or
// "file:" URL, or a "postgres://" / "postgresql://" URL. It does not migrate;
// call Migrate.
func Open(ctx context.Context, databaseURL string, logger *slog.Logger) (*Store, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if databaseURL == "" {
		return nil, errors.New("opening catalog: the database URL is empty; set SHELF_DATABASE_URL to a SQLite path or a postgres:// URL")
	}
	if strings.HasPrefix(databaseURL, "postgres://") || strings.HasPrefix(databaseURL, "postgresql://") {
		return openPostgres(ctx, databaseURL, logger)
	}
	return openSQLite(ctx, databaseURL, logger)
}

func openPostgres(ctx context.Context, databaseURL string, logger *slog.Logger) (*Store, error) {
	pool, err := pgxpool.New(ctx, databaseURL)
	if err != nil {
		return nil, fmt.Errorf("opening PostgreSQL catalog: check the URL in SHELF_DATABASE_URL: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	probe := stdlib.OpenDB(*pool.Config().ConnConfig.Copy())
	s := &Store{db: db, pool: pool, probe: singleConn(probe), dialect: DialectPostgres, logger: logger, commonTagRows: defaultCommonTagRows}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("connecting to PostgreSQL catalog: check that the server is running and the URL is right: %w", err)
	}
	return s, nil
}

func openSQLite(ctx context.Context, databaseURL string, logger *slog.Logger) (*Store, error) {
	dsn, err := sqliteDSN(databaseURL)
	if err != nil {
		return nil, err
	}
	if file := sqliteFile(databaseURL); file != "" {
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			return nil, fmt.Errorf("creating the directory of SQLite catalog %q: %w", file, err)
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening SQLite catalog %q: %w", databaseURL, err)
	}
	db.SetMaxOpenConns(sqliteMaxConns)
	db.SetMaxIdleConns(sqliteMaxConns)
	probe, err := sql.Open("sqlite", dsn)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening SQLite catalog %q: %w", databaseURL, err)
	}
	s := &Store{db: db, probe: singleConn(probe), dialect: DialectSQLite, logger: logger, commonTagRows: defaultCommonTagRows}
	if err := s.Ping(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("opening SQLite catalog %q: check that its directory exists and is writable: %w", databaseURL, err)
	}
	return s, nil
}

// singleConn limits db to one connection, kept open.
func singleConn(db *sql.DB) *sql.DB {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	return db
}

// sqliteDSN turns a path or file: URL into a modernc DSN with the pragmas
// Shelf relies on. Settings already present in the URL win.
func sqliteDSN(databaseURL string) (string, error) {
	raw := databaseURL
	if !strings.HasPrefix(raw, "file:") {
		raw = "file:" + raw
	}
	base, query, _ := strings.Cut(raw, "?")
	values, err := url.ParseQuery(query)
	if err != nil {
		return "", fmt.Errorf("parsing SQLite URL %q: %w", databaseURL, err)
	}
	have := map[string]bool{}
	for _, p := range values["_pragma"] {
		name, _, _ := strings.Cut(p, "(")
		have[strings.ToLower(strings.TrimSpace(name))] = true
	}
	for _, p := range []string{"journal_mode(WAL)", "busy_timeout(5000)", "foreign_keys(1)", "synchronous(NORMAL)"} {
		name, _, _ := strings.Cut(p, "(")
		if !have[name] {
			values.Add("_pragma", p)
		}
	}
	if values.Get("_txlock") == "" {
		values.Set("_txlock", "immediate")
	}
	return base + "?" + values.Encode(), nil
}

// sqliteFile is the file path of a SQLite path or file: URL, "" for an
// in-memory database.
func sqliteFile(databaseURL string) string {
	p, _, _ := strings.Cut(strings.TrimPrefix(databaseURL, "file:"), "?")
	if strings.HasPrefix(p, "///") {
		p = p[2:]
	}
	if p == "" || p == ":memory:" {
		return ""
	}
	return p
}

// Close releases the database connections. On SQLite it first lets the
// query planner refresh its statistics (PRAGMA optimize).
func (s *Store) Close() error {
	if s.dialect == DialectSQLite {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if _, err := s.db.ExecContext(ctx, "PRAGMA optimize"); err != nil {
			s.logger.Debug("optimizing SQLite catalog on close", "error", err)
		}
		cancel()
	}
	err := s.db.Close()
	_ = s.probe.Close()
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("catalog database unreachable: %w", err)
	}
	return nil
}

// Ready checks that the database answers, over a connection kept for
// this alone: when every pooled connection is busy (a flood of searches)
// the node is loaded, not down, and a load balancer must not drop it.
func (s *Store) Ready(ctx context.Context) error {
	if err := s.probe.PingContext(ctx); err != nil {
		return fmt.Errorf("catalog database unreachable: %w", err)
	}
	return nil
}

// MaxConns is the most connections the store opens at once (its pool's
// size; Ready's own connection aside).
func (s *Store) MaxConns() int {
	if s.pool != nil {
		return int(s.pool.Config().MaxConns)
	}
	return sqliteMaxConns
}

// Dialect is DialectSQLite or DialectPostgres.
func (s *Store) Dialect() string { return s.dialect }

// DB is the database/sql handle (River's riversqlite driver takes it).
func (s *Store) DB() *sql.DB { return s.db }

// PgxPool is the pgx pool behind DB on PostgreSQL (River's riverpgxv5 driver
// takes it), nil on SQLite.
func (s *Store) PgxPool() *pgxpool.Pool { return s.pool }

// Logger is the store's logger.
func (s *Store) Logger() *slog.Logger { return s.logger }

// InTx runs fn in a transaction, committed when fn returns nil and rolled
// back otherwise. fn must use tx only; other Store methods would take a
// second connection.
func (s *Store) InTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	s.writersWaiting.Add(1)
	tx, err := s.db.BeginTx(ctx, nil)
	s.writersWaiting.Add(-1)
	s.writersBegun.Add(1)
	if err != nil {
		return fmt.Errorf("beginning catalog transaction: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("committing catalog transaction: %w", mapErr(err))
	}
	return nil
}

// Rebind rewrites the "?" placeholders of query for the store's dialect
// ("$1", "$2"... on PostgreSQL), so one SQL text serves both. Queries must
// not contain a literal question mark.
func (s *Store) Rebind(query string) string {
	if s.dialect != DialectPostgres || !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) exec(ctx context.Context, q querier, query string, args ...any) (sql.Result, error) {
	if q == s.db { // a write of its own: it waits for the database as InTx does
		s.writersWaiting.Add(1)
		defer func() {
			s.writersWaiting.Add(-1)
			s.writersBegun.Add(1)
		}()
	}
	res, err := q.ExecContext(ctx, s.Rebind(query), args...)
	return res, mapErr(err)
}

func (s *Store) query(ctx context.Context, q querier, query string, args ...any) (*sql.Rows, error) {
	rows, err := q.QueryContext(ctx, s.Rebind(query), args...)
	return rows, mapErr(err)
}

func (s *Store) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	return q.QueryRowContext(ctx, s.Rebind(query), args...)
}

// execOne runs a statement that must change exactly one row; none gives
// ErrNotFound.
func (s *Store) execOne(ctx context.Context, q querier, query string, args ...any) error {
	res, err := s.exec(ctx, q, query, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("counting changed rows: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
