package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"
)

// row is one measured scan.
type row struct {
	group   string
	storage string
	mode    string
	objects int // entries the scan reported
	elapsed time.Duration
	cpu     time.Duration // user+system CPU of the whole process (fake server included)
	lists   int           // LIST calls, -1 when unknown
	rssMiB  string        // peak RSS during the run
	ratio   string        // to the group's baseline
	note    string
}

type table struct{ rows []row }

func (t *table) add(r row) {
	t.rows = append(t.rows, r)
	fmt.Fprintf(os.Stderr, "  %s %s %s: %d entries in %.2fs\n", r.group, r.storage, r.mode, r.objects, r.elapsed.Seconds())
}

func (t *table) print(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tstorage\tmode\tentries\tseconds\tCPU s\tentries/s\tLIST calls\tpeak RSS MiB\tratio\t")
	for _, r := range t.rows {
		lists := "-"
		if r.lists >= 0 {
			lists = strconv.Itoa(r.lists)
		}
		rate := float64(r.objects) / r.elapsed.Seconds()
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%.2f\t%.2f\t%.0f\t%s\t%s\t%s\t\n",
			r.group, r.storage, r.mode, r.objects, r.elapsed.Seconds(), r.cpu.Seconds(), rate, lists, r.rssMiB, r.ratio)
	}
	tw.Flush()
	for _, r := range t.rows {
		if r.note != "" {
			fmt.Fprintf(w, "note (%s %s %s): %s\n", r.group, r.storage, r.mode, r.note)
		}
	}
}

// resetPeakRSS resets the kernel's peak-RSS mark for this process
// (Linux: writing 5 to clear_refs), so each run reports its own peak.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// cpuTime is the CPU time (user + system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS reads this process's peak RSS (VmHWM) in MiB.
func peakRSS() string {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.Atoi(f[1])
			if err != nil {
				return "?"
			}
			return strconv.Itoa(kb / 1024)
		}
	}
	return "?"
}
