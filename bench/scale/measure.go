package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// slotTolerance: a run created this little before its slot's due time
// still belongs to the slot (clock rounding to milliseconds).
const slotTolerance = time.Second

// runRow is one sync_runs row.
type runRow struct {
	id, account       int64
	trigger, state    string
	created           time.Time
	started, finished time.Time // zero: not yet
	errMsg            string
}

// jobRow is one River job of the sync service.
type jobRow struct {
	id                   int64
	kind, state          string
	account, runID, slot int64
	tries                int
	created, scheduled   time.Time
	attempted, finalized time.Time // zero: not yet
	attemptedBy          string    // the last River client that took it
	errors               int
}

func fromMS(v *int64) time.Time {
	if v == nil {
		return time.Time{}
	}
	return time.UnixMilli(*v)
}

// loadRuns reads every sync run, per account in id order.
func (b *bench) loadRuns(ctx context.Context) (map[int64][]runRow, error) {
	rows, err := b.pool.Query(ctx, `SELECT id, account_id, trigger, state, created_at, started_at, finished_at, error
FROM sync_runs ORDER BY account_id, id`)
	if err != nil {
		return nil, fmt.Errorf("reading sync_runs: %w", err)
	}
	defer rows.Close()
	out := map[int64][]runRow{}
	for rows.Next() {
		var (
			r                 runRow
			created           int64
			started, finished *int64
		)
		if err := rows.Scan(&r.id, &r.account, &r.trigger, &r.state, &created, &started, &finished, &r.errMsg); err != nil {
			return nil, fmt.Errorf("reading sync_runs: %w", err)
		}
		r.created, r.started, r.finished = time.UnixMilli(created), fromMS(started), fromMS(finished)
		out[r.account] = append(out[r.account], r)
	}
	return out, rows.Err()
}

