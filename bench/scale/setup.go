package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

// plan is the accounts' plan; the policy file gives it the -interval.
const plan = policy.PlanMedium

// bench is one run of the benchmark: its database, folders, processes and
// what it measured.
type bench struct {
	o       options
	dbName  string
	dbURL   string // the benchmark's own database
	work    string
	bin     string
	env     []string
	store   *catalog.Store
	pool    *pgxpool.Pool
	sampler *sampler

	accounts []int64
	due0     map[int64]time.Time // each account's first due time
	start    time.Time           // the first account's first due time

	server, w1, w2 *node

	marks        map[string]mark // "start", "steady", "end", …
	setupSeconds float64
	kill         *killResult
}

// newBench creates the database, builds the binary and writes the policy
// file. A nil bench means nothing needs cleaning up.
func newBench(ctx context.Context, o options) (*bench, error) {
	b := &bench{o: o, marks: map[string]mark{}}
	b.marks["start"] = mark{at: time.Now(), load: loadAvg()}
	name, dbURL, err := createDatabase(ctx, o.dbURL)
	if err != nil {
		return nil, err
	}
	b.dbName, b.dbURL = name, dbURL
	if b.work, err = os.MkdirTemp("", "shelf-bench-scale-"); err != nil {
		return b, err
	}
	if b.bin = o.bin; b.bin == "" {
		b.bin = filepath.Join(b.work, "shelf")
		fmt.Printf("building shelf into %s\n", b.bin)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.bin, "github.com/shelf-dam/shelf/cmd/shelf")
		if out, err := cmd.CombinedOutput(); err != nil {
			return b, fmt.Errorf("building the shelf binary: %w\n%s", err, out)
		}
	}
	policyFile := filepath.Join(b.work, "policy.toml")
	text := fmt.Sprintf("[plans.%s]\nlocal_auto = %q\n", plan, o.interval.String())
	if o.live > 0 {
		text = fmt.Sprintf("[plans.%s]\nlocal_auto = \"live\"\n", plan)
	}
	if err := os.WriteFile(policyFile, []byte(text), 0o644); err != nil {
		return b, err
	}
	nodeURL := dbURL
	if o.poolMaxConns > 0 {
		nodeURL = withQuery(dbURL, "pool_max_conns", strconv.Itoa(o.poolMaxConns))
	}
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	b.env = []string{
		"SHELF_DATABASE_URL=" + nodeURL,
		"SHELF_POLICY_FILE=" + policyFile,
		"SHELF_LOCAL_ROOTS=" + b.libRoot(),
		"SHELF_SECRET_KEY=" + hex.EncodeToString(key),
		"SHELF_LOG_LEVEL=" + o.logLevel,
		"SHELF_LOG_FORMAT=text",
		"SHELF_SYNC_LEASE_TTL=" + o.leaseTTL.String(),
	}
	if o.schedulerInterval > 0 {
		b.env = append(b.env, "SHELF_SCHEDULER_INTERVAL="+o.schedulerInterval.String())
	}
	if o.syncWorkers > 0 {
		b.env = append(b.env, "SHELF_SYNC_WORKERS="+strconv.Itoa(o.syncWorkers))
	}
	if err := runShelf(ctx, b.bin, b.env, filepath.Join(b.work, "migrate-data"), "migrate"); err != nil {
		return b, err
	}
	// The benchmark's own connections: enough to create accounts in
	// parallel, kept apart from the shelf processes' pools.
	ownURL := withQuery(dbURL, "pool_max_conns", "16")
	if b.store, err = catalog.Open(ctx, ownURL, slog.New(slog.DiscardHandler)); err != nil {
		return b, err
	}
	if b.pool, err = pgxpool.New(ctx, ownURL); err != nil {
		return b, fmt.Errorf("connecting to the benchmark database: %w", err)
	}
	b.sampler = newSampler(b.pool, b.dbName)
	return b, nil
}

func (b *bench) libRoot() string { return filepath.Join(b.work, "libraries") }

// accountDir is the folder of the i-th account.
func (b *bench) accountDir(i int) string {
	return filepath.Join(b.libRoot(), fmt.Sprintf("lib%05d", i))
}

// close stops what is still running and removes the database and folders
// (unless -keep).
func (b *bench) close() {
	for _, n := range []*node{b.w1, b.w2, b.server} {
		if n != nil {
			n.stop(30 * time.Second)
		}
	}
	if b.sampler != nil {
		b.sampler.halt()
	}
	if b.pool != nil {
		b.pool.Close()
	}
	if b.store != nil {
		b.store.Close()
	}
	if b.o.keep {
		fmt.Printf("\nkept: database %s, folders and logs in %s\n", b.dbName, b.work)
		return
	}
	if b.dbName != "" {
		if err := dropDatabase(b.o.dbURL, b.dbName); err != nil {
			fmt.Fprintf(os.Stderr, "scale: %v\n", err)
		}
	}
	if b.work != "" {
		os.RemoveAll(b.work)
	}
}

