package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// folderRE matches an account's folder in a live_watchers note.
var folderRE = regexp.MustCompile(`/\S*/lib\d{5}`)

// liveFile is the file each live account's changes rewrite: the first
// change adds it, every later one modifies it (one byte longer each time,
// so a size in the catalog names the change that produced it).
const liveFile = "live.txt"

// change is one write of an account's live file.
type change struct {
	account int64
	size    int64
	written time.Time
	seen    time.Time // zero: not (yet) in the catalog
	skipped bool      // a later change of the account was seen first
	victim  bool      // the account was watched by the killed worker
	afterK  bool      // written after the kill
}

// liveResult is what the live phase measured.
type liveResult struct {
	accounts              int
	watchedAfter          time.Duration // start → every live account watched
	initialSyncedAfter    time.Duration // start → every live account's first reconciliation succeeded
	modes                 map[string]int
	notes                 map[string]int
	from, to              time.Time
	changes               []*change // the measured window's
	batches               map[string]int
	batchWindow           float64
	liveChanges           int64 // added + updated summed over the live runs
	startMark, endMark    mark
	kill                  *liveKill
	instances, maxWatches string
}

// liveKill is what the live kill phase saw.
type liveKill struct {
	victim, survivor string
	at               time.Time
	accounts         []int64                 // the victim's live accounts at the kill
	servedAgain      map[int64]time.Duration // kill → held by the survivor, unexpired
	notServed        int
	changes          []*change // written in [kill, end of the phase)
	until            time.Time
}

