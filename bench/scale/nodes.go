package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"
)

// node is one shelf process the benchmark started.
type node struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}
	killed  bool // SIGKILLed by the kill phase
}

func (n *node) pid() int { return n.cmd.Process.Pid }

// exited reports whether the process has ended.
func (n *node) exited() bool {
	select {
	case <-n.done:
		return true
	default:
		return false
	}
}

// startNode starts `shelf args...` with env, its output going to a log file
// in dir.
func startNode(bin string, env []string, dir, name string, args ...string) (*node, error) {
	logPath := filepath.Join(dir, name+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("creating the log of %s: %w", name, err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "SHELF_DATA_DIR="+filepath.Join(dir, name+"-data"))
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	n := &node{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(n.done)
	}()
	return n, nil
}

// stop ends the process with SIGTERM (running syncs finish), then SIGKILL
// after grace.
func (n *node) stop(grace time.Duration) {
	if n.exited() {
		return
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(grace):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// runShelf runs a one-shot shelf command and returns its error with output.
func runShelf(ctx context.Context, bin string, env []string, dataDir string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "SHELF_DATA_DIR="+dataDir)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("shelf %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// waitHealthy waits until url answers 200 or n exits.
func waitHealthy(ctx context.Context, url string, n *node) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-n.done:
			return fmt.Errorf("%s exited; its log: %s\n%s", n.name, n.logPath, tailFile(n.logPath, 20))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	return fmt.Errorf("%s did not answer %s within a minute; its log: %s", n.name, url, n.logPath)
}

// logSummary counts a process log's warnings and errors by message.
type logSummary struct {
	lines, warns, errors int
	top                  []msgCount // most frequent warning and error messages
}

type msgCount struct {
	level, msg string
	n          int
}

var (
	levelRE = regexp.MustCompile(`\blevel=(WARN|ERROR)\b`)
	msgRE   = regexp.MustCompile(`\bmsg=("(?:[^"\\]|\\.)*"|\S+)`)
)

// summarizeLog reads a text-format slog log.
func summarizeLog(path string) logSummary {
	var s logSummary
	f, err := os.Open(path)
	if err != nil {
		return s
	}
	defer f.Close()
	counts := map[[2]string]int{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for sc.Scan() {
		s.lines++
		line := sc.Text()
		lv := levelRE.FindStringSubmatch(line)
		if lv == nil {
			continue
		}
		if lv[1] == "WARN" {
			s.warns++
		} else {
			s.errors++
		}
		msg := ""
		if m := msgRE.FindStringSubmatch(line); m != nil {
			msg = strings.Trim(m[1], `"`)
		}
		counts[[2]string{lv[1], msg}]++
	}
	for k, n := range counts {
		s.top = append(s.top, msgCount{level: k[0], msg: k[1], n: n})
	}
	sort.Slice(s.top, func(i, j int) bool {
		if s.top[i].n != s.top[j].n {
			return s.top[i].n > s.top[j].n
		}
		return s.top[i].msg < s.top[j].msg
	})
	if len(s.top) > 4 {
		s.top = s.top[:4]
	}
	return s
}

// tailFile returns the last n lines of a file.
func tailFile(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
