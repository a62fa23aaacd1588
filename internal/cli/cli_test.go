package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
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

// demoRun is what one run of `shelf demo` printed: its whole output (logs
// and the sign-in, in order), the URL and the password.
type demoRun struct {
	output, url, password string
}

var (
	demoURL      = regexp.MustCompile(`Shelf demo is running at (http://\S+)`)
	demoPassword = regexp.MustCompile(`password:\s+(\S+)`)
)

// startDemo runs `shelf demo` in-process on dir at info level until it has
// printed the sign-in, checks that nothing of Shelf's start-up comes after
// it and that it signs in, and stops it.
func startDemo(t *testing.T, dir string) demoRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var out bytes.Buffer
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := r.Read(buf)
			mu.Lock()
			out.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	output := func() string {
		mu.Lock()
		defer mu.Unlock()
		return out.String()
	}
	getenv := func(k string) string {
		return map[string]string{"SHELF_DATA_DIR": dir, "SHELF_LOG_LEVEL": "info", "SHELF_LISTEN": "127.0.0.1:0"}[k]
	}
	done := make(chan error, 1)
	go func() {
		done <- runDemo(ctx, Env{Getenv: getenv, Stdin: strings.NewReader(""), Stdout: w, Stderr: w}, nil)
	}()
	stop := func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("demo: %v", err)
		}
		w.Close()
		<-read
	}

	const signInEnd = "Stop with Ctrl-C.\n\n"
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(output(), signInEnd) {
		select {
		case err := <-done:
			t.Fatalf("demo ended before printing the sign-in: %v\n%s", err, output())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			stop()
			t.Fatalf("no sign-in printed within 60s:\n%s", output())
		}
	}
	// The sign-in is the last thing Shelf prints at start-up (River's own
	// chatter aside, which comes on its own schedule).
	time.Sleep(500 * time.Millisecond)
	got := output()
	_, after, _ := strings.Cut(got, signInEnd)
	for _, line := range strings.Split(strings.TrimSpace(after), "\n") {
		if line != "" && !strings.Contains(line, "component=river") {
			t.Errorf("printed after the sign-in: %s", line)
		}
	}
	run := demoRun{output: got}
	if m := demoURL.FindStringSubmatch(got); m != nil {
		run.url = m[1]
	}
	if m := demoPassword.FindStringSubmatch(got); m != nil {
		run.password = m[1]
	}
	if code := demoSignIn(t, run.url, run.password); code != http.StatusOK {
		t.Errorf("signing in with the printed password: %d", code)
	}
	stop()
	return run
}

func demoSignIn(t *testing.T, url, password string) int {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"email": demoEmail, "password": password})
	resp, err := http.Post(url+"/api/v1/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestDemoSignInIsLastAndStable: `shelf demo` prints its URL and sign-in
// after the start-up logs (which no longer list every migration), and the
// password stays the same across restarts until its file is removed.
func TestDemoSignInIsLastAndStable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	first := startDemo(t, dir)
	for _, noise := range []string{"applied catalog migration", "applied River migration", "Applied migration", "No migrations to apply"} {
		if strings.Contains(first.output, noise) {
			t.Errorf("info-level output lists migration steps (%q):\n%s", noise, first.output)
		}
	}
	n := 0
	for _, line := range strings.Split(first.output, "\n") {
		if strings.Contains(strings.ToLower(line), "migrat") {
			n++
		}
	}
	if n > 1 {
		t.Errorf("%d lines about migrations at info level, want at most one summary:\n%s", n, first.output)
	}
	second := startDemo(t, dir)
	if first.password == "" || second.password != first.password {
		t.Fatalf("password %q on the first start, %q on the second; want the same", first.password, second.password)
	}
	if strings.Contains(strings.ToLower(second.output), "migrat") {
		t.Errorf("a restart with nothing to migrate talks about migrations:\n%s", second.output)
	}
	path := filepath.Join(dir, "demo-password")
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v, want mode 0600", info, err)
	}

	// Without its file the existing demo user gets a new password, written
	// down again; the old one no longer signs in.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	third := startDemo(t, dir)
	if third.password == first.password {
		t.Fatal("the password did not change although its file was removed")
	}
	if data, err := os.ReadFile(path); err != nil || strings.TrimSpace(string(data)) != third.password {
		t.Fatalf("password file holds %q, %v; want %q", data, err, third.password)
	}
}