// createAccounts writes each account's folder and creates the account (on
// the plan, no auto-sync due yet) and its local-folder connection.
func (b *bench) createAccounts(ctx context.Context) error {
	began := time.Now()
	count := b.o.accounts
	if b.o.live > 0 {
		count = b.o.live
	}
	ids := make([]int64, count)
	jobs := make(chan int)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				id, err := b.createAccount(ctx, i)
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					continue
				}
				ids[i] = id
			}
		}()
	}
	for i := range count {
		select {
		case jobs <- i:
		case err := <-errc:
			close(jobs)
			wg.Wait()
			return err
		}
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
	}
	b.accounts = ids
	b.setupSeconds = time.Since(began).Seconds()
	fmt.Printf("created %d accounts with %d files each in %.1f s\n", len(ids), b.o.files, b.setupSeconds)
	return nil
}

func (b *bench) createAccount(ctx context.Context, i int) (int64, error) {
	dir := b.accountDir(i)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	for j := range b.o.files {
		p := filepath.Join(dir, fmt.Sprintf("f%d.txt", j))
		if err := os.WriteFile(p, []byte(fmt.Sprintf("account %d file %d\n", i, j)), 0o644); err != nil {
			return 0, err
		}
	}
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return 0, err
	}
	now := time.Now()
	a, err := b.store.CreateAccount(ctx, catalog.NewAccount{Name: fmt.Sprintf("team %05d", i), Plan: plan}, now)
	if err != nil {
		return 0, fmt.Errorf("creating account %d: %w", i, err)
	}
	cfg, _ := json.Marshal(map[string]string{"path": root})
	if _, err := b.store.PutConnection(ctx, catalog.Connection{AccountID: a.ID, Kind: "local", Config: cfg, RootKey: root}, now); err != nil {
		return 0, fmt.Errorf("connecting the folder of account %d: %w", i, err)
	}
	return a.ID, nil
}

// startNodes starts the server and the two workers and follows them.
func (b *bench) startNodes(ctx context.Context) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	if b.server, err = startNode(b.bin, b.env, b.work, "server", "serve", "--no-workers", "--listen", "127.0.0.1:"+port); err != nil {
		return err
	}
	if b.w1, err = startNode(b.bin, b.env, b.work, "worker-1", "worker"); err != nil {
		return err
	}
	if b.w2, err = startNode(b.bin, b.env, b.work, "worker-2", "worker"); err != nil {
		return err
	}
	if err := waitHealthy(ctx, "http://127.0.0.1:"+port+"/healthz", b.server); err != nil {
		return err
	}
	for _, n := range []*node{b.server, b.w1, b.w2} {
		b.sampler.add(n.name, n.pid())
	}
	b.sampler.start()
	fmt.Printf("started server (pid %d), worker-1 (pid %d), worker-2 (pid %d); logs in %s\n",
		b.server.pid(), b.w1.pid(), b.w2.pid(), b.work)
	return nil
}

// schedule spreads the accounts' first due times evenly over one interval
// starting lead from now, as the plan's SetPlan does for an operator.
func (b *bench) schedule(ctx context.Context, lead time.Duration) error {
	b.start = time.Now().Add(lead).Truncate(time.Second)
	b.due0 = make(map[int64]time.Time, len(b.accounts))
	for i, id := range b.accounts {
		// The catalog keeps due times in milliseconds.
		b.due0[id] = b.start.Add(time.Duration(i) * b.o.interval / time.Duration(len(b.accounts))).Truncate(time.Millisecond)
	}
	jobs := make(chan int64)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				due := b.due0[id]
				if err := b.store.SetPlan(ctx, id, plan, &due, time.Now()); err != nil {
					mu.Lock()
					first = cmpErr(first, fmt.Errorf("scheduling account %d: %w", id, err))
					mu.Unlock()
				}
			}
		}()
	}
	for _, id := range b.accounts {
		jobs <- id
	}
	close(jobs)
	wg.Wait()
	if first == nil && time.Now().After(b.start) {
		fmt.Printf("note: scheduling ended %.1f s after the first due time\n", time.Since(b.start).Seconds())
	}
	return first
}

func cmpErr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

func freePort() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}
