package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

// The fake S3 server runs in a child process (this program with
// -serve-s3fake), so the connector's CPU time and memory are measured
// apart from the server's, and the server's heap does not slow the
// connector's garbage collector.

// fakeLayout says what the child seeds.
type fakeLayout struct {
	prefixes, perPrefix int // layout A: p%03d/f%05d.jpg
	objects             int // layout B: rawKey(i)
	latency             time.Duration
	cpuProfile          string // the child writes a CPU profile here
}

const fakeBucket = "bench"

// serveFake is the child: it seeds the fake, prints its endpoint and
// serves until its standard input closes.
func serveFake(l fakeLayout) error {
	srv := s3fake.Start()
	defer srv.Close()
	if err := srv.CreateBucket(fakeBucket); err != nil {
		return err
	}
	for p := range l.prefixes {
		for j := range l.perPrefix {
			if err := srv.PutObject(fakeBucket, fmt.Sprintf("p%03d/f%05d.jpg", p, j), []byte("x")); err != nil {
				return err
			}
		}
	}
	for i := range l.objects {
		if err := srv.PutObject(fakeBucket, rawKey(i), []byte("x")); err != nil {
			return err
		}
	}
	srv.SetLatency(s3fake.OpList, l.latency)
	// The fake is the harness, not what is measured: let its heap grow
	// rather than spend the shared cores on collecting it.
	debug.SetGCPercent(400)
	fmt.Printf("ENDPOINT %s\n", srv.URL)
	seeded := cpuTime()
	_, _ = io.Copy(io.Discard, os.Stdin)
	fmt.Fprintf(os.Stderr, "  (fake S3 child: %.2f CPU s serving after seeding)\n", (cpuTime() - seeded).Seconds())
	return nil
}

// fakeChild is a running child fake.
type fakeChild struct {
	endpoint string
	cmd      *exec.Cmd
	stdin    io.WriteCloser
}

func startFakeChild(l fakeLayout) (*fakeChild, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve-s3fake",
		"-fake-prefixes", fmt.Sprint(l.prefixes), "-fake-per-prefix", fmt.Sprint(l.perPrefix),
		"-fake-objects", fmt.Sprint(l.objects), "-fake-latency", l.latency.String(), "-fake-cpuprofile", l.cpuProfile)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the fake S3 child: %w", err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	ep, ok := strings.CutPrefix(strings.TrimSpace(line), "ENDPOINT ")
	if err != nil || !ok {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, errors.Join(errors.New("the fake S3 child did not report its endpoint"), err)
	}
	return &fakeChild{endpoint: ep, cmd: cmd, stdin: stdin}, nil
}

func (f *fakeChild) stop() {
	f.stdin.Close()
	done := make(chan struct{})
	go func() { _ = f.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = f.cmd.Process.Kill()
		<-done
	}
}

// listCounter counts ListObjectsV2 requests that pass through it.
type listCounter struct {
	next  http.RoundTripper
	lists atomic.Int64
}

func (c *listCounter) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2" {
		c.lists.Add(1)
	}
	return c.next.RoundTrip(r)
}

// countingClient returns an HTTP client that counts LIST calls, sized for
// many parallel requests to one host.
func countingClient() (*http.Client, *listCounter) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	lc := &listCounter{next: tr}
	return &http.Client{Transport: lc}, lc
}
