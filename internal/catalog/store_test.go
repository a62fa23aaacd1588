package catalog

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSQLiteDSN(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in       string
		wantBase string
		want     []string // query values that must be present
		notWant  string   // a pragma that must not be added twice
	}{
		{"shelf-data/shelf.db", "file:shelf-data/shelf.db", []string{"journal_mode(WAL)", "busy_timeout(5000)", "foreign_keys(1)"}, ""},
		{"file:/srv/x.db?mode=rwc", "file:/srv/x.db", []string{"journal_mode(WAL)", "foreign_keys(1)"}, ""},
		{"file:x.db?_pragma=busy_timeout(100)", "file:x.db", []string{"busy_timeout(100)"}, "busy_timeout(5000)"},
	}
	for _, c := range cases {
		dsn, err := sqliteDSN(c.in)
		if err != nil {
			t.Fatalf("sqliteDSN(%q): %v", c.in, err)
		}
		base, query, _ := strings.Cut(dsn, "?")
		if base != c.wantBase {
			t.Errorf("sqliteDSN(%q) base = %q, want %q", c.in, base, c.wantBase)
		}
		v, err := url.ParseQuery(query)
		if err != nil {
			t.Fatalf("sqliteDSN(%q) query %q: %v", c.in, query, err)
		}
		pragmas := strings.Join(v["_pragma"], " ")
		for _, w := range c.want {
			if !strings.Contains(pragmas, w) {
				t.Errorf("sqliteDSN(%q) pragmas %q lack %q", c.in, pragmas, w)
			}
		}
		if c.notWant != "" && strings.Contains(pragmas, c.notWant) {
			t.Errorf("sqliteDSN(%q) overrode the URL's own setting: %q", c.in, pragmas)
		}
		if v.Get("_txlock") != "immediate" {
			t.Errorf("sqliteDSN(%q) _txlock = %q, want immediate", c.in, v.Get("_txlock"))
		}
		if strings.Contains(c.in, "mode=rwc") && v.Get("mode") != "rwc" {
			t.Errorf("sqliteDSN(%q) dropped mode=rwc", c.in)
		}
	}
}

func TestOpenSQLiteCreatesDirectoryAndSetsPragmas(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "shelf.db")
	s, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		t.Fatalf("data directory not created: %v", err)
	}
	var mode string
	var fk, timeout int
	if err := s.DB().QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		t.Fatal(err)
	}
	if err := s.DB().QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" || fk != 1 || timeout != 5000 {
		t.Fatalf("journal_mode=%s foreign_keys=%d busy_timeout=%d, want wal 1 5000", mode, fk, timeout)
	}
	if s.Dialect() != DialectSQLite {
		t.Fatalf("Dialect = %q", s.Dialect())
	}
	if _, err := Open(ctx, "", nil); err == nil {
		t.Fatal("an empty URL was accepted")
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	pg := &Store{dialect: DialectPostgres}
	if got := pg.Rebind("SELECT ? FROM t WHERE a = ? AND b IN (?, ?)"); got != "SELECT $1 FROM t WHERE a = $2 AND b IN ($3, $4)" {
		t.Fatalf("Rebind on PostgreSQL = %q", got)
	}
	lite := &Store{dialect: DialectSQLite}
	if got := lite.Rebind("SELECT ?"); got != "SELECT ?" {
		t.Fatalf("Rebind on SQLite = %q", got)
	}
}

// A webhook's events select an exact name, a family ("asset.*") or all.
func TestWebhookWantsEvent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		pattern, event string
		want           bool
	}{
		{"sync.completed", "sync.completed", true},
		{"sync.completed", "sync.failed", false},
		{"asset.*", "asset.created", true},
		{"asset.*", "sync.completed", false},
		{"*", "sync.failed", true},
		{"asset.*", "assets.created", false},
	}
	for _, c := range cases {
		if got := (Webhook{Events: []string{c.pattern}}).WantsEvent(c.event); got != c.want {
			t.Errorf("WantsEvent(%q) with events [%q] = %v, want %v", c.event, c.pattern, got, c.want)
		}
	}
}
