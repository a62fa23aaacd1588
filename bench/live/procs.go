package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

// The burst and the flood run the S3 server and the writers in processes
// of their own (this program started again in a helper mode), so that the
// server process's peak RSS, goroutines and open files are Shelf's alone.

// serveS3fake is the -s3fake helper: an s3fake with the given buckets,
// its URL printed on stdout, until stdin closes (the parent ended).
func serveS3fake(buckets string) error {
	s := s3fake.Start()
	defer s.Close()
	for _, b := range split(buckets) {
		if err := s.CreateBucket(b); err != nil {
			return err
		}
	}
	fmt.Println(s.URL)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// s3Process is a running -s3fake helper.
type s3Process struct {
	url   string
	cmd   *exec.Cmd
	stdin io.WriteCloser
}

func startS3Process(ctx context.Context, buckets ...string) (*s3Process, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, self, "-s3fake", strings.Join(buckets, ","))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stdin.Close()
		_ = cmd.Wait()
		return nil, fmt.Errorf("starting the s3fake process: %w", err)
	}
	return &s3Process{url: strings.TrimSpace(line), cmd: cmd, stdin: stdin}, nil
}

func (p *s3Process) close() {
	p.stdin.Close()
	_ = p.cmd.Wait()
}

// putObject puts an object with a plain HTTP PUT (s3fake checks no
// signature).
func putObject(hc *http.Client, endpoint, bucket, key string, body []byte) error {
	req, err := http.NewRequest("PUT", endpoint+"/"+bucket+"/"+key, bytes.NewReader(body))
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("PUT %s: %s", key, resp.Status)
	}
	return nil
}

// loadOptions drive a -load-client process.
type loadOptions struct {
	events, s3, bucket string
	rate, clients      int
	duration           time.Duration
	put                float64 // share of events whose object is put first
	random             bool    // random keys (else numbered ones)
}

func (l loadOptions) args() []string {
	return []string{"-load-client", l.events, "--", "-s3", l.s3, "-bucket", l.bucket, "-rate", strconv.Itoa(l.rate),
		"-for", l.duration.String(), "-clients", strconv.Itoa(l.clients), "-put", strconv.FormatFloat(l.put, 'f', -1, 64),
		"-random=" + strconv.FormatBool(l.random)}
}

// loadReport is what a -load-client process prints (JSON).
type loadReport struct {
	Sent    int         `json:"sent"`
	Puts    int         `json:"puts"`
	PutErrs int         `json:"put_errors"`
	Seconds float64     `json:"seconds"`
	Status  map[int]int `json:"status"`
}

// runLoad starts a -load-client process and waits for its report.
func runLoad(ctx context.Context, l loadOptions) (loadReport, error) {
	var rep loadReport
	self, err := os.Executable()
	if err != nil {
		return rep, err
	}
	cmd := exec.CommandContext(ctx, self, l.args()...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return rep, fmt.Errorf("the writers' process: %w", err)
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return rep, fmt.Errorf("the writers' process printed %q: %w", out, err)
	}
	return rep, nil
}

// loadClient is the -load-client helper: rate × duration events posted at
// the events URL, one record each, from clients connections; for a share
// of them the object is put in the bucket first.
func loadClient(events string, args []string) error {
	fs := flag.NewFlagSet("load-client", flag.ContinueOnError)
	var l loadOptions
	fs.StringVar(&l.s3, "s3", "", "S3 endpoint")
	fs.StringVar(&l.bucket, "bucket", "", "bucket")
	fs.IntVar(&l.rate, "rate", 1000, "events per second")
	fs.DurationVar(&l.duration, "for", 10*time.Second, "duration")
	fs.IntVar(&l.clients, "clients", 64, "connections")
	fs.Float64Var(&l.put, "put", 1, "share of objects put first")
	fs.BoolVar(&l.random, "random", false, "random keys")
	if err := fs.Parse(args); err != nil {
		return err
	}
	total := int(float64(l.rate) * l.duration.Seconds())
	hc := eventClient(l.clients)
	var status statusCounts
	var puts, putErrs atomic.Int64
	prefix := fmt.Sprintf("%08x", rand.Uint32())
	took := paced(total, l.rate, l.clients, func(k int) {
		key := fmt.Sprintf("b%02d/obj-%06d.txt", k%50, k)
		if l.random {
			key = fmt.Sprintf("f%02d/%s-%07d-%016x.txt", k%20, prefix, k, rand.Uint64())
		}
		if l.put >= 1 || rand.Float64() < l.put {
			if err := putObject(hc, l.s3, l.bucket, key, []byte("bench "+key)); err != nil {
				putErrs.Add(1)
				return
			}
			puts.Add(1)
		}
		status.add(postEvent(hc, events, s3EventBody(l.bucket, "ObjectCreated:Put", key)))
	})
	return json.NewEncoder(os.Stdout).Encode(loadReport{Sent: total, Puts: int(puts.Load()), PutErrs: int(putErrs.Load()),
		Seconds: took.Seconds(), Status: status.m})
}