// loadJobs reads River's sync and scheduler jobs (River keeps finished
// jobs for a day).
func (b *bench) loadJobs(ctx context.Context) ([]jobRow, error) {
	rows, err := b.pool.Query(ctx, `SELECT id, kind, state::text, args, created_at, scheduled_at, attempted_at, finalized_at,
    coalesce(attempted_by[array_length(attempted_by, 1)], ''), coalesce(array_length(errors, 1), 0)
FROM river_job WHERE kind IN ('shelf.sync', 'shelf.scheduler') ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading River's jobs: %w", err)
	}
	defer rows.Close()
	var out []jobRow
	for rows.Next() {
		var (
			j                    jobRow
			args                 []byte
			attempted, finalized *time.Time
		)
		if err := rows.Scan(&j.id, &j.kind, &j.state, &args, &j.created, &j.scheduled, &attempted, &finalized, &j.attemptedBy, &j.errors); err != nil {
			return nil, fmt.Errorf("reading River's jobs: %w", err)
		}
		if attempted != nil {
			j.attempted = *attempted
		}
		if finalized != nil {
			j.finalized = *finalized
		}
		var a struct {
			AccountID int64 `json:"account_id"`
			RunID     int64 `json:"run_id"`
			Slot      int64 `json:"slot"`
			Tries     int   `json:"tries"`
		}
		_ = json.Unmarshal(args, &a)
		j.account, j.runID, j.slot, j.tries = a.AccountID, a.RunID, a.Slot, a.Tries
		out = append(out, j)
	}
	return out, rows.Err()
}

// slotOf is the auto-sync slot of an account a run belongs to: the slot
// whose due time is the last at or before the run's creation (a run is
// created when its slot's job starts, or by the tick that finds the slot
// overdue). A run created after the next slot's due time belongs to that
// one: the scheduler moves the due time past every slot it missed.
func (b *bench) slotOf(account int64, created time.Time) int {
	d := created.Sub(b.due0[account]) + slotTolerance
	if d < 0 {
		return -1
	}
	return int(d / b.o.interval)
}

func (b *bench) dueOf(account int64, slot int) time.Time {
	return b.due0[account].Add(time.Duration(slot) * b.o.interval)
}

// slotRuns are the auto runs of one account's slot, in creation order.
type slotRuns []runRow

// autoSlots groups an account's auto runs by slot.
func (b *bench) autoSlots(account int64, runs []runRow) map[int]slotRuns {
	out := map[int]slotRuns{}
	for _, r := range runs {
		if r.trigger != "auto" {
			continue
		}
		k := b.slotOf(account, r.created)
		out[k] = append(out[k], r)
	}
	return out
}

// figures are the scheduler's results over a set of slots.
type figures struct {
	label        string
	pairs        int // (account, slot) pairs expected to sync
	runs         int // auto runs created for them
	succeeded    int
	failed       int
	doubles      int // a second run of a slot that was not the retry of a failed one
	retries      int // runs retrying a failed run of the same slot
	missed       int // slots without any run
	failedSlots  int // slots whose runs all failed
	gaps         int // consecutive slot starts more than interval + slack apart
	early        int // started before the due time
	notStarted   int // first run not started when measured
	delays       []time.Duration
	toCreated    []time.Duration // due → run created (tick / River fetch / begin)
	toStarted    []time.Duration // run created → started (lease, write wait)
	durations    []time.Duration // started → finished
	aheadPath    int             // first runs from a job queued ahead at the slot's due time
	overduePath  int             // first runs created by a tick that found the slot overdue
	windowFrom   time.Time
	windowTo     time.Time
	finishedRuns int // runs of any trigger finished inside the window
}

// slotRange returns the slots of an account a figure set covers.
type slotRange func(account int64) (from, to int)

// computeFigures measures the slots chosen by slots; measuredAt bounds the
// delay of runs not started yet.
func (b *bench) computeFigures(label string, all map[int64][]runRow, jobs []jobRow, slots slotRange, windowFrom, windowTo, measuredAt time.Time) figures {
	f := figures{label: label, windowFrom: windowFrom, windowTo: windowTo}
	ahead := map[[2]int64]bool{}
	for _, j := range jobs {
		if j.kind == "shelf.sync" && j.slot != 0 {
			ahead[[2]int64{j.account, j.slot}] = true
		}
	}
	for _, id := range b.accounts {
		runs := all[id]
		for _, r := range runs {
			if !r.finished.IsZero() && !r.finished.Before(windowFrom) && r.finished.Before(windowTo) {
				f.finishedRuns++
			}
		}
		bySlot := b.autoSlots(id, runs)
		from, to := slots(id)
		for k := from; k <= to; k++ {
			f.pairs++
			due := b.dueOf(id, k)
			rs := bySlot[k]
			if len(rs) == 0 {
				f.missed++
				continue
			}
			f.runs += len(rs)
			allFailed := true
			for i, r := range rs {
				switch r.state {
				case "succeeded", "needs_confirmation":
					f.succeeded++
					allFailed = false
				case "failed":
					f.failed++
				default:
					allFailed = false
				}
				if i > 0 {
					if rs[i-1].state == "failed" {
						f.retries++
					} else {
						f.doubles++
					}
				}
			}
			if allFailed {
				f.failedSlots++
			}
			first := rs[0]
			if ahead[[2]int64{id, due.UnixMilli()}] {
				f.aheadPath++
			} else {
				f.overduePath++
			}
			f.toCreated = append(f.toCreated, first.created.Sub(due))
			if first.started.IsZero() {
				f.notStarted++
				f.delays = append(f.delays, measuredAt.Sub(due))
				continue
			}
			if first.started.Before(due) {
				f.early++
			}
			f.delays = append(f.delays, first.started.Sub(due))
			f.toStarted = append(f.toStarted, first.started.Sub(first.created))
			if !first.finished.IsZero() {
				f.durations = append(f.durations, first.finished.Sub(first.started))
			}
			if prev := previousStart(bySlot, k); !prev.IsZero() && first.started.Sub(prev) > b.o.interval+b.o.slack {
				f.gaps++
			}
		}
	}
	return f
}

// previousStart is the start of the first run of the latest slot before k
// that has a started run.
func previousStart(bySlot map[int]slotRuns, k int) time.Time {
	best := -1
	for s, rs := range bySlot {
		if s < k && s > best && len(rs) > 0 && !rs[0].started.IsZero() {
			best = s
		}
	}
	if best < 0 {
		return time.Time{}
	}
	return bySlot[best][0].started
}

// overlaps counts pairs of runs of one account that ran at the same time.
func overlaps(all map[int64][]runRow) int {
	n := 0
	for _, runs := range all {
		var started []runRow
		for _, r := range runs {
			if !r.started.IsZero() {
				started = append(started, r)
			}
		}
		sort.Slice(started, func(i, j int) bool { return started[i].started.Before(started[j].started) })
		for i := 1; i < len(started); i++ {
			prev := started[i-1]
			if prev.finished.IsZero() || started[i].started.Before(prev.finished) {
				n++
			}
		}
	}
	return n
}

// triggerCounts counts runs by trigger and state.
func triggerCounts(all map[int64][]runRow) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, runs := range all {
		for _, r := range runs {
			if out[r.trigger] == nil {
				out[r.trigger] = map[string]int{}
			}
			out[r.trigger][r.state]++
		}
	}
	return out
}

// jobFigures is what River's rows say about a window.
type jobFigures struct {
	syncWait   []time.Duration // attempted − scheduled of sync jobs taken in the window
	tickWait   []time.Duration // attempted − scheduled of scheduler ticks
	tickRun    []time.Duration // finalized − attempted
	tickPeriod []time.Duration // between consecutive tick attempts
	ticks      int
	tickErrors int
	// Sync jobs each tick inserted: queued ahead at their slot's due time,
	// or with a run for a slot already overdue.
	tickAhead, tickOverdue []int
	perWorker              map[string]int // sync jobs finished in the window, by process
	syncErrored            int            // sync jobs taken in the window that recorded an error
	snoozedOrRe            int            // sync jobs taken in the window on a later attempt
}

// computeJobFigures reads River's timestamps over [from, to).
func (b *bench) computeJobFigures(jobs []jobRow, from, to time.Time) jobFigures {
	f := jobFigures{perWorker: map[string]int{}}
	var lastTick time.Time
	for _, j := range jobs {
		if j.attempted.IsZero() || j.attempted.Before(from) || !j.attempted.Before(to) {
			continue
		}
		wait := j.attempted.Sub(j.scheduled)
		switch j.kind {
		case "shelf.scheduler":
			f.ticks++
			f.tickWait = append(f.tickWait, wait)
			if !j.finalized.IsZero() {
				f.tickRun = append(f.tickRun, j.finalized.Sub(j.attempted))
			}
			if !lastTick.IsZero() {
				f.tickPeriod = append(f.tickPeriod, j.attempted.Sub(lastTick))
			}
			lastTick = j.attempted
			if j.errors > 0 || j.state == "discarded" {
				f.tickErrors++
			}
		case "shelf.sync":
			f.syncWait = append(f.syncWait, wait)
			if j.errors > 0 {
				f.syncErrored++
			}
			if j.tries > 0 {
				f.snoozedOrRe++
			}
			if j.state == "completed" && !j.finalized.IsZero() && j.finalized.Before(to) {
				f.perWorker[b.nodeOf(j.attemptedBy)]++
			}
		}
	}
	sort.Slice(f.tickPeriod, func(i, k int) bool { return f.tickPeriod[i] < f.tickPeriod[k] })
	f.tickAhead, f.tickOverdue = tickInserts(jobs, from, to)
	return f
}

// nodeOf names the process a River client ID belongs to (host_pid_random).
func (b *bench) nodeOf(clientID string) string {
	for _, n := range []*node{b.server, b.w1, b.w2} {
		if n != nil && strings.Contains(clientID, "_"+strconv.Itoa(n.pid())+"_") {
			return n.name
		}
	}
	return "other"
}

// percentile of sorted-in-place durations (nearest rank); -1 when empty.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return -1
	}
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	i := int(p*float64(len(d))+0.999999) - 1
	return d[min(max(i, 0), len(d)-1)]
}

// tickInserts counts, for each scheduler tick taken in [from, to), the
// sync jobs inserted while it ran: auto-syncs queued ahead (a slot) and
// auto-syncs of overdue slots (a run, first try).
func tickInserts(jobs []jobRow, from, to time.Time) (ahead, overdue []int) {
	type span struct{ from, to time.Time }
	var ticks []span
	for _, j := range jobs {
		if j.kind == "shelf.scheduler" && !j.attempted.IsZero() && !j.finalized.IsZero() &&
			!j.attempted.Before(from) && j.attempted.Before(to) {
			ticks = append(ticks, span{j.attempted, j.finalized})
		}
	}
	ahead, overdue = make([]int, len(ticks)), make([]int, len(ticks))
	for _, j := range jobs {
		if j.kind != "shelf.sync" || j.tries > 0 {
			continue
		}
		for i, t := range ticks {
			if j.created.Before(t.from) || j.created.After(t.to) {
				continue
			}
			if j.slot != 0 {
				ahead[i]++
			} else if j.runID != 0 {
				overdue[i]++
			}
		}
	}
	return ahead, overdue
}

// intStats returns the median and maximum of counts.
func intStats(v []int) (median, most int) {
	if len(v) == 0 {
		return 0, 0
	}
	s := append([]int(nil), v...)
	sort.Ints(s)
	return s[(len(s)-1)/2], s[len(s)-1]
}
