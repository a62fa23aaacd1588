package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// rclone times rclone (https://rclone.org) as a peer on the same S3 bucket
// in the same run (-extra rclone): a recursive listing (`lsf -R
// --fast-list`) and a dry-run sync of the whole bucket into an empty
// folder (`sync --dry-run --fast-list`, which lists both sides, compares
// and reports each copy it would make), with the remote given by
// RCLONE_CONFIG_* environment variables. Wall time, CPU and peak RSS
// (the child's rusage maxrss) of each command.

// rcloneRun is one timed rclone command.
type rcloneRun struct {
	cmd   string
	wall  time.Duration
	cpu   time.Duration
	rss   int64 // bytes
	lines int   // output lines: listed keys (lsf), skipped copies (sync)
}

func rcloneBinary() (string, error) {
	if p, err := exec.LookPath("rclone"); err == nil {
		return p, nil
	}
	gopath, _ := exec.Command("go", "env", "GOPATH").Output()
	p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "rclone")
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("rclone not found on PATH or in $(go env GOPATH)/bin; install it with go install github.com/rclone/rclone@latest")
	}
	return p, nil
}

// lineCounter counts the lines written to it that contain match ("" for
// all lines).
type lineCounter struct {
	match   []byte
	partial []byte
	n       int
}

func (c *lineCounter) Write(p []byte) (int, error) {
	data := p
	if len(c.partial) > 0 {
		data = append(c.partial, p...)
		c.partial = nil
	}
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			break
		}
		if len(c.match) == 0 || bytes.Contains(data[:i], c.match) {
			c.n++
		}
		data = data[i+1:]
	}
	c.partial = append(c.partial[:0], data...)
	return len(p), nil
}

// measureRclone runs rclone's listing and dry-run sync against src's
// bucket "bench".
func measureRclone(ctx context.Context, src *source, dir string) ([]rcloneRun, error) {
	if src.endpoint == "" {
		return nil, fmt.Errorf("rclone: %s is not an S3 storage", src.kind)
	}
	bin, err := rcloneBinary()
	if err != nil {
		return nil, err
	}
	empty, err := os.MkdirTemp(dir, "rclone-empty-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(empty)
	env := append(os.Environ(),
		"RCLONE_CONFIG="+filepath.Join(dir, "rclone-bench-none.conf"), // not the user's configuration
		"RCLONE_CONFIG_BENCH_TYPE=s3",
		"RCLONE_CONFIG_BENCH_PROVIDER=Other",
		"RCLONE_CONFIG_BENCH_ENDPOINT="+src.endpoint,
		"RCLONE_CONFIG_BENCH_ACCESS_KEY_ID="+src.access,
		"RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY="+src.secret,
		"RCLONE_CONFIG_BENCH_REGION=us-east-1",
		"RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE=true",
	)
	var runs []rcloneRun
	for _, c := range []struct {
		name   string
		args   []string
		count  string // lines to count; on stdout for lsf, stderr for sync
		stdout bool
	}{
		{"rclone lsf -R --fast-list", []string{"lsf", "-R", "--fast-list", "bench:bench"}, "", true},
		{"rclone sync --dry-run --fast-list", []string{"sync", "--dry-run", "--fast-list", "bench:bench", empty}, "Skipped copy", false},
	} {
		cmd := exec.CommandContext(ctx, bin, c.args...)
		cmd.Env = env
		lc := &lineCounter{match: []byte(c.count)}
		var errOut bytes.Buffer
		if c.stdout {
			cmd.Stdout, cmd.Stderr = lc, &errOut
		} else {
			cmd.Stdout, cmd.Stderr = &errOut, lc
		}
		start := time.Now()
		err := cmd.Run()
		wall := time.Since(start)
		if err != nil {
			return runs, fmt.Errorf("rclone %s: %w: %s", strings.Join(c.args, " "), err, errOut.Bytes())
		}
		r := rcloneRun{cmd: c.name, wall: wall, lines: lc.n}
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
			r.rss = ru.Maxrss << 10 // KiB on Linux
		}
		runs = append(runs, r)
	}
	return runs, nil
}
