package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/shelf-dam/shelf/bench/internal/machine"
)

// table is a Markdown table printed with aligned columns.
type table struct {
	title  string
	header []string
	rows   [][]string
	notes  []string
	load   string // load average when the table's measurements began
}

func newTable(title string, header ...string) *table {
	return &table{title: title, header: header, load: machine.LoadAverage()}
}

func (t *table) add(cells ...any) {
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = fmt.Sprint(c)
	}
	t.rows = append(t.rows, row)
}

func (t *table) note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// print writes the table with the load average at its start and now.
func (t *table) print() {
	width := make([]int, len(t.header))
	for _, r := range append([][]string{t.header}, t.rows...) {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], utf8.RuneCountInString(c))
			}
		}
	}
	line := func(r []string) {
		var b strings.Builder
		b.WriteString("|")
		for i, w := range width {
			c := ""
			if i < len(r) {
				c = r[i]
			}
			fmt.Fprintf(&b, " %s%s |", c, strings.Repeat(" ", w-utf8.RuneCountInString(c)))
		}
		fmt.Println(b.String())
	}
	fmt.Printf("\n## %s\n\nload average (1/5/15 min) at start: %s; at end: %s\n\n", t.title, t.load, machine.LoadAverage())
	line(t.header)
	sep := make([]string, len(width))
	for i, w := range width {
		sep[i] = strings.Repeat("-", w)
	}
	line(sep)
	for _, r := range t.rows {
		line(r)
	}
	for _, n := range t.notes {
		fmt.Println("\n- " + n)
	}
}

// percentile returns the p-th percentile (nearest rank) of sorted values.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// summary is "p50 / p95 / max" of durations in seconds.
type summary struct {
	n             int
	p50, p95, max time.Duration
}

func summarize(ds []time.Duration) summary {
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s) == 0 {
		return summary{}
	}
	return summary{n: len(s), p50: percentile(s, 50), p95: percentile(s, 95), max: s[len(s)-1]}
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f", d.Seconds()) }

func mib(b int64) string {
	if b < 0 {
		return "?"
	}
	return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20))
}

func yesNo(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

// resetPeakRSS returns freed memory to the OS and resets the kernel's
// peak-RSS mark of this process (Linux: /proc/self/clear_refs).
func resetPeakRSS() {
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}

// peakRSS is the process's peak resident set size since the last reset,
// in bytes (VmHWM), or -1 when unknown.
func peakRSS() int64 { return procStatus("VmHWM:") }

func procStatus(field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err != nil {
				return -1
			}
			return kb << 10
		}
	}
	return -1
}

// sampler records the process's peak goroutines and open files every
// 100 ms until end.
type sampler struct {
	stop, done      chan struct{}
	goroutines, fds atomic.Int64
}

func startSampler() *sampler {
	s := &sampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			s.goroutines.Store(max(s.goroutines.Load(), int64(runtime.NumGoroutine())))
			if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
				s.fds.Store(max(s.fds.Load(), int64(len(fds))))
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// peaks is "goroutines / open files" at their highest so far.
func (s *sampler) peaks() string {
	return fmt.Sprintf("%d / %d", s.goroutines.Load(), s.fds.Load())
}

func (s *sampler) end() string {
	close(s.stop)
	<-s.done
	return s.peaks()
}