// livePhase measures the live accounts: every account's folder changes once
// a minute (spread evenly), for -live-minutes, then optionally the kill.
func (b *bench) livePhase(ctx context.Context) (*liveResult, error) {
	r := &liveResult{accounts: len(b.accounts), modes: map[string]int{}, notes: map[string]int{}, batches: map[string]int{}}
	r.instances, r.maxWatches = readSysctl("fs/inotify/max_user_instances"), readSysctl("fs/inotify/max_user_watches")
	began := time.Now()
	// Every account watched, and its first reconciliation (the import)
	// done.
	for {
		watched, err := b.liveWatched(ctx)
		if err != nil {
			return nil, err
		}
		var synced int
		if err := b.pool.QueryRow(ctx, `SELECT count(DISTINCT account_id) FROM sync_runs WHERE state = 'succeeded'`).Scan(&synced); err != nil {
			return nil, err
		}
		n := 0
		for _, w := range watched {
			if w.holder != "" {
				n++
			}
		}
		if n == len(b.accounts) && r.watchedAfter == 0 {
			r.watchedAfter = time.Since(began)
		}
		if synced >= len(b.accounts) && r.initialSyncedAfter == 0 {
			r.initialSyncedAfter = time.Since(began)
		}
		if r.watchedAfter > 0 && r.initialSyncedAfter > 0 {
			break
		}
		if time.Since(began) > 5*time.Minute {
			return nil, fmt.Errorf("live phase: after 5 min %d of %d accounts watched, %d synced", n, len(b.accounts), synced)
		}
		fmt.Printf("  %s  live: %d of %d accounts watched, %d synced; load %s\n", time.Now().Format("15:04:05"), n, len(b.accounts), synced, loadAvg())
		if err := sleepCtx(ctx, 2*time.Second); err != nil {
			return nil, err
		}
	}
	// Processes started together share the accounts out within a few
	// supervision rounds (the first to start claims them all, then sheds).
	if err := sleepCtx(ctx, 3*b.o.leaseTTL/2); err != nil {
		return nil, err
	}
	watched, err := b.liveWatched(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range watched {
		r.modes[b.holderNode(w.holder)+" "+orNone(w.mode)]++
		if w.note != "" {
			// One line per kind of note, not per folder.
			r.notes[folderRE.ReplaceAllString(w.note, "<folder>")]++
		}
	}
	fmt.Printf("live: every account watched after %.1f s, imported after %.1f s; now %d watched: %v\n",
		r.watchedAfter.Seconds(), r.initialSyncedAfter.Seconds(), len(watched), r.modes)
	for note, n := range r.notes {
		fmt.Printf("  note on %d accounts: %s\n", n, note)
	}

	ch := newChanger(b, time.Now().Add(2*time.Second).Truncate(time.Second))
	cctx, stopChanges := context.WithCancel(ctx)
	defer stopChanges()
	go ch.run(cctx)
	go ch.observe(cctx)

	r.from = ch.start
	r.to = r.from.Add(time.Duration(b.o.liveMinutes) * time.Minute)
	if err := sleepUntil(ctx, r.from, "live phase start"); err != nil {
		return nil, err
	}
	r.startMark = b.sampler.mark()
	fmt.Printf("live phase: %d accounts change one file a minute from %s to %s; load %s\n", len(b.accounts), r.from.Format("15:04:05"), r.to.Format("15:04:05"), r.startMark.load)
	for time.Now().Before(r.to) {
		if err := sleepCtx(ctx, min(30*time.Second, time.Until(r.to))); err != nil {
			return nil, err
		}
		w, s := ch.counts(r.from, time.Now())
		fmt.Printf("  %s  live: %d changes written, %d seen; load %s\n", time.Now().Format("15:04:05"), w, s, loadAvg())
	}
	r.endMark = b.sampler.mark()
	// The window's last changes: a minute to show.
	if err := sleepCtx(ctx, time.Minute); err != nil {
		return nil, err
	}
	r.changes = ch.window(r.from, r.to)
	r.batchWindow = r.to.Sub(r.from).Seconds()
	for _, n := range []*node{b.w1, b.w2} {
		r.batches[n.name] = countLogLines(n.logPath, "live batch applied", r.from, r.to)
	}
	_ = b.pool.QueryRow(ctx, `SELECT COALESCE(sum(added + updated), 0) FROM sync_runs WHERE trigger = 'live'`).Scan(&r.liveChanges)

	if b.o.liveKill {
		k, err := b.liveKillPhase(ctx, ch)
		if err != nil {
			return r, err
		}
		r.kill = k
	}
	stopChanges()
	return r, nil
}

// watcherRow is a live_watchers row.
type watcherRow struct {
	account      int64
	holder, mode string
	note         string
	expires      time.Time
}

// liveWatched returns the unexpired live_watchers rows by account.
func (b *bench) liveWatched(ctx context.Context) (map[int64]watcherRow, error) {
	rows, err := b.pool.Query(ctx, `SELECT account_id, holder, mode, note, expires_at FROM live_watchers
WHERE expires_at > (extract(epoch FROM clock_timestamp()) * 1000)::bigint`)
	if err != nil {
		return nil, fmt.Errorf("reading live_watchers: %w", err)
	}
	defer rows.Close()
	out := map[int64]watcherRow{}
	for rows.Next() {
		var (
			w   watcherRow
			exp int64
		)
		if err := rows.Scan(&w.account, &w.holder, &w.mode, &w.note, &exp); err != nil {
			return nil, err
		}
		w.expires = time.UnixMilli(exp)
		out[w.account] = w
	}
	return out, rows.Err()
}

// holderNode names the process of a live_watchers holder ("host:pid:…").
func (b *bench) holderNode(holder string) string {
	for _, n := range []*node{b.w1, b.w2, b.server} {
		if strings.Contains(holder, ":"+strconv.Itoa(n.pid())+":") {
			return n.name
		}
	}
	return "other"
}

// liveKillPhase SIGKILLs the worker watching the most live accounts and
// measures when each of them is watched again by the survivor, and how
// long changes written after the kill take to show.
func (b *bench) liveKillPhase(ctx context.Context, ch *changer) (*liveKill, error) {
	watched, err := b.liveWatched(ctx)
	if err != nil {
		return nil, err
	}
	per := map[string][]int64{}
	for a, w := range watched {
		per[b.holderNode(w.holder)] = append(per[b.holderNode(w.holder)], a)
	}
	victim, survivor := b.w1, b.w2
	if len(per[b.w2.name]) > len(per[b.w1.name]) {
		victim, survivor = b.w2, b.w1
	}
	k := &liveKill{victim: victim.name, survivor: survivor.name, accounts: per[victim.name], servedAgain: map[int64]time.Duration{}}
	sort.Slice(k.accounts, func(i, j int) bool { return k.accounts[i] < k.accounts[j] })
	ch.markVictims(k.accounts)
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return nil, fmt.Errorf("killing %s: %w", victim.name, err)
	}
	k.at = time.Now()
	victim.killed = true
	ch.setKill(k.at)
	<-victim.done
	fmt.Printf("killed %s (pid %d) at %s watching %d live accounts (%s watched %d); lease TTL %v\n",
		victim.name, victim.pid(), k.at.Format("15:04:05.000"), len(k.accounts), survivor.name, len(per[survivor.name]), b.o.leaseTTL)
	deadline := k.at.Add(3*b.o.leaseTTL + time.Minute)
	lastPrint := time.Now()
	for len(k.servedAgain) < len(k.accounts) && time.Now().Before(deadline) {
		watched, err := b.liveWatched(ctx)
		if err != nil {
			return nil, err
		}
		now := time.Now()
		for _, a := range k.accounts {
			if _, ok := k.servedAgain[a]; ok {
				continue
			}
			if w, ok := watched[a]; ok && b.holderNode(w.holder) == survivor.name {
				k.servedAgain[a] = now.Sub(k.at)
			}
		}
		if time.Since(lastPrint) > 5*time.Second {
			fmt.Printf("  %s  %d of %d of %s's accounts watched by %s\n", now.Format("15:04:05"), len(k.servedAgain), len(k.accounts), victim.name, survivor.name)
			lastPrint = now
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			return nil, err
		}
	}
	k.notServed = len(k.accounts) - len(k.servedAgain)
	// A minute more of changes, so that every account changed after it was
	// watched again, then a minute for the last ones to show.
	k.until = time.Now().Add(time.Minute)
	fmt.Printf("  %s  all but %d served again; changes measured until %s\n", time.Now().Format("15:04:05"), k.notServed, k.until.Format("15:04:05"))
	if err := sleepUntil(ctx, k.until.Add(time.Minute), "live kill phase end"); err != nil {
		return nil, err
	}
	k.changes = ch.window(k.at, k.until)
	return k, nil
}

