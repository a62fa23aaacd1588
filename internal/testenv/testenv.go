// Package testenv gives tests the real servers the full test run starts
// (scripts/test-all): a fresh PostgreSQL database, the versitygw S3 server,
// Chromium. When a server is absent the test is skipped with a message that
// names the command that enables it, so plain `go test ./...` passes on a
// fresh machine.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnableHint is the command that starts every server the tests can use.
const EnableHint = "run scripts/test-all (the README's test command) to start it"

// PostgresURL returns the URL of a new, empty PostgreSQL database that is
// dropped when the test ends. It skips the test when SHELF_TEST_POSTGRES_URL
// is not set.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv("SHELF_TEST_POSTGRES_URL")
	if admin == "" {
		t.Skip("PostgreSQL not available: SHELF_TEST_POSTGRES_URL is unset; " + EnableHint)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connecting to test PostgreSQL at SHELF_TEST_POSTGRES_URL: %v", err)
	}
	defer conn.Close(ctx)

	name := "shelf_test_" + randomHex(8)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("dropping test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("dropping test database %s: %v", name, err)
		}
	})

	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parsing SHELF_TEST_POSTGRES_URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

// S3Server describes the real S3-compatible server of the full test run.
type S3Server struct {
	Endpoint  string
	AccessKey string
	SecretKey string
}

// RealS3 returns the versitygw server started by scripts/test-all, or skips
// the test when it is not running.
func RealS3(t testing.TB) S3Server {
	t.Helper()
	s := S3Server{
		Endpoint:  os.Getenv("SHELF_TEST_S3_ENDPOINT"),
		AccessKey: os.Getenv("SHELF_TEST_S3_ACCESS_KEY"),
		SecretKey: os.Getenv("SHELF_TEST_S3_SECRET_KEY"),
	}
	if s.Endpoint == "" {
		t.Skip("real S3 server (versitygw) not available: SHELF_TEST_S3_ENDPOINT is unset; " + EnableHint)
	}
	return s
}

// Chromium returns the path of the Chromium binary for browser tests, or
// skips the test when none was provided.
func Chromium(t testing.TB) string {
	t.Helper()
	p := os.Getenv("SHELF_TEST_CHROMIUM")
	if p == "" {
		t.Skip("Chromium not available: SHELF_TEST_CHROMIUM is unset; " + EnableHint)
	}
	return p
}

// RandomName returns a short random lower-case name for buckets, schemas
// and databases.
func RandomName(prefix string) string { return prefix + randomHex(6) }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}
