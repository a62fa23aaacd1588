package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/localfs"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

// source is a storage holding the benchmark's objects.
type source struct {
	kind     string
	endpoint string // S3
	// access and secret are the S3 keys.
	access, secret string
	n              int
	// serverPID is the storage server's process (S3 fake, versitygw).
	serverPID int
	conn      storage.Connector
	close     func()
}

// objectKey is the i-th object's key: 100 files per folder, 10 folders per
// top-level folder.
func objectKey(i int) string { return keyFor(i, 1000) }

// keyFor is objectKey with perTop objects per top-level folder.
func keyFor(i, perTop int) string {
	return fmt.Sprintf("d%04d/s%d/file-%07d.jpg", i/perTop, (i/100)%10, i)
}

func objectBody(i int) []byte { return []byte("benchmark object " + strconv.Itoa(i)) }

func openSource(ctx context.Context, kind string, n int, dir, vgwFill string) (*source, error) {
	switch kind {
	case "s3fake":
		return s3FakeSourceWith(ctx, n, 0, 0, 1000)
	case "local":
		return localSource(n, dir)
	case "versitygw":
		return versityGWSource(ctx, n, dir, vgwFill)
	}
	return nil, fmt.Errorf("unknown storage %q (want s3fake, local or versitygw)", kind)
}

// serveS3Fake is the child process: an S3 fake with n objects in bucket
// "bench" and listLatency added to every LIST call, its URL on the first
// line of stdout, until stdin closes.
func serveS3Fake(n int, listLatency time.Duration, perTop int) {
	srv := s3fake.Start()
	srv.SetLatency(s3fake.OpList, listLatency)
	if err := srv.CreateBucket("bench"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := range n {
		if err := srv.PutObject("bench", keyFor(i, perTop), objectBody(i)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
	}
	fmt.Println(srv.URL)
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // the parent closes stdin when done
	srv.Close()
}

// s3FakeSourceWith starts an S3 fake child process with n objects and
// connects to it (parallel: the connector's ParallelPrefixes).
func s3FakeSourceWith(ctx context.Context, n int, listLatency time.Duration, parallel, perTop int) (*source, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, "-serve-s3fake", strconv.Itoa(n), "-s3-list-latency", listLatency.String(), "-s3-per-prefix", strconv.Itoa(perTop))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	url, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, fmt.Errorf("starting the S3 fake: %w", err)
	}
	endpoint := strings.TrimSpace(url)
	conn, err := s3.New(ctx, s3.Config{Bucket: "bench", Endpoint: endpoint, PathStyle: true,
		AccessKeyID: "bench", SecretAccessKey: "bench", ParallelPrefixes: parallel}, nil)
	if err != nil {
		_ = cmd.Process.Kill()
		return nil, err
	}
	return &source{kind: "s3fake", n: n, endpoint: endpoint, access: "bench", secret: "bench", serverPID: cmd.Process.Pid, conn: conn, close: func() {
		stdin.Close()
		_ = cmd.Wait()
	}}, nil
}

// localSource builds (once; kept in dir for later runs) a folder tree of n
// files.
func localSource(n int, dir string) (*source, error) {
	root := filepath.Join(dir, fmt.Sprintf("local-%d", n))
	done := filepath.Join(dir, fmt.Sprintf("local-%d.done", n))
	if _, err := os.Stat(done); err != nil {
		if err := os.RemoveAll(root); err != nil {
			return nil, err
		}
		for i := range n {
			p := filepath.Join(root, filepath.FromSlash(objectKey(i)))
			if i%100 == 0 {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return nil, err
				}
			}
			if err := os.WriteFile(p, objectBody(i), 0o644); err != nil {
				return nil, err
			}
		}
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			return nil, err
		}
	}
	conn, err := localfs.New(root, []string{root})
	if err != nil {
		return nil, err
	}
	return &source{kind: "local", n: n, conn: conn, close: func() {}}, nil
}

// versityGWSource starts versitygw on a posix directory holding n
// objects, filled once and kept in dir for later runs (like the local
// tree): fill "direct" uploads the first 100 objects through the S3 API and
// writes the rest into the posix backend's directory as versitygw stores
// them (vgwfill_linux.go; checked against the uploaded ones), "api"
// uploads them all (about an hour per million objects here).
func versityGWSource(ctx context.Context, n int, dir, fill string) (*source, error) {
	if fill != "direct" && fill != "api" {
		return nil, fmt.Errorf("unknown -versitygw-fill %q (want direct or api)", fill)
	}
	bin, err := exec.LookPath("versitygw")
	if err != nil {
		gopath, _ := exec.Command("go", "env", "GOPATH").Output()
		bin = filepath.Join(strings.TrimSpace(string(gopath)), "bin", "versitygw")
		if _, err := os.Stat(bin); err != nil {
			return nil, errors.New("versitygw not found on PATH or in $(go env GOPATH)/bin; install it with go install github.com/versity/versitygw/cmd/versitygw@v1.8.0")
		}
	}
	data := filepath.Join(dir, fmt.Sprintf("versitygw-%d", n))
	done := data + ".done"
	filled := false
	if _, err := os.Stat(done); err == nil {
		filled = true
	} else if err := os.RemoveAll(data); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(data, 0o755); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(bin, "--port", addr, "--access", vgwAccess, "--secret", vgwSecret, "posix", data)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	stop := func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }
	endpoint := "http://" + addr
	for i := 0; ; i++ {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if i > 100 {
			stop()
			return nil, fmt.Errorf("versitygw did not start on %s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !filled {
		if err := fillVersityGW(ctx, endpoint, filepath.Join(data, "bench"), n, fill); err != nil {
			stop()
			return nil, err
		}
		if err := os.WriteFile(done, nil, 0o644); err != nil {
			stop()
			return nil, err
		}
	}
	conn, err := s3.New(ctx, s3.Config{Bucket: "bench", Endpoint: endpoint, PathStyle: true,
		AccessKeyID: vgwAccess, SecretAccessKey: vgwSecret}, nil)
	if err != nil {
		stop()
		return nil, err
	}
	return &source{kind: "versitygw", n: n, endpoint: endpoint, access: vgwAccess, secret: vgwSecret, serverPID: cmd.Process.Pid, conn: conn, close: stop}, nil
}

const vgwAccess, vgwSecret = "bench", "benchsecret"

// fillVersityGW creates bucket "bench" and its n objects (see
// versityGWSource).
func fillVersityGW(ctx context.Context, endpoint, bucketDir string, n int, fill string) error {
	raw := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(vgwAccess, vgwSecret, "")})
	if _, err := raw.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("bench")}); err != nil {
		return fmt.Errorf("creating the versitygw bucket: %w", err)
	}
	viaAPI := n
	if fill == "direct" {
		viaAPI = min(n, 100)
	}
	jobs := make(chan int)
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				_, err := raw.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String(objectKey(i)),
					Body: bytes.NewReader(objectBody(i))})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range viaAPI {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("uploading to versitygw: %w", err)
	default:
	}
	if viaAPI == n {
		return nil
	}
	if err := vgwAttrsMatch(bucketDir, 0); err != nil {
		return fmt.Errorf("cannot write versitygw's directory directly (use -versitygw-fill api): %w", err)
	}
	start := time.Now()
	if err := writeVGWObjects(bucketDir, viaAPI, n); err != nil {
		return fmt.Errorf("writing versitygw's directory: %w", err)
	}
	fmt.Fprintf(os.Stderr, "versitygw: %d objects uploaded, %d written into its directory in %.0f s\n", viaAPI, n-viaAPI, time.Since(start).Seconds())
	return nil
}
