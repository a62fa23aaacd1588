package main

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The CPU of the processes a phase waits on besides this one: the storage
// server (the S3 fake's child process, versitygw) and the PostgreSQL
// server (its postmaster and every backend and worker, exited ones
// included through the postmaster's children's time). Read from /proc
// (Linux; 0 elsewhere), so the server must run on this machine: with two
// cores, list + full sync + server CPU tells whether a phase was bound by
// CPU rather than by waiting.

// clockTick is the unit of /proc/PID/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// procCPU is the user+system CPU of process pid; with children, also that
// of its exited, waited-for children.
func procCPU(pid int, children bool) time.Duration {
	f := procStat(pid)
	if len(f) < 15 {
		return 0
	}
	n := 2 // fields 14, 15 after the command: utime, stime
	if children {
		n = 4 // and 16, 17: cutime, cstime
	}
	var ticks int64
	for _, v := range f[11 : 11+n] {
		t, _ := strconv.ParseInt(v, 10, 64)
		ticks += t
	}
	return time.Duration(ticks) * clockTick
}

// procStat is /proc/PID/stat's fields after the command name (field 3 on).
func procStat(pid int) []string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return nil
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil
	}
	return strings.Fields(s[i+1:])
}

// treeCPU is the CPU of pid and of all its children, running or exited.
func treeCPU(pid int) time.Duration {
	if pid <= 0 {
		return 0
	}
	total := procCPU(pid, true)
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		child, err := strconv.Atoi(filepath.Base(filepath.Dir(p)))
		if err != nil {
			continue
		}
		if f := procStat(child); len(f) > 1 && f[1] == strconv.Itoa(pid) {
			total += procCPU(child, false)
		}
	}
	return total
}

// postmasterPID is the PID of the local PostgreSQL server behind conn, or
// 0 when it cannot be told (a remote server, or not Linux).
func postmasterPID(ctx context.Context, conn *pgx.Conn) int {
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return 0
	}
	f := procStat(backend)
	if len(f) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(f[1])
	if comm, _ := os.ReadFile("/proc/" + strconv.Itoa(ppid) + "/comm"); !strings.HasPrefix(string(comm), "postgres") {
		return 0
	}
	return ppid
}
