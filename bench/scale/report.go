package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
)

// goalP99 is the start delay the scheduler should keep at the 99th percentile.
const goalP99 = 10 * time.Second

// report prints the tables.
func (b *bench) report(w io.Writer, res results) {
	b.reportSetup(w)
	b.reportSchedule(w, res)
	b.reportDelay(w, res)
	b.reportTicks(w, res.steadyJobs)
	b.reportProcesses(w, res.steadyJobs)
	reportTriggers(w, res)
	if b.kill != nil {
		b.reportKill(w)
	}
	b.reportLogs(w)
	b.reportGoals(w, res)
}

func table(w io.Writer, title string) *tabwriter.Writer {
	fmt.Fprintf(w, "\n%s\n", title)
	return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
}

func (b *bench) reportSetup(w io.Writer) {
	t := table(w, "== run ==")
	setting := func(v string, def string) string {
		if v == "" || v == "0" || v == "0s" {
			return def + " (default)"
		}
		return v
	}
	fmt.Fprintf(t, "processes\t1 shelf serve --no-workers + 2 shelf worker, PostgreSQL database %s\n", b.dbName)
	if b.o.live > 0 {
		fmt.Fprintf(t, "accounts\t%d, %d files each, plan %s, local_auto = \"live\", one change a minute each for %d min\n", len(b.accounts), b.o.files, plan, b.o.liveMinutes)
	} else {
		fmt.Fprintf(t, "accounts\t%d, %d files each, plan %s, local auto-sync every %v\n", len(b.accounts), b.o.files, plan, b.o.interval)
		fmt.Fprintf(t, "required rate\t%.1f syncs/s (accounts / interval)\n", float64(len(b.accounts))/b.o.interval.Seconds())
	}
	fmt.Fprintf(t, "SHELF_SYNC_WORKERS\t%s\n", setting(fmt.Sprint(b.o.syncWorkers), "4"))
	fmt.Fprintf(t, "SHELF_SCHEDULER_INTERVAL\t%s\n", setting(b.o.schedulerInterval.String(), "30s"))
	fmt.Fprintf(t, "SHELF_SYNC_LEASE_TTL\t%v\n", b.o.leaseTTL)
	fmt.Fprintf(t, "pool_max_conns\t%s\n", setting(fmt.Sprint(b.o.poolMaxConns), "pgx: max(4, CPUs)"))
	fmt.Fprintf(t, "accounts created in\t%.1f s\n", b.setupSeconds)
	for _, k := range []string{"start", "steady", "steadyEnd", "end"} {
		if m, ok := b.marks[k]; ok {
			fmt.Fprintf(t, "load (1/5/15 min) at %s\t%s  (%s)\n", k, m.load, m.at.Format("15:04:05"))
		}
	}
	t.Flush()
}

func secs(d time.Duration) string {
	if d < 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", d.Seconds())
}

func (b *bench) reportSchedule(w io.Writer, res results) {
	t := table(w, "== schedule (auto runs per account slot; delay = started_at − slot due time, seconds) ==")
	fmt.Fprintln(t, "phase\tslots\truns\tsucceeded\tfailed\tretries\tdoubles\tmissed\tlong gaps\tearly\tnot started\tp50\tp95\tp99\tmax\truns/s\trequired/s\t")
	rows := []figures{res.initial, res.steady}
	if b.kill != nil {
		rows = append(rows, b.kill.survivorFigures, b.kill.soon, b.kill.later)
	}
	required := float64(len(b.accounts)) / b.o.interval.Seconds()
	for _, f := range rows {
		rate := float64(f.finishedRuns) / max(f.windowTo.Sub(f.windowFrom).Seconds(), 1)
		fmt.Fprintf(t, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\t%s\t%.1f\t%.1f\t\n",
			f.label, f.pairs, f.runs, f.succeeded, f.failed, f.retries, f.doubles, f.missed, f.gaps, f.early, f.notStarted,
			secs(percentile(f.delays, .50)), secs(percentile(f.delays, .95)), secs(percentile(f.delays, .99)), secs(percentile(f.delays, 1)),
			rate, required)
	}
	t.Flush()
	fmt.Fprintf(w, "overlapping runs of one account (whole benchmark): %d\n", res.overlaps)
}

