package main

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// killResult is what the kill phase saw.
type killResult struct {
	victim, survivor string
	at               time.Time
	leased           map[int64]int64 // account → run the victim held the lease for
	jobsOnly         []int64         // accounts whose job the victim had taken without a lease yet
	recovered        map[int64]time.Duration
	reaperFailed     int // the victim's runs failed (by the lease reaper)
	otherFailed      int // other runs that failed after the kill
	notRecovered     int
	survivorFigures  figures
	survivorJobs     jobFigures
	survivorFrom     time.Time
	survivorTo       time.Time
	reapedWarnings   int // "reaped an expired sync lease" lines in the survivor's log
	orphanedWarnings int // "sync job running without its worker" lines
	// River's leader (periodic ticks, moving scheduled jobs to available)
	// before the kill, and when another took over if it was the victim.
	leaderBefore string
	newLeaderAt  time.Time
	// The survivor's start delays split at 30 s (at most half the
	// interval) after the kill.
	soon, later figures
}

// killPhase SIGKILLs the worker holding the most sync leases the moment it
// holds at least one, waits until every account it was syncing has synced
// again, then observes one more interval with the survivor alone.
func (b *bench) killPhase(ctx context.Context) error {
	k := &killResult{leased: map[int64]int64{}, recovered: map[int64]time.Duration{}}
	b.kill = k
	deadline := time.Now().Add(2 * b.o.interval)
	var victim, survivor *node
	for victim == nil {
		if time.Now().After(deadline) {
			return fmt.Errorf("kill phase: no worker held a sync lease for two intervals")
		}
		held, err := b.leasesByWorker(ctx)
		if err != nil {
			return err
		}
		n1, n2 := len(held[b.w1.pid()]), len(held[b.w2.pid()])
		switch {
		case n1 > 0 && n1 >= n2:
			victim, survivor = b.w1, b.w2
		case n2 > 0:
			victim, survivor = b.w2, b.w1
		default:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		for _, l := range held[victim.pid()] {
			k.leased[l[0]] = l[1]
		}
	}
	k.leaderBefore = b.nodeOf(b.leader(ctx))
	if err := victim.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing %s: %w", victim.name, err)
	}
	k.at = time.Now()
	victim.killed = true
	<-victim.done
	k.victim, k.survivor = victim.name, survivor.name
	// The jobs it had taken but not yet leased: their runs are rescued by
	// the scheduler after two lease TTLs.
	jobs, err := b.loadJobs(ctx)
	if err != nil {
		return err
	}
	for _, j := range jobs {
		if j.kind == "shelf.sync" && j.state == "running" && b.nodeOf(j.attemptedBy) == victim.name {
			if _, ok := k.leased[j.account]; !ok {
				k.jobsOnly = append(k.jobsOnly, j.account)
			}
		}
	}
	fmt.Printf("killed %s (pid %d) at %s holding %d sync leases (%d more jobs taken without a lease yet)\n",
		victim.name, victim.pid(), k.at.Format("15:04:05.000"), len(k.leased), len(k.jobsOnly))

	// Recovery: every such account has a run that succeeded after the kill.
	want := map[int64]bool{}
	for a := range k.leased {
		want[a] = true
	}
	for _, a := range k.jobsOnly {
		want[a] = true
	}
	recoverBy := k.at.Add(4*b.o.leaseTTL + 2*b.o.interval)
	for (len(k.recovered) < len(want) || (k.leaderBefore == victim.name && k.newLeaderAt.IsZero())) && time.Now().Before(recoverBy) {
		if k.newLeaderAt.IsZero() {
			if l := b.nodeOf(b.leader(ctx)); l != "other" && l != victim.name {
				k.newLeaderAt = time.Now()
			}
		}
		runs, err := b.loadRuns(ctx)
		if err != nil {
			return err
		}
		for a := range want {
			if _, ok := k.recovered[a]; ok {
				continue
			}
			for _, r := range runs[a] {
				if r.state == "succeeded" && r.finished.After(k.at) {
					k.recovered[a] = r.finished.Sub(k.at)
					break
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
	k.notRecovered = len(want) - len(k.recovered)

	// One more interval with the survivor alone: the slot of every
	// account due in [kill, kill + interval).
	k.survivorFrom, k.survivorTo = k.at, k.at.Add(b.o.interval)
	grace := max(b.o.interval/4, 20*time.Second)
	if err := sleepUntil(ctx, k.survivorTo.Add(grace), "survivor interval"); err != nil {
		return err
	}
	all, err := b.loadRuns(ctx)
	if err != nil {
		return err
	}
	if jobs, err = b.loadJobs(ctx); err != nil {
		return err
	}
	for _, runs := range all {
		for _, r := range runs {
			if r.state != "failed" || !r.finished.After(k.at) {
				continue
			}
			if k.leased[r.account] == r.id {
				k.reaperFailed++
			} else {
				k.otherFailed++
			}
		}
	}
	survivorSlots := func(account int64) (int, int) {
		s := int((k.at.Sub(b.due0[account]) + b.o.interval - 1) / b.o.interval)
		return s, s
	}
	now := time.Now()
	k.survivorFigures = b.computeFigures("after the kill ("+survivor.name+" alone)", all, jobs, survivorSlots, k.survivorFrom, k.survivorTo, now)
	splitAfter := min(30*time.Second, b.o.interval/2)
	split := k.at.Add(splitAfter)
	dueBefore := func(before bool) slotRange {
		return func(account int64) (int, int) {
			s, _ := survivorSlots(account)
			if b.dueOf(account, s).Before(split) != before {
				return s, s - 1
			}
			return s, s
		}
	}
	k.soon = b.computeFigures(fmt.Sprintf("  slots due in the first %v after the kill", splitAfter), all, jobs, dueBefore(true), k.at, split, now)
	k.later = b.computeFigures("  slots due later", all, jobs, dueBefore(false), split, k.survivorTo, now)
	k.survivorJobs = b.computeJobFigures(jobs, k.survivorFrom, k.survivorTo)
	sum := readLogCounts(survivor.logPath, "reaped an expired sync lease", "sync job running without its worker")
	k.reapedWarnings, k.orphanedWarnings = sum[0], sum[1]
	return nil
}

// leasesByWorker lists the live sync leases per worker pid as
// (account, run) pairs. A lease holder is "host:pid:random/job-N".
func (b *bench) leasesByWorker(ctx context.Context) (map[int][][2]int64, error) {
	rows, err := b.pool.Query(ctx, `SELECT account_id, run_id, holder FROM sync_leases`)
	if err != nil {
		return nil, fmt.Errorf("reading sync_leases: %w", err)
	}
	defer rows.Close()
	out := map[int][][2]int64{}
	for rows.Next() {
		var (
			account, run int64
			holder       string
		)
		if err := rows.Scan(&account, &run, &holder); err != nil {
			return nil, err
		}
		for _, n := range []*node{b.w1, b.w2} {
			if strings.Contains(holder, ":"+strconv.Itoa(n.pid())+":") {
				out[n.pid()] = append(out[n.pid()], [2]int64{account, run})
			}
		}
	}
	return out, rows.Err()
}

// recoveryTimes returns the recovery durations, sorted.
func (k *killResult) recoveryTimes() []time.Duration {
	var d []time.Duration
	for _, v := range k.recovered {
		d = append(d, v)
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d
}

// readLogCounts counts the lines of a log containing each needle.
func readLogCounts(path string, needles ...string) []int {
	counts := make([]int, len(needles))
	text := tailFile(path, 1<<30)
	for _, line := range strings.Split(text, "\n") {
		for i, n := range needles {
			if strings.Contains(line, n) {
				counts[i]++
			}
		}
	}
	return counts
}

// leader returns the River client ID of the elected leader ("" if none).
func (b *bench) leader(ctx context.Context) string {
	var id string
	_ = b.pool.QueryRow(ctx, `SELECT leader_id FROM river_leader WHERE expires_at > now() LIMIT 1`).Scan(&id)
	return id
}
