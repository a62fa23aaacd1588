package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// run runs the command line against a data directory and returns its exit
// code and output.
func run(t *testing.T, dir, stdin string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	errFile, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	env := func(k string) string {
		switch k {
		case "SHELF_DATA_DIR":
			return dir
		case "SHELF_LOCAL_ROOTS":
			return filepath.Join(dir, "storage")
		case "SHELF_LOG_LEVEL":
			return "error"
		}
		return ""
	}
	code := Main(Env{Args: args, Getenv: env, Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: errFile})
	errFile.Seek(0, io.SeekStart)
	stderr, _ := io.ReadAll(errFile)
	return code, out.String() + string(stderr)
}

func TestOperatorCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if code, out := run(t, dir, "", "migrate"); code != 0 || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate: %d %s", code, out)
	}
	if code, out := run(t, dir, "a good long password\n", "user", "create", "--email", "Ops@Example.com", "--account-name", "Ops team", "--operator"); code != 0 || !strings.Contains(out, "created user") {
		t.Fatalf("user create: %d %s", code, out)
	}
	if code, out := run(t, dir, "", "user", "create", "--email", "ops@example.com", "--account", "1", "--password", "a good long password"); code != 1 || !strings.Contains(out, "already exists") {
		t.Fatalf("duplicate user: %d %s", code, out)
	}
	if code, out := run(t, dir, "", "user", "create", "--email", "x@example.com", "--account", "1", "--password", "short"); code != 2 || !strings.Contains(out, "weak password") {
		t.Fatalf("weak password: %d %s", code, out)
	}
	if code, out := run(t, dir, "", "account", "set-plan", "--account", "1", "--plan", "platinum"); code != 2 || !strings.Contains(out, "--plan must be one of") {
		t.Fatalf("bad plan: %d %s", code, out)
	}
	if code, out := run(t, dir, "", "account", "set-plan", "--account", "99", "--plan", "free"); code != 1 || !strings.Contains(out, "no account 99") {
		t.Fatalf("unknown account: %d %s", code, out)
	}
	if code, out := run(t, dir, "", "account", "set-plan", "--account", "1", "--plan", "medium"); code != 0 || !strings.Contains(out, "now on plan medium") {
		t.Fatalf("set-plan: %d %s", code, out)
	}
	if code, out := run(t, dir, "", "account", "list"); code != 0 || !strings.Contains(out, "Ops team") || !strings.Contains(out, "medium") {
		t.Fatalf("account list: %d %s", code, out)
	}
	if code, out := run(t, dir, "new password here\n", "user", "set-password", "--email", "ops@example.com"); code != 0 || !strings.Contains(out, "password of ops@example.com changed") {
		t.Fatalf("set-password: %d %s", code, out)
	}
	if code, out := run(t, dir, "", "user", "list"); code != 0 || !strings.Contains(out, "ops@example.com") || !strings.Contains(out, "true") {
		t.Fatalf("user list: %d %s", code, out)
	}
	if code, out := run(t, dir, "", "nonsense"); code != 2 || !strings.Contains(out, "unknown command") {
		t.Fatalf("unknown command: %d %s", code, out)
	}
}

func TestSyncCommand(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	storageDir := filepath.Join(dir, "storage")
	for _, f := range []string{"a/one.txt", "a/b/two.txt", "three.txt"} {
		p := filepath.Join(storageDir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(f), 0o644)
	}
	if code, out := run(t, dir, "", "account", "create", "--name", "Team", "--plan", "free"); code != 0 {
		t.Fatalf("account create: %d %s", code, out)
	}
	if code, out := run(t, dir, "", "sync", "--account", "1"); code != 1 || !strings.Contains(out, "no storage is connected") {
		t.Fatalf("sync without storage: %d %s", code, out)
	}
	store, err := catalog.Open(context.Background(), filepath.Join(dir, "shelf.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]string{"path": storageDir})
	if _, err := store.PutConnection(context.Background(), catalog.Connection{AccountID: 1, Kind: "local", Config: cfg, RootKey: storageDir}, time.Now()); err != nil {
		t.Fatal(err)
	}
	store.Close()
	// The CLI sync ignores the free plan's cooldown, twice in a row.
	for i, want := range []string{"added 5", "added 0"} {
		code, out := run(t, dir, "", "sync", "--account", "1")
		if code != 0 || !strings.Contains(out, "succeeded") || !strings.Contains(out, want) {
			t.Fatalf("sync %d: %d %s", i, code, out)
		}
	}
}
