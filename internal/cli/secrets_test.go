package cli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestUsageNeverPrintsSecrets checks that -h and a flag error (both print
// every flag with its default) do not print the secrets given in the
// environment: the database URL's password, the encryption key, the
// Google client secret and the SMTP password; and that those variables are
// still used.
func TestUsageNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	secrets := map[string]string{
		"SHELF_DATABASE_URL":         "postgres://shelf:db-pw-4242@127.0.0.1:1/shelf?connect_timeout=1",
		"SHELF_SECRET_KEY":           "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
		"SHELF_GOOGLE_CLIENT_SECRET": "google-secret-4242",
		"SHELF_SMTP_PASSWORD":        "smtp-pw-4242",
	}
	env := func(k string) string {
		if k == "SHELF_DATA_DIR" {
			return dir
		}
		return secrets[k]
	}
	for _, args := range [][]string{{"serve", "-h"}, {"serve", "--no-such-flag"}, {"migrate", "-h"}, {"migrate"}} {
		var out bytes.Buffer
		errFile, err := os.CreateTemp(dir, "stderr")
		if err != nil {
			t.Fatal(err)
		}
		Main(Env{Args: args, Getenv: env, Stdin: strings.NewReader(""), Stdout: &out, Stderr: errFile})
		errFile.Seek(0, io.SeekStart)
		stderr, _ := io.ReadAll(errFile)
		errFile.Close()
		all := out.String() + string(stderr)
		for k, v := range secrets {
			secret := v
			if k == "SHELF_DATABASE_URL" {
				secret = "db-pw-4242"
			}
			if strings.Contains(all, secret) {
				t.Errorf("shelf %s prints %s:\n%s", strings.Join(args, " "), k, all)
			}
		}
		// "migrate" really uses SHELF_DATABASE_URL: it fails to reach that
		// server rather than opening a SQLite file in the data dir.
		if args[0] == "migrate" && len(args) == 1 {
			if !strings.Contains(all, "PostgreSQL") {
				t.Errorf("shelf migrate did not use SHELF_DATABASE_URL: %s", all)
			}
			if _, err := os.Stat(filepath.Join(dir, "shelf.db")); err == nil {
				t.Error("shelf migrate opened SQLite instead of SHELF_DATABASE_URL")
			}
		}
	}
}
