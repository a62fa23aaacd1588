package main

import (
	"context"
	"fmt"
	"os"
	"time"
)

// results are the figures the report prints.
type results struct {
	initial, steady figures
	steadyJobs      jobFigures
	triggers        map[string]map[string]int
	overlaps        int
}

// execute runs the phases: accounts, processes, the first syncs, the
// steady intervals, the optional kill, then the report.
func (b *bench) execute(ctx context.Context) error {
	if err := b.createAccounts(ctx); err != nil {
		return err
	}
	if err := b.startNodes(ctx); err != nil {
		return err
	}
	if b.o.live > 0 {
		return b.executeLive(ctx)
	}
	// Time to write every account's due time before the first is due.
	lead := 10*time.Second + time.Duration(len(b.accounts))*time.Millisecond
	if err := b.schedule(ctx, lead); err != nil {
		return err
	}
	fmt.Printf("first syncs due from %s over one interval (%v); load %s\n", b.start.Format("15:04:05"), b.o.interval, loadAvg())

	// The first sync of every library (its import), spread over one
	// interval, must have settled before the steady phase is measured.
	settleBy := b.start.Add(b.o.interval)
	if err := b.sleepWithProgress(ctx, settleBy, "first syncs"); err != nil {
		return err
	}
	settled, err := b.waitSettled(ctx, settleBy.Add(2*b.o.interval))
	if err != nil {
		return err
	}
	if !settled {
		fmt.Println("note: not every account's first sync succeeded within two more intervals; measuring anyway")
	}
	// The steady window starts once the first syncs settled; each
	// account's slots due inside it are measured (-intervals of them).
	from := b.start.Add(b.o.interval)
	if now := time.Now(); now.After(from) {
		from = now.Truncate(time.Second).Add(time.Second)
	}
	to := from.Add(time.Duration(b.o.intervals) * b.o.interval)
	if err := sleepUntil(ctx, from, "steady phase start"); err != nil {
		return err
	}
	b.marks["steady"] = b.sampler.mark()
	fmt.Printf("steady phase: %d intervals from %s to %s; load %s\n", b.o.intervals, from.Format("15:04:05"), to.Format("15:04:05"), b.marks["steady"].load)
	if err := b.sleepWithProgress(ctx, to, "steady"); err != nil {
		return err
	}
	b.marks["steadyEnd"] = b.sampler.mark()
	// Runs of the window's last slots may still be going.
	if err := b.sleepWithProgress(ctx, to.Add(max(b.o.interval/4, 20*time.Second)), "last slots"); err != nil {
		return err
	}
	var res results
	if err := b.measure(ctx, &res, from, to); err != nil {
		return err
	}

	if b.o.kill {
		if err := b.killPhase(ctx); err != nil {
			return err
		}
	}
	b.marks["end"] = b.sampler.mark()
	for _, n := range []*node{b.w1, b.w2, b.server} {
		n.stop(30 * time.Second)
	}
	b.sampler.halt()
	all, err := b.loadRuns(ctx)
	if err != nil {
		return err
	}
	res.triggers, res.overlaps = triggerCounts(all), overlaps(all)
	b.report(os.Stdout, res)
	return nil
}

// measure computes the first-sync and steady figures.
func (b *bench) measure(ctx context.Context, res *results, from, to time.Time) error {
	all, err := b.loadRuns(ctx)
	if err != nil {
		return err
	}
	jobs, err := b.loadJobs(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	first := func(int64) (int, int) { return 0, 0 }
	res.initial = b.computeFigures("first syncs (slot 0: each library's import)", all, jobs, first, b.start, b.start.Add(b.o.interval), now)
	steady := func(a int64) (int, int) {
		s := int((from.Sub(b.due0[a]) + b.o.interval - 1) / b.o.interval)
		return s, s + b.o.intervals - 1
	}
	res.steady = b.computeFigures(fmt.Sprintf("steady (%d intervals)", b.o.intervals), all, jobs, steady, from, to, now)
	res.steadyJobs = b.computeJobFigures(jobs, from, to)
	return nil
}

// waitSettled waits until every account has a succeeded run, or deadline.
func (b *bench) waitSettled(ctx context.Context, deadline time.Time) (bool, error) {
	for {
		var n int
		err := b.pool.QueryRow(ctx, `SELECT count(DISTINCT account_id) FROM sync_runs WHERE state = 'succeeded'`).Scan(&n)
		if err != nil {
			return false, fmt.Errorf("counting synced accounts: %w", err)
		}
		if n >= len(b.accounts) {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		fmt.Printf("  %s  waiting for first syncs: %d of %d accounts synced\n", time.Now().Format("15:04:05"), n, len(b.accounts))
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(5 * time.Second):
		}
	}
}

// sleepWithProgress sleeps until t, printing the runs' states every 30 s.
func (b *bench) sleepWithProgress(ctx context.Context, t time.Time, phase string) error {
	for {
		left := time.Until(t)
		if left <= 0 {
			return nil
		}
		step := min(left, 30*time.Second)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(step):
		}
		b.printProgress(ctx, phase)
	}
}

func (b *bench) printProgress(ctx context.Context, phase string) {
	rows, err := b.pool.Query(ctx, `SELECT state, count(*) FROM sync_runs GROUP BY state ORDER BY state`)
	if err != nil {
		return
	}
	defer rows.Close()
	line := ""
	for rows.Next() {
		var (
			state string
			n     int
		)
		if rows.Scan(&state, &n) == nil {
			line += fmt.Sprintf(" %s=%d", state, n)
		}
	}
	for _, n := range []*node{b.server, b.w1, b.w2} {
		if n.exited() && !n.killed {
			fmt.Printf("  warning: %s exited; its log: %s\n", n.name, n.logPath)
		}
	}
	fmt.Printf("  %s  %-12s runs:%s  load %s\n", time.Now().Format("15:04:05"), phase, line, loadAvg())
}

func sleepUntil(ctx context.Context, t time.Time, what string) error {
	select {
	case <-ctx.Done():
		return fmt.Errorf("interrupted waiting for the %s: %w", what, ctx.Err())
	case <-time.After(time.Until(t)):
		return nil
	}
}

// executeLive is the live phase alone: the accounts are on a live plan.
func (b *bench) executeLive(ctx context.Context) error {
	r, err := b.livePhase(ctx)
	if err != nil && r == nil {
		return err
	}
	b.marks["end"] = b.sampler.mark()
	for _, n := range []*node{b.w1, b.w2, b.server} {
		n.stop(30 * time.Second)
	}
	b.sampler.halt()
	b.reportSetup(os.Stdout)
	b.reportLive(os.Stdout, r)
	b.reportLogs(os.Stdout)
	return err
}
