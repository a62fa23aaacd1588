package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
)

// errNoPostgres: no PostgreSQL server answered at -db.
var errNoPostgres = errors.New("no PostgreSQL is reachable")

// startPostgresHint is how to start a throwaway PostgreSQL cluster, the same
// way scripts/test-all does.
const startPostgresHint = `This benchmark needs a PostgreSQL server it may create a database on.
Start a throwaway cluster as scripts/test-all does (initdb refuses to run as
root: as root, prefix initdb and pg_ctl with 'runuser -u postgres --'):

  D=$(mktemp -d /tmp/shelf-pg.XXXXXX); chmod 755 "$D"; mkdir "$D/pg"; chown postgres "$D/pg"
  /usr/lib/postgresql/15/bin/initdb -D "$D/pg" -U postgres -A trust --no-sync
  /usr/lib/postgresql/15/bin/pg_ctl -D "$D/pg" -l "$D/pg.log" \
    -o "-c listen_addresses=127.0.0.1 -p 55432 -k $D/pg -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    -w start
  export SHELF_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:55432/postgres?sslmode=disable"

then run the benchmark again (or pass -db URL). Stop the cluster with
  pg_ctl -D "$D/pg" -m immediate stop
`

// createDatabase creates the benchmark's own database shelf_scale_<pid> on
// the server at adminURL and returns its URL.
func createDatabase(ctx context.Context, adminURL string) (name, dbURL string, err error) {
	if adminURL == "" {
		return "", "", fmt.Errorf("%w: -db is empty and SHELF_TEST_POSTGRES_URL is unset", errNoPostgres)
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(cctx, adminURL)
	if err != nil {
		return "", "", fmt.Errorf("%w at %s: %v", errNoPostgres, redact(adminURL), err)
	}
	defer conn.Close(context.Background())
	name = fmt.Sprintf("shelf_scale_%d", os.Getpid())
	if _, err := conn.Exec(cctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", "", fmt.Errorf("dropping a leftover database %s: %w", name, err)
	}
	if _, err := conn.Exec(cctx, "CREATE DATABASE "+name); err != nil {
		return "", "", fmt.Errorf("creating database %s: %w", name, err)
	}
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", "", fmt.Errorf("parsing -db: %w", err)
	}
	u.Path = "/" + name
	return name, u.String(), nil
}

// dropDatabase drops the benchmark's database, ending its sessions.
func dropDatabase(adminURL, name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connecting to drop database %s: %w", name, err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("dropping database %s: %w", name, err)
	}
	return nil
}

// withQuery returns dbURL with key=value added to its query.
func withQuery(dbURL, key, value string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return dbURL
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

// redact hides a password in a URL for messages.
func redact(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return "the -db URL"
	}
	return u.Redacted()
}
