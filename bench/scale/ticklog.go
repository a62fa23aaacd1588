package main

import (
	"bufio"
	"os"
	"regexp"
	"strconv"
	"time"
)

// tickLog is what the workers' debug logs say about the scheduler ticks of
// a window (with -log-level debug; the tick logs nothing at info).
type tickLog struct {
	ticks    int
	enqueued []int // per tick
	listed   []int // enqueued + skipped: the due accounts the tick handled
}

var tickLineRE = regexp.MustCompile(`^time=(\S+) level=DEBUG msg="scheduler tick" enqueued=(\d+) skipped=(\d+)`)

// readTickLogs reads the "scheduler tick" lines logged in [from, to).
func readTickLogs(paths []string, from, to time.Time) tickLog {
	var t tickLog
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 64*1024), 4<<20)
		for sc.Scan() {
			m := tickLineRE.FindStringSubmatch(sc.Text())
			if m == nil {
				continue
			}
			at, err := time.Parse(time.RFC3339Nano, m[1])
			if err != nil || at.Before(from) || !at.Before(to) {
				continue
			}
			enq, _ := strconv.Atoi(m[2])
			skip, _ := strconv.Atoi(m[3])
			t.ticks++
			t.enqueued = append(t.enqueued, enq)
			t.listed = append(t.listed, enq+skip)
		}
		f.Close()
	}
	return t
}
