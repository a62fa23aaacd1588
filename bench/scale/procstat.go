package main

import (
	"bufio"
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// clockTicks is the kernel's USER_HZ, the unit of /proc/<pid>/stat times
// (100 on every Linux architecture Go targets).
const clockTicks = 100

// procUsage is what /proc tells about one process.
type procUsage struct {
	hwm      int64 // peak resident set (VmHWM), bytes
	cpuTicks int64 // user + system time
	ok       bool
}

// readProc reads /proc/<pid>/status and /proc/<pid>/stat.
func readProc(pid int) procUsage {
	var u procUsage
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return u
	}
	// Fields after the command name, which is in parentheses and may
	// hold spaces: state is field 3, utime 14, stime 15.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		f := strings.Fields(s[i+1:])
		if len(f) > 12 {
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			u.cpuTicks, u.ok = ut+st, true
		}
	}
	if f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
				u.hwm = kb << 10
			}
		}
		f.Close()
	}
	return u
}

// machineCPU returns the busy and total jiffies of all CPUs (/proc/stat).
func machineCPU() (busy, total int64) {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i >= 8 { // guest time is already in user time
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

// loadAvg is /proc/loadavg's three averages, as `uptime` prints them.
func loadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "?"
	}
	return f[0] + " " + f[1] + " " + f[2]
}

// sampler follows the shelf processes and the PostgreSQL backends serving
// the benchmark's database. VmHWM and CPU time must be read while a process
// lives, so it samples them periodically and keeps the last values.
type sampler struct {
	pool   *pgxpool.Pool
	dbName string

	mu    sync.Mutex
	procs map[string]*procRecord
	order []string
	pg    map[int]int64 // backend pid → last CPU ticks seen
	pgHWM int64         // largest backend VmHWM seen

	stop    chan struct{}
	done    chan struct{}
	started bool
}

type procRecord struct {
	pid  int
	last procUsage
}

func newSampler(pool *pgxpool.Pool, dbName string) *sampler {
	return &sampler{pool: pool, dbName: dbName, procs: map[string]*procRecord{}, pg: map[int]int64{},
		stop: make(chan struct{}), done: make(chan struct{})}
}

// add follows a process.
func (s *sampler) add(name string, pid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs[name] = &procRecord{pid: pid, last: readProc(pid)}
	s.order = append(s.order, name)
}

// start samples every second until halt.
func (s *sampler) start() {
	s.started = true
	go func() {
		defer close(s.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for i := 0; ; i++ {
			s.sampleProcs()
			if i%5 == 0 {
				s.samplePG()
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
}

// halt stops sampling after a last sample.
func (s *sampler) halt() {
	if !s.started {
		return
	}
	select {
	case <-s.stop:
		return
	default:
	}
	close(s.stop)
	<-s.done
}

func (s *sampler) sampleProcs() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.procs {
		if u := readProc(p.pid); u.ok {
			// A killed process not yet reaped reads as a zombie with no
			// memory: its peak stays the last one seen alive.
			u.hwm = max(u.hwm, p.last.hwm)
			u.cpuTicks = max(u.cpuTicks, p.last.cpuTicks)
			p.last = u
		}
	}
}

func (s *sampler) samplePG() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = $1`, s.dbName)
	if err != nil {
		return
	}
	var pids []int
	for rows.Next() {
		var pid int
		if rows.Scan(&pid) == nil {
			pids = append(pids, pid)
		}
	}
	rows.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, pid := range pids {
		if u := readProc(pid); u.ok {
			s.pg[pid] = max(s.pg[pid], u.cpuTicks)
			s.pgHWM = max(s.pgHWM, u.hwm)
		}
	}
}

// mark is a moment's cumulative figures, to take differences between.
type mark struct {
	at          time.Time
	load        string
	cpu         map[string]int64 // process name → CPU ticks
	pgCPU       int64            // CPU ticks of the database's backends
	busy, total int64            // the machine's
}

// mark samples now and returns the cumulative figures.
func (s *sampler) mark() mark {
	s.sampleProcs()
	s.samplePG()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := mark{at: time.Now(), load: loadAvg(), cpu: map[string]int64{}}
	for name, p := range s.procs {
		m.cpu[name] = p.last.cpuTicks
	}
	for _, t := range s.pg {
		m.pgCPU += t
	}
	m.busy, m.total = machineCPU()
	return m
}

// peaks returns each process's last VmHWM (its peak RSS) in start order.
func (s *sampler) peaks() (names []string, hwm map[string]int64, pgHWM int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	hwm = map[string]int64{}
	for _, name := range s.order {
		hwm[name] = s.procs[name].last.hwm
	}
	return append([]string(nil), s.order...), hwm, s.pgHWM
}