func (b *bench) reportDelay(w io.Writer, res results) {
	t := table(w, "== where the steady start delay goes (first run of each slot, seconds) ==")
	fmt.Fprintln(t, "step\tn\tp50\tp95\tp99\tmax\t")
	row := func(name string, d []time.Duration) {
		fmt.Fprintf(t, "%s\t%d\t%s\t%s\t%s\t%s\t\n", name, len(d), secs(percentile(d, .5)), secs(percentile(d, .95)), secs(percentile(d, .99)), secs(percentile(d, 1)))
	}
	f := res.steady
	row("due → run created (tick or River fetch of the queued-ahead job)", f.toCreated)
	row("run created → started (lease, write wait)", f.toStarted)
	row("started → finished (the sync)", f.durations)
	row("River: sync job scheduled_at → attempted_at", res.steadyJobs.syncWait)
	t.Flush()
	fmt.Fprintf(w, "first runs queued ahead at their due time: %d; created late by a tick that found the slot overdue: %d\n", f.aheadPath, f.overduePath)
}

func (b *bench) reportTicks(w io.Writer, j jobFigures) {
	t := table(w, "== scheduler ticks in the steady phase (River job shelf.scheduler, seconds) ==")
	fmt.Fprintln(t, "ticks\terrors\tperiod p50\tperiod max\twait p50\twait max\trun p50\trun p95\trun max\tqueued ahead p50\tmax\toverdue p50\tmax\t")
	aheadMed, aheadMax := intStats(j.tickAhead)
	overMed, overMax := intStats(j.tickOverdue)
	fmt.Fprintf(t, "%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t\n", j.ticks, j.tickErrors,
		secs(percentile(j.tickPeriod, .5)), secs(percentile(j.tickPeriod, 1)),
		secs(percentile(j.tickWait, .5)), secs(percentile(j.tickWait, 1)),
		secs(percentile(j.tickRun, .5)), secs(percentile(j.tickRun, .95)), secs(percentile(j.tickRun, 1)),
		aheadMed, aheadMax, overMed, overMax)
	t.Flush()
	fmt.Fprintln(w, "(wait: scheduled_at → attempted_at of the tick job; queued ahead / overdue: sync jobs the tick inserted; one tick handles at most 1000 due accounts)")
	s, e := b.marks["steady"], b.marks["steadyEnd"]
	if tl := readTickLogs([]string{b.w1.logPath, b.w2.logPath}, s.at, e.at); tl.ticks > 0 {
		full := 0
		for _, n := range tl.listed {
			if n >= 1000 {
				full++
			}
		}
		enqMed, enqMax := intStats(tl.enqueued)
		lstMed, lstMax := intStats(tl.listed)
		fmt.Fprintf(w, "worker logs (debug): %d ticks; due accounts handled per tick p50 %d, max %d (%d ticks at the 1000 limit); jobs enqueued per tick p50 %d, max %d\n",
			tl.ticks, lstMed, lstMax, full, enqMed, enqMax)
	}
}

func (b *bench) reportProcesses(w io.Writer, j jobFigures) {
	names, hwm, pgHWM := b.sampler.peaks()
	s, e := b.marks["steady"], b.marks["steadyEnd"]
	window := e.at.Sub(s.at).Seconds()
	end := b.marks["end"]
	t := table(w, "== processes (CPU seconds; % of one core over the steady phase) ==")
	fmt.Fprintln(t, "process\tpid\tpeak RSS MiB\tCPU s total\tCPU s steady\tsteady % core\tsyncs done in steady\t")
	for _, name := range names {
		n := b.nodeByName(name)
		cpuSteady := float64(e.cpu[name]-s.cpu[name]) / clockTicks
		note := ""
		if n != nil && n.killed {
			note = " (killed)"
		}
		fmt.Fprintf(t, "%s%s\t%d\t%.0f\t%.1f\t%.1f\t%.0f\t%d\t\n", name, note, n.pid(), float64(hwm[name])/(1<<20),
			float64(end.cpu[name])/clockTicks, cpuSteady, 100*cpuSteady/window, j.perWorker[name])
	}
	pgSteady := float64(e.pgCPU-s.pgCPU) / clockTicks
	fmt.Fprintf(t, "PostgreSQL backends of the database\t\t%.0f (largest)\t%.1f\t%.1f\t%.0f\t\t\n", float64(pgHWM)/(1<<20), float64(end.pgCPU)/clockTicks, pgSteady, 100*pgSteady/window)
	busy := float64(e.busy-s.busy) / clockTicks
	total := float64(e.total-s.total) / clockTicks
	fmt.Fprintf(t, "whole machine (every process)\t\t\t\t%.1f\t%.0f of %.0f\t\t\n", busy, 100*busy/window, 100*total/window)
	t.Flush()
}

