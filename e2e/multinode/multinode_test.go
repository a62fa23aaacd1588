// Package multinode runs the real shelf binary as one server and two worker
// processes on one PostgreSQL database, with hundreds of accounts syncing
// local folders on a short auto-sync interval, and checks that every due
// account is synced exactly once per interval and that a sync whose worker
// is killed is finished by the other worker.
package multinode

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/policy"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/testenv"
)

const (
	accounts = 200
	// intervals is how many auto-sync intervals the steady phase observes.
	intervals = 3
	// bigFiles makes one library slow enough to kill its worker mid-run.
	bigFiles = 8000
)

// node is one shelf process.
type node struct {
	name string
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *lockedBuffer) add(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lines = append(b.lines, s)
}

func (b *lockedBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.lines) > n {
		return strings.Join(b.lines[len(b.lines)-n:], "\n")
	}
	return strings.Join(b.lines, "\n")
}

func TestMultiNode(t *testing.T) {
	if testing.Short() {
		t.Skip("multi-node test runs for minutes; skipped with -short")
	}
	dbURL := testenv.PostgresURL(t)
	ctx := context.Background()
	work := t.TempDir()
	bin := buildShelf(t, work)

	// The binary's knobs for fast scheduling, when it has them.
	help, _ := exec.Command(bin, "worker", "-h").CombinedOutput()
	fastKnobs := strings.Contains(string(help), "SHELF_SCHEDULER_INTERVAL")
	interval := 60 * time.Second // the default 30 s tick hits every 60 s slot
	if fastKnobs {
		interval = 15 * time.Second
	}
	t.Logf("auto-sync interval %v (binary has SHELF_SCHEDULER_INTERVAL: %v)", interval, fastKnobs)

	root := filepath.Join(work, "libraries")
	policyFile := filepath.Join(work, "policy.toml")
	writeFile(t, policyFile, fmt.Sprintf("[plans.medium]\ndrive_auto = %q\n", interval.String()))
	env := []string{
		"SHELF_DATABASE_URL=" + dbURL,
		"SHELF_POLICY_FILE=" + policyFile,
		"SHELF_LOCAL_ROOTS=" + root,
		"SHELF_SECRET_KEY=" + randomHex(32),
		"SHELF_LOG_LEVEL=info",
		"SHELF_LOG_FORMAT=text",
		"SHELF_SCHEDULER_INTERVAL=1s",
		"SHELF_SYNC_LEASE_TTL=6s",
	}
	run(t, bin, env, "migrate")

	store, err := catalog.Open(ctx, dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()

	// Accounts due over the first interval, each with a small local folder.
	start := time.Now().Add(20 * time.Second).Truncate(time.Second)
	type acct struct {
		id  int64
		due time.Time
	}
	var all []acct
	for i := range accounts {
		dir := filepath.Join(root, fmt.Sprintf("lib%03d", i))
		for j := range 3 {
			writeFile(t, filepath.Join(dir, fmt.Sprintf("f%d.txt", j)), fmt.Sprintf("account %d file %d", i, j))
		}
		due := start.Add(time.Duration(i) * interval / accounts)
		a := createAccount(t, store, fmt.Sprintf("team %d", i), dir, &due)
		all = append(all, acct{a, due})
	}

	port := freePort(t)
	server := startNode(t, bin, env, "server", "serve", "--no-workers", "--listen", "127.0.0.1:"+port)
	w1 := startNode(t, bin, env, "worker-1", "worker")
	w2 := startNode(t, bin, env, "worker-2", "worker")
	waitHTTP(t, "http://127.0.0.1:"+port+"/healthz", server)

	// Steady phase: several intervals with both workers up.
	end := start.Add(time.Duration(intervals) * interval)
	settle := end.Add(interval / 2)
	t.Logf("observing %d accounts for %d intervals until %s", accounts, intervals, settle.Format(time.TimeOnly))
	time.Sleep(time.Until(settle))

	var (
		runsTotal, doubles, missed, failed, early int
		worstDelay                                time.Duration
	)
	for _, a := range all {
		runs, err := store.ListSyncRuns(ctx, a.id, 100)
		if err != nil {
			t.Fatal(err)
		}
		perSlot := make([]int, intervals)
		for _, r := range runs {
			if r.Trigger != catalog.TriggerAuto {
				continue
			}
			// A run belongs to the slot it was created in; a little
			// tolerance covers clock rounding at the slot's start.
			const tolerance = 2 * time.Second
			since := r.CreatedAt.Sub(a.due) + tolerance
			k := int(since / interval)
			if since < 0 || k >= intervals {
				continue
			}
			runsTotal++
			perSlot[k]++
			if r.State == catalog.RunFailed {
				failed++
				t.Logf("account %d run %d failed: %s", a.id, r.ID, r.Error)
			}
			if r.StartedAt != nil {
				slotDue := a.due.Add(time.Duration(k) * interval)
				worstDelay = max(worstDelay, r.StartedAt.Sub(slotDue))
				if r.StartedAt.Before(slotDue) {
					early++
				}
			}
		}
		for _, n := range perSlot {
			switch {
			case n == 0:
				missed++
			case n > 1:
				doubles += n - 1
			}
		}
	}
	t.Logf("MULTI-NODE FIGURES: accounts=%d intervals=%d interval=%v processes=1 server + 2 workers runs=%d doubles=%d missed=%d failed=%d early=%d worst_start_delay=%v",
		accounts, intervals, interval, runsTotal, doubles, missed, failed, early, worstDelay.Round(time.Millisecond))
	if doubles != 0 || missed != 0 || failed != 0 || early != 0 {
		t.Errorf("want zero double, missed, failed and early runs; worker-1 log tail:\n%s\nworker-2 log tail:\n%s", w1.log.tail(30), w2.log.tail(30))
	}

	// Kill phase: a big library starts syncing; its worker is killed mid-run
	// and the other worker must finish the retry.
	bigDir := filepath.Join(root, "big")
	for j := range bigFiles {
		writeFile(t, filepath.Join(bigDir, fmt.Sprintf("d%02d", j%50), fmt.Sprintf("f%05d.txt", j)), strconv.Itoa(j))
	}
	now := time.Now()
	big := createAccount(t, store, "big team", bigDir, &now)
	var victimRun catalog.SyncRun
	var lease catalog.Lease
	deadline := time.Now().Add(3 * interval)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("the big library's sync never ran; worker logs:\n%s\n%s", w1.log.tail(30), w2.log.tail(30))
		}
		if r, err := store.ActiveSyncRun(ctx, big); err == nil && r.State == catalog.RunRunning {
			if l, err := store.GetLease(ctx, big, time.Now()); err == nil {
				victimRun, lease = r, l
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	victim, survivor := w1, w2
	if strings.Contains(lease.Holder, fmt.Sprintf(":%d:", w2.cmd.Process.Pid)) {
		victim, survivor = w2, w1
	} else if !strings.Contains(lease.Holder, fmt.Sprintf(":%d:", w1.cmd.Process.Pid)) {
		t.Fatalf("lease holder %q is neither worker (pids %d, %d)", lease.Holder, w1.cmd.Process.Pid, w2.cmd.Process.Pid)
	}
	killedAt := time.Now()
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-victim.done
	t.Logf("killed %s (pid %d) during run %d of the big library (%d files)", victim.name, victim.cmd.Process.Pid, victimRun.ID, bigFiles)

	var retry catalog.SyncRun
	deadline = time.Now().Add(4 * time.Minute)
	for {
		if time.Now().After(deadline) {
			t.Fatalf("no successful retry of the big library's sync; %s log tail:\n%s\n%s log tail:\n%s",
				survivor.name, survivor.log.tail(60), victim.name, victim.log.tail(20))
		}
		runs, err := store.ListSyncRuns(ctx, big, 10)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) > 0 && runs[0].ID != victimRun.ID && runs[0].State == catalog.RunSucceeded {
			retry = runs[0]
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	first, err := store.GetSyncRun(ctx, big, victimRun.ID)
	if err != nil {
		t.Fatal(err)
	}
	if first.State != catalog.RunFailed {
		t.Errorf("killed run %d is %q, want failed", first.ID, first.State)
	}
	if retry.Counts.Seen < bigFiles {
		t.Errorf("retry saw %d entries, want at least %d", retry.Counts.Seen, bigFiles)
	}
	if _, err := store.GetLease(ctx, big, time.Now()); err == nil {
		t.Errorf("the big library is still locked after the retry")
	}
	t.Logf("KILL FIGURES: killed run %d failed (%q); retry run %d by %s succeeded %v after the kill, seen=%d added=%d",
		first.ID, first.Error, retry.ID, survivor.name, retry.FinishedAt.Sub(killedAt).Round(time.Millisecond), retry.Counts.Seen, retry.Counts.Added)

	// The survivor alone keeps every account on schedule: the next full
	// interval of each account after the retry has exactly one auto-sync.
	from := *retry.FinishedAt
	slotOf := func(a acct) time.Time {
		k := (from.Sub(a.due) + interval - 1) / interval
		return a.due.Add(k * interval)
	}
	var last time.Time
	for _, a := range all {
		last = later(last, slotOf(a).Add(interval))
	}
	time.Sleep(time.Until(last.Add(interval / 4)))
	var after, afterDoubles, afterMissed int
	for _, a := range all {
		start := slotOf(a)
		runs, err := store.ListSyncRuns(ctx, a.id, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range runs {
			const tolerance = 2 * time.Second
			if r.Trigger == catalog.TriggerAuto && r.State == catalog.RunSucceeded &&
				!r.CreatedAt.Before(start.Add(-tolerance)) && r.CreatedAt.Before(start.Add(interval-tolerance)) {
				n++
			}
		}
		after += n
		switch {
		case n == 0:
			afterMissed++
		case n > 1:
			afterDoubles += n - 1
		}
	}
	t.Logf("AFTER THE KILL (%s alone, one interval per account): runs=%d doubles=%d missed=%d", survivor.name, after, afterDoubles, afterMissed)
	if afterDoubles != 0 || afterMissed != 0 {
		t.Errorf("after the kill: %d doubles, %d missed; %s log tail:\n%s", afterDoubles, afterMissed, survivor.name, survivor.log.tail(40))
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func createAccount(t *testing.T, store *catalog.Store, name, dir string, due *time.Time) int64 {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	a, err := store.CreateAccount(ctx, catalog.NewAccount{Name: name, Plan: policy.PlanMedium, NextAutoSyncAt: due}, now)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := json.Marshal(map[string]string{"path": dir})
	if _, err := store.PutConnection(ctx, catalog.Connection{AccountID: a.ID, Kind: "local", Config: cfg, RootKey: dir}, now); err != nil {
		t.Fatal(err)
	}
	// The plan is explicit so the trial clock never interferes.
	if err := store.SetPlan(ctx, a.ID, policy.PlanMedium, due, now); err != nil {
		t.Fatal(err)
	}
	return a.ID
}

func buildShelf(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "shelf")
	cmd := exec.Command("go", "build", "-o", bin, "github.com/shelf-dam/shelf/cmd/shelf")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the shelf binary: %v\n%s", err, out)
	}
	return bin
}

func run(t *testing.T, bin string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "SHELF_DATA_DIR="+t.TempDir())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("shelf %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func startNode(t *testing.T, bin string, env []string, name string, args ...string) *node {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "SHELF_DATA_DIR="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	n := &node{name: name, cmd: cmd, log: &lockedBuffer{}, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		// Read every byte, whatever the line lengths: a process whose
		// output pipe fills up stalls.
		r := bufio.NewReaderSize(out, 64*1024)
		for {
			line, err := r.ReadString('\n')
			if line != "" {
				if len(line) > 4000 {
					line = line[:4000] + "…(truncated)"
				}
				n.log.add(strings.TrimRight(line, "\n"))
			}
			if err != nil {
				break
			}
		}
		_ = cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() {
		select {
		case <-n.done:
			return
		default:
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-n.done
		}
	})
	return n
}

func waitHTTP(t *testing.T, url string, n *node) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		select {
		case <-n.done:
			t.Fatalf("%s exited:\n%s", n.name, n.log.tail(30))
		case <-time.After(100 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not answer %s:\n%s", n.name, url, n.log.tail(30))
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