// changer writes the accounts' live files on schedule and watches the
// catalog for them.
type changer struct {
	b     *bench
	start time.Time
	dirs  map[int64]string

	mu      sync.Mutex
	all     []*change
	pending map[int64][]*change // per account, not yet seen, oldest first
	next    map[int64]int64     // next size per account
	victims map[int64]bool
	killAt  time.Time
}

func newChanger(b *bench, start time.Time) *changer {
	c := &changer{b: b, start: start, dirs: map[int64]string{}, pending: map[int64][]*change{}, next: map[int64]int64{}, victims: map[int64]bool{}}
	for i, id := range b.accounts {
		c.dirs[id] = b.accountDir(i)
		c.next[id] = 64
	}
	return c
}

func (c *changer) markVictims(ids []int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		c.victims[id] = true
	}
}

func (c *changer) setKill(at time.Time) {
	c.mu.Lock()
	c.killAt = at
	c.mu.Unlock()
}

// run writes account i's file at start + i·(1 min / N) + k·1 min.
func (c *changer) run(ctx context.Context) {
	n := len(c.b.accounts)
	step := time.Minute / time.Duration(n)
	for k := 0; ; k++ {
		for i, id := range c.b.accounts {
			at := c.start.Add(time.Duration(k)*time.Minute + time.Duration(i)*step)
			if d := time.Until(at); d > 0 {
				select {
				case <-ctx.Done():
					return
				case <-time.After(d):
				}
			} else if ctx.Err() != nil {
				return
			}
			c.write(id)
		}
	}
}

func (c *changer) write(id int64) {
	c.mu.Lock()
	size := c.next[id]
	c.next[id]++
	c.mu.Unlock()
	data := make([]byte, size)
	for j := range data {
		data[j] = 'a' + byte(j%26)
	}
	data[len(data)-1] = '\n'
	if err := os.WriteFile(filepath.Join(c.dirs[id], liveFile), data, 0o644); err != nil {
		fmt.Fprintf(os.Stderr, "scale: writing the live file of account %d: %v\n", id, err)
		return
	}
	ch := &change{account: id, size: size, written: time.Now()}
	c.mu.Lock()
	ch.victim = c.victims[id]
	ch.afterK = !c.killAt.IsZero()
	c.all = append(c.all, ch)
	c.pending[id] = append(c.pending[id], ch)
	c.mu.Unlock()
}