func (b *bench) nodeByName(name string) *node {
	for _, n := range []*node{b.server, b.w1, b.w2} {
		if n != nil && n.name == name {
			return n
		}
	}
	return nil
}

func reportTriggers(w io.Writer, res results) {
	t := table(w, "== sync runs by trigger and state (whole benchmark) ==")
	states := []string{"succeeded", "failed", "needs_confirmation", "running", "queued"}
	fmt.Fprintln(t, "trigger\ttotal\t"+strings.Join(states, "\t")+"\t")
	var triggers []string
	for tr := range res.triggers {
		triggers = append(triggers, tr)
	}
	sort.Strings(triggers)
	for _, tr := range triggers {
		c := res.triggers[tr]
		total := 0
		for _, n := range c {
			total += n
		}
		line := fmt.Sprintf("%s\t%d\t", tr, total)
		for _, s := range states {
			line += fmt.Sprintf("%d\t", c[s])
		}
		fmt.Fprintln(t, line)
	}
	t.Flush()
}

func (b *bench) reportKill(w io.Writer) {
	k := b.kill
	d := k.recoveryTimes()
	t := table(w, "== kill phase ==")
	fmt.Fprintf(t, "killed\t%s at %s (SIGKILL); %s survives\n", k.victim, k.at.Format("15:04:05.000"), k.survivor)
	fmt.Fprintf(t, "accounts it was syncing\t%d with a lease, %d more with a job taken but no lease yet\n", len(k.leased), len(k.jobsOnly))
	fmt.Fprintf(t, "synced again after the kill\t%d (not within 4 TTL + 2 intervals: %d); time to success p50 %s s, max %s s\n",
		len(d), k.notRecovered, secs(percentile(d, .5)), secs(percentile(d, 1)))
	fmt.Fprintf(t, "runs failed\t%d of the killed worker's leased runs (the lease reaper's), %d other runs\n", k.reaperFailed, k.otherFailed)
	fmt.Fprintf(t, "survivor log\t%d \"reaped an expired sync lease\", %d \"sync job running without its worker\"\n", k.reapedWarnings, k.orphanedWarnings)
	fmt.Fprintf(t, "SHELF_SYNC_LEASE_TTL\t%v\n", b.o.leaseTTL)
	switch {
	case k.leaderBefore != k.victim:
		fmt.Fprintf(t, "River leader\t%s, not the killed worker\n", k.leaderBefore)
	case k.newLeaderAt.IsZero():
		fmt.Fprintf(t, "River leader\tthe killed worker; no new leader seen while waiting for recovery\n")
	default:
		fmt.Fprintf(t, "River leader\tthe killed worker; %s leads %.1f s after the kill (seen within 0.5 s)\n", k.survivor, k.newLeaderAt.Sub(k.at).Seconds())
	}
	t.Flush()
}

func (b *bench) reportLogs(w io.Writer) {
	t := table(w, "== process logs ==")
	fmt.Fprintln(t, "process\tlines\twarnings\terrors\tmost frequent warnings and errors\t")
	for _, n := range []*node{b.server, b.w1, b.w2} {
		s := summarizeLog(n.logPath)
		var top []string
		for _, m := range s.top {
			top = append(top, fmt.Sprintf("%d× %s %q", m.n, m.level, m.msg))
		}
		fmt.Fprintf(t, "%s\t%d\t%d\t%d\t%s\t\n", n.name, s.lines, s.warns, s.errors, strings.Join(top, "; "))
	}
	t.Flush()
}

func (b *bench) reportGoals(w io.Writer, res results) {
	f := res.steady
	p99 := percentile(f.delays, .99)
	verdict := func(ok bool) string {
		if ok {
			return "met"
		}
		return "MISSED"
	}
	t := table(w, "== goals (steady phase) ==")
	fmt.Fprintf(t, "0 double runs\t%d doubles, %d overlapping runs\t%s\n", f.doubles, res.overlaps, verdict(f.doubles == 0 && res.overlaps == 0))
	fmt.Fprintf(t, "0 missed intervals\t%d slots without a run, %d gaps > interval + %v, %d slots not started when measured\t%s\n",
		f.missed, f.gaps, b.o.slack, f.notStarted, verdict(f.missed == 0 && f.gaps == 0 && f.notStarted == 0))
	fmt.Fprintf(t, "p99 start delay ≤ %v\t%s s\t%s\n", goalP99, secs(p99), verdict(p99 >= 0 && p99 <= goalP99))
	t.Flush()
}
