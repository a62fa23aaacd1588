package catalog

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// migrationLockKey is the PostgreSQL advisory lock that serialises Migrate
// across processes starting at the same time.
const migrationLockKey = 0x5348454c46 // "SHELF"

// migration is one numbered schema change.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the dialect's embedded migrations in version order. Files
// are named NNNN_name.sql; versions must be unique.
func migrations(dialect string) ([]migration, error) {
	dir := "migrations/" + dialect
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, fmt.Errorf("reading embedded %s migrations: %w", dialect, err)
	}
	var out []migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration file %s/%s: name must start with a number and an underscore", dir, e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(migrationFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("reading migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: strings.TrimSuffix(e.Name(), ".sql"), sql: string(body)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// Migrate brings the catalog schema and River's tables up to date. Each
// migration runs in its own transaction and is recorded in
// schema_migrations; running Migrate again changes nothing. On PostgreSQL an
// advisory lock lets several processes call it at once.
func (s *Store) Migrate(ctx context.Context) error {
	if s.dialect == DialectPostgres {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("migrating catalog: taking a connection: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
			return fmt.Errorf("migrating catalog: taking the migration lock: %w", err)
		}
		defer func() {
			// A fresh context: the lock must go even when ctx is done.
			uctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if _, err := conn.ExecContext(uctx, "SELECT pg_advisory_unlock($1)", migrationLockKey); err != nil {
				s.logger.Warn("releasing catalog migration lock", "error", err)
			}
		}()
	}
	catalogApplied, err := s.migrateCatalog(ctx)
	if err != nil {
		return err
	}
	riverApplied, err := s.migrateRiver(ctx)
	if err != nil {
		return err
	}
	// One line at info level for the whole run, and only when it changed
	// something: each step is logged at debug level.
	if catalogApplied+riverApplied > 0 {
		s.logger.Info("migrated the database", "catalog_migrations", catalogApplied, "river_migrations", riverApplied, "dialect", s.dialect)
	}
	return nil
}

// migrateCatalog applies Shelf's pending migrations and returns how many.
func (s *Store) migrateCatalog(ctx context.Context) (int, error) {
	list, err := migrations(s.dialect)
	if err != nil {
		return 0, err
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
    version    BIGINT PRIMARY KEY,
    name       TEXT   NOT NULL,
    applied_at BIGINT NOT NULL
)`); err != nil {
		return 0, fmt.Errorf("creating schema_migrations table: %w", err)
	}
	n := 0
	for _, m := range list {
		applied := false
		err := s.InTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := s.queryRow(ctx, tx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
				return fmt.Errorf("reading schema_migrations: %w", err)
			}
			if n > 0 {
				return nil
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("applying catalog migration %s: %w", m.name, err)
			}
			if _, err := s.exec(ctx, tx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				m.version, m.name, time.Now().UnixMilli()); err != nil {
				return fmt.Errorf("recording catalog migration %s: %w", m.name, err)
			}
			applied = true
			return nil
		})
		if err != nil {
			return n, err
		}
		if applied {
			n++
			s.logger.Debug("applied catalog migration", "version", m.version, "name", m.name, "dialect", s.dialect)
		}
	}
	return n, nil
}

// migrateRiver applies River's pending migrations and returns how many.
func (s *Store) migrateRiver(ctx context.Context) (int, error) {
	var (
		res *rivermigrate.MigrateResult
		err error
	)
	cfg := &rivermigrate.Config{Logger: slog.New(debugHandler{s.logger.Handler()})}
	switch s.dialect {
	case DialectPostgres:
		m, merr := rivermigrate.New(riverpgxv5.New(s.pool), cfg)
		if merr != nil {
			return 0, fmt.Errorf("preparing River migrations: %w", merr)
		}
		res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	default:
		m, merr := rivermigrate.New(riversqlite.New(s.db), cfg)
		if merr != nil {
			return 0, fmt.Errorf("preparing River migrations: %w", merr)
		}
		res, err = m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	}
	if err != nil {
		return 0, fmt.Errorf("applying River job queue migrations: %w", err)
	}
	for _, v := range res.Versions {
		s.logger.Debug("applied River migration", "version", v.Version, "name", v.Name, "dialect", s.dialect)
	}
	return len(res.Versions), nil
}

// QuietLogger passes a chatty library's messages (River's) on at debug
// level, its warnings and errors as they are: Shelf says at info level
// what matters to an operator itself.
func QuietLogger(l *slog.Logger) *slog.Logger { return slog.New(debugHandler{l.Handler()}) }

// debugHandler demotes records below warning to debug (QuietLogger).
type debugHandler struct{ h slog.Handler }

func (d debugHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return d.h.Enabled(ctx, demote(level))
}

func (d debugHandler) Handle(ctx context.Context, r slog.Record) error {
	r.Level = demote(r.Level)
	if !d.h.Enabled(ctx, r.Level) {
		return nil
	}
	return d.h.Handle(ctx, r)
}

func (d debugHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return debugHandler{d.h.WithAttrs(attrs)}
}

func (d debugHandler) WithGroup(name string) slog.Handler { return debugHandler{d.h.WithGroup(name)} }

func demote(level slog.Level) slog.Level {
	if level < slog.LevelWarn {
		return slog.LevelDebug
	}
	return level
}