// observe polls the catalog every 200 ms for the live files' sizes.
func (c *changer) observe(ctx context.Context) {
	for ctx.Err() == nil {
		rows, err := c.b.pool.Query(ctx, `SELECT account_id, size FROM assets WHERE name = $1 AND removed_at IS NULL`, liveFile)
		if err == nil {
			now := time.Now()
			sizes := map[int64]int64{}
			for rows.Next() {
				var a, s int64
				if rows.Scan(&a, &s) == nil {
					sizes[a] = s
				}
			}
			rows.Close()
			c.mu.Lock()
			for a, s := range sizes {
				p := c.pending[a]
				i := 0
				for ; i < len(p) && p[i].size <= s; i++ {
					if p[i].size == s {
						p[i].seen = now
					} else {
						p[i].skipped = true
					}
				}
				c.pending[a] = p[i:]
			}
			c.mu.Unlock()
		}
		select {
		case <-ctx.Done():
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// window returns the changes written in [from, to).
func (c *changer) window(from, to time.Time) []*change {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*change
	for _, ch := range c.all {
		if !ch.written.Before(from) && ch.written.Before(to) {
			cp := *ch
			out = append(out, &cp)
		}
	}
	return out
}

func (c *changer) counts(from, to time.Time) (written, seen int) {
	for _, ch := range c.window(from, to) {
		written++
		if !ch.seen.IsZero() {
			seen++
		}
	}
	return written, seen
}

// latencies summarizes changes: latencies of those seen (sorted), how many
// were never seen and how many a later change overtook.
func latencies(chs []*change, keep func(*change) bool) (lat []time.Duration, unseen, skipped int) {
	for _, ch := range chs {
		if keep != nil && !keep(ch) {
			continue
		}
		switch {
		case ch.skipped:
			skipped++
		case ch.seen.IsZero():
			unseen++
		default:
			lat = append(lat, ch.seen.Sub(ch.written))
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat, unseen, skipped
}

// reportLive prints the live phase's tables.
func (b *bench) reportLive(w io.Writer, r *liveResult) {
	fmt.Fprintf(w, "\n== live: %d accounts on plan %q with local_auto = \"live\"; inotify max_user_instances %s, max_user_watches %s ==\n",
		r.accounts, plan, r.instances, r.maxWatches)
	fmt.Fprintf(w, "every account watched %.1f s after the processes started, every library imported after %.1f s; at the window's start:\n", r.watchedAfter.Seconds(), r.initialSyncedAfter.Seconds())
	keys := make([]string, 0, len(r.modes))
	for k := range r.modes {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "  watched by %s: %d accounts\n", k, r.modes[k])
	}
	for note, n := range r.notes {
		fmt.Fprintf(w, "  note on %d accounts: %s\n", n, note)
	}
	t := table(w, "== live: change (file written) → asset row with the new size in the catalog ==")
	fmt.Fprintln(t, "window\tchanges\tseen\tnever seen\tovertaken\tp50\tp95\tp99\tmax\t")
	row := func(label string, chs []*change, keep func(*change) bool) {
		lat, unseen, skipped := latencies(chs, keep)
		fmt.Fprintf(t, "%s\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t\n", label, len(lat)+unseen+skipped, len(lat), unseen, skipped,
			secs(percentile(lat, .50)), secs(percentile(lat, .95)), secs(percentile(lat, .99)), secs(percentile(lat, 1)))
	}
	row(fmt.Sprintf("steady (%v)", r.to.Sub(r.from)), r.changes, nil)
	if k := r.kill; k != nil {
		row(fmt.Sprintf("after the kill, %s's accounts", k.victim), k.changes, func(c *change) bool { return c.victim })
		row(fmt.Sprintf("after the kill, %s's accounts", k.survivor), k.changes, func(c *change) bool { return !c.victim })
	}
	t.Flush()
	total := 0
	for _, n := range r.batches {
		total += n
	}
	fmt.Fprintf(w, "live batches (\"live batch applied\" debug lines) in the window: %d = %.1f/s (%s %d, %s %d); changes applied by live runs in all: %d\n",
		total, float64(total)/r.batchWindow, b.w1.name, r.batches[b.w1.name], b.w2.name, r.batches[b.w2.name], r.liveChanges)

	names, hwm, pgHWM := b.sampler.peaks()
	s, e := r.startMark, r.endMark
	window := e.at.Sub(s.at).Seconds()
	t = table(w, "== live: processes (CPU over the live window) ==")
	fmt.Fprintln(t, "process\tpeak RSS MiB\tCPU s in window\t% of one core\t")
	for _, name := range names {
		c := float64(e.cpu[name]-s.cpu[name]) / clockTicks
		fmt.Fprintf(t, "%s\t%.0f\t%.1f\t%.1f\t\n", name, float64(hwm[name])/(1<<20), c, 100*c/window)
	}
	pg := float64(e.pgCPU-s.pgCPU) / clockTicks
	fmt.Fprintf(t, "PostgreSQL backends\t%.0f (largest)\t%.1f\t%.1f\t\n", float64(pgHWM)/(1<<20), pg, 100*pg/window)
	busy, tot := float64(e.busy-s.busy)/clockTicks, float64(e.total-s.total)/clockTicks
	fmt.Fprintf(t, "whole machine\t\t%.1f\t%.0f of %.0f\t\n", busy, 100*busy/window, 100*tot/window)
	t.Flush()
	fmt.Fprintf(w, "load: live start %s, end %s\n", s.load, e.load)

	if k := r.kill; k != nil {
		var d []time.Duration
		for _, v := range k.servedAgain {
			d = append(d, v)
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		fmt.Fprintf(w, "\n== live kill: SIGKILL %s at %s watching %d accounts; lease TTL %v ==\n", k.victim, k.at.Format("15:04:05.000"), len(k.accounts), b.o.leaseTTL)
		fmt.Fprintf(w, "watched again by %s (row held, unexpired): %d of %d; after p50 %s, max %s; not within %v: %d\n",
			k.survivor, len(d), len(k.accounts), secs(percentile(d, .50)), secs(percentile(d, 1)), 3*b.o.leaseTTL+time.Minute, k.notServed)
		lat, unseen, _ := latencies(k.changes, func(c *change) bool { return c.victim })
		var gap []time.Duration
		for _, ch := range k.changes {
			if ch.victim && !ch.seen.IsZero() {
				gap = append(gap, ch.seen.Sub(k.at))
			}
		}
		sort.Slice(gap, func(i, j int) bool { return gap[i] < gap[j] })
		fmt.Fprintf(w, "changes to its accounts written after the kill: %d seen (latency p50 %s, max %s), %d never seen; the first of them visible %s after the kill, all written in the gap by %s\n",
			len(lat), secs(percentile(lat, .50)), secs(percentile(lat, 1)), unseen, secs(percentile(gap, 0)), secs(gapEnd(k)))
		goal := "met"
		if k.notServed > 0 || (len(d) > 0 && d[len(d)-1] > b.o.leaseTTL+5*time.Second) {
			goal = "MISSED"
		}
		fmt.Fprintf(w, "goal: the victim's live accounts watched again within the lease TTL (+5 s): %s\n", goal)
	}
	lat, unseen, _ := latencies(r.changes, nil)
	goal := "met"
	if len(lat) == 0 || percentile(lat, .95) > 3*time.Second || unseen > 0 {
		goal = "MISSED"
	}
	fmt.Fprintf(w, "goal: change-to-visible p95 ≤ 3 s, no change unseen: %s\n", goal)
}

// gapEnd is when the last change written before every account was watched
// again became visible (after the kill); -1 (printed "–") when no change
// fell in the gap or one of them was never seen.
func gapEnd(k *liveKill) time.Duration {
	var served time.Duration
	for _, v := range k.servedAgain {
		served = max(served, v)
	}
	end := time.Duration(-1)
	for _, ch := range k.changes {
		if ch.victim && ch.written.Sub(k.at) <= served {
			if ch.seen.IsZero() {
				return -1
			}
			end = max(end, ch.seen.Sub(k.at))
		}
	}
	return end
}

// countLogLines counts the lines of a text slog log containing needle whose
// time= is in [from, to).
func countLogLines(path, needle string, from, to time.Time) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, needle) || !strings.HasPrefix(line, "time=") {
			continue
		}
		ts := line[len("time="):]
		if i := strings.IndexByte(ts, ' '); i > 0 {
			ts = ts[:i]
		}
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err == nil && !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

func readSysctl(name string) string {
	data, err := os.ReadFile("/proc/sys/" + name)
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(data))
}

func orNone(s string) string {
	if s == "" {
		return "(mode not set)"
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
