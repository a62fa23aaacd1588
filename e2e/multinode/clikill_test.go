package multinode

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// TestCLISyncRecoversAfterKill: `shelf sync` killed mid-run, then run
// again, takes over the dead run's retry and reports the real outcome: exit
// status 0 and the whole library in the catalog (issue 10, defect 7: it
// printed "already failed; following it" and exited 1, 11 of 11 times,
// with the catalog stuck part way until a worker ran).
func TestCLISyncRecoversAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary; skipped with -short")
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		t.Run(dialect, func(t *testing.T) {
			work := t.TempDir()
			dbURL := filepath.Join(work, "shelf.db")
			if dialect == "postgres" {
				dbURL = testenv.PostgresURL(t)
			}
			testCLISyncRecoversAfterKill(t, work, dbURL)
		})
	}
}

func testCLISyncRecoversAfterKill(t *testing.T, work, dbURL string) {
	ctx := context.Background()
	bin := buildShelf(t, work)
	root := filepath.Join(work, "libraries")
	const files = 100000 // a sync of this many takes a second or more: time to kill it mid-run
	lib := filepath.Join(root, "big")
	for j := range files {
		writeFile(t, filepath.Join(lib, fmt.Sprintf("d%02d", j%100), fmt.Sprintf("f%05d.txt", j)), fmt.Sprint(j))
	}
	env := []string{
		"SHELF_DATABASE_URL=" + dbURL,
		"SHELF_LOCAL_ROOTS=" + root,
		"SHELF_SECRET_KEY=" + randomHex(32),
		"SHELF_DATA_DIR=" + filepath.Join(work, "data"),
		"SHELF_LOG_LEVEL=warn",
		"SHELF_SCHEDULER_INTERVAL=1s",
		"SHELF_SYNC_LEASE_TTL=3s",
	}
	run(t, bin, env, "migrate")
	store, err := catalog.Open(ctx, dbURL, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	acct := createAccount(t, store, "cli team", lib, nil)

	// The first `shelf sync` is killed once it has imported part of the
	// library.
	var firstOut bytes.Buffer
	first := exec.Command(bin, "sync", "--account", fmt.Sprint(acct))
	first.Env = append(first.Environ(), env...)
	first.Stdout, first.Stderr = &firstOut, &firstOut
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- first.Wait() }()
	var victim catalog.SyncRun
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(10 * time.Millisecond) {
		select {
		case err := <-exited:
			t.Fatalf("the first shelf sync ended (%v) before it could be killed mid-run; output:\n%s", err, firstOut.String())
		default:
		}
		if time.Now().After(deadline) {
			_ = first.Process.Kill()
			t.Fatalf("the first shelf sync never got going; output:\n%s", firstOut.String())
		}
		if r, err := store.ActiveSyncRun(ctx, acct); err == nil && r.State == catalog.RunRunning && r.Counts.Added > 200 {
			victim = r
			break
		}
	}
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-exited

	// Run again: it must finish the job and say so.
	var out bytes.Buffer
	again := exec.CommandContext(ctx, bin, "sync", "--account", fmt.Sprint(acct))
	again.Env = append(again.Environ(), env...)
	again.Stdout, again.Stderr = &out, &out
	start := time.Now()
	err = again.Run()
	t.Logf("second shelf sync after the kill of run %d: %v in %v\n%s", victim.ID, err, time.Since(start).Round(time.Millisecond), out.String())
	if err != nil {
		t.Fatalf("shelf sync after a kill exited with %v", err)
	}
	if !strings.Contains(out.String(), "succeeded") {
		t.Errorf("the output does not report success")
	}
	n, _, err := store.SyncLibrarySize(ctx, acct)
	if err != nil {
		t.Fatal(err)
	}
	if n != files {
		t.Fatalf("the catalog holds %d assets, want %d", n, files)
	}
	if l, err := store.GetLease(ctx, acct, time.Now()); err == nil {
		t.Fatalf("the library is still locked by run %d", l.RunID)
	}
}
