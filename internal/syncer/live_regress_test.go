package syncer_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/syncer"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// rawKeys lists the fixture bucket's raw object keys (with ETags) under
// the connector's prefix, as an S3 event stream sees objects.
func rawKeys(t *testing.T, e *env) map[string]string {
	t.Helper()
	b := e.st.conn.(interface {
		Bucket() string
		Prefix() string
	})
	c := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(e.st.s3.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("fake", "fake", "")})
	out := map[string]string{}
	p := awss3.NewListObjectsV2Paginator(c, &awss3.ListObjectsV2Input{Bucket: aws.String(b.Bucket()), Prefix: aws.String(b.Prefix())})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			out[strings.TrimPrefix(aws.ToString(o.Key), b.Prefix())] = aws.ToString(o.ETag)
		}
	}
	return out
}

// eventPaths is what an S3 event stream reports between two listings: one
// path per object key created, overwritten or removed (a marker "d/" as
// "d", as the receiver maps it).
func eventPaths(before, after map[string]string) []string {
	var out []string
	for k, et := range after {
		if before[k] != et {
			out = append(out, strings.TrimSuffix(k, "/"))
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			out = append(out, strings.TrimSuffix(k, "/"))
		}
	}
	slices.Sort(out)
	return out
}

// TestScenariosS3KeyEvents runs every scenario on S3 with each live
// batch given exactly the object keys an S3 event stream would report
// (a folder move is one copy+delete per key, never the folder's path), and
// compares the catalog with the full syncs' golden catalog.
func TestScenariosS3KeyEvents(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "scenarios", "*.txt"))
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		src, _ := os.ReadFile(file)
		lines := scenarioLines(string(src))
		if len(lines) > 0 && lines[0][0] == "connectors" {
			if !slices.Contains(lines[0][1:], "s3") {
				continue
			}
			lines = lines[1:]
		}
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, "sqlite", "s3", syncerCfg())
			var out strings.Builder
			nsync := 0
			before := rawKeys(t, e)
			for _, f := range lines {
				if f[0] == "sync" {
					nsync++
					after := rawKeys(t, e)
					paths := eventPaths(before, after)
					before = after
					var err error
					if nsync > 1 && !(len(f) > 1 && f[1] == "confirm") {
						t.Logf("sync %d: live batch of %v", nsync, paths)
						_, err = e.syncPaths(paths)
					} else {
						_, err = e.sync(len(f) > 1 && f[1] == "confirm")
					}
					if err != nil {
						t.Fatalf("sync %d: %v", nsync, err)
					}
					continue
				}
				runCommand(t, e, f)
			}
			got := render(e.dump())
			want, err := os.ReadFile(filepath.Join("testdata", "golden", name+".s3.txt"))
			if err != nil {
				t.Fatal(err)
			}
			_ = out
			if wc := catalogPart(string(want)); got != wc {
				t.Errorf("catalog after key-event live batches differs from after full syncs\n--- live:\n%s\n--- full (golden):\n%s", got, wc)
			}
		})
	}
}

func syncerCfg() syncer.Config { return syncer.Config{BatchSize: 7, MassDeleteMin: 100} }

// runCommand runs one non-sync scenario command (as runScenario does).
func runCommand(t *testing.T, e *env, f []string) {
	t.Helper()
	cmd, args := f[0], f[1:]
	switch cmd {
	case "put", "restore":
		body := strings.Join(args[1:], " ")
		if _, err := e.st.conn.Put(e.ctx, args[0], strings.NewReader(body), int64(len(body)), ""); err != nil {
			t.Fatalf("put %s: %v", args[0], err)
		}
		if cmd == "put" {
			e.st.stampLocal(t, args[0])
		} else {
			e.st.restampLocal(t, args[0])
		}
	case "mkdir":
		if _, err := e.st.conn.MkDir(e.ctx, args[0]); err != nil {
			t.Fatal(err)
		}
	case "move":
		if _, err := e.st.conn.Move(e.ctx, args[0], args[1]); err != nil {
			t.Fatal(err)
		}
	case "delete":
		if err := e.st.conn.Delete(e.ctx, args[0]); err != nil {
			t.Fatal(err)
		}
	case "meta":
		e.setMeta(args[0], strings.Split(args[1], ","), strings.Join(args[2:], " "))
	case "ready":
		e.setPreviewReady(args[0])
	case "advance":
		d, err := time.ParseDuration(args[0])
		if err != nil {
			t.Fatal(err)
		}
		e.clock.now = e.clock.now.Add(d)
	default:
		t.Fatalf("unknown command %q", cmd)
	}
}

// TestLiveMoveSplitAcrossBatchesKeepsMetadata: an S3 move is a copy and a delete, two
// events; when a batch boundary falls between them (debounce: 250 ms quiet,
// 1 s max delay — any move of a folder of more than a few objects, or a
// slow client), the asset is re-created without its metadata and the
// tagged one becomes a tombstone. A full sync after the same change keeps
// the metadata; the reconciliation finds nothing to repair afterwards.
func TestLiveMoveSplitAcrossBatchesKeepsMetadata(t *testing.T) {
	for _, kind := range []string{"s3", "local"} {
		for _, order := range []string{"create-first", "delete-first"} {
			t.Run(kind+"/"+order, func(t *testing.T) {
				e := newEnv(t, "sqlite", kind, syncerCfg())
				runCommand(t, e, []string{"put", "inbox/a.jpg", "alpha", "content"})
				runCommand(t, e, []string{"put", "archive/old.jpg", "old"})
				e.mustSync()
				e.setMeta("inbox/a.jpg", []string{"keep"}, "Tagged before the move")
				id := e.assetID("inbox/a.jpg")
				runCommand(t, e, []string{"move", "inbox/a.jpg", "archive/a.jpg"})
				batches := [][]string{{"archive/a.jpg"}, {"inbox/a.jpg"}}
				if order == "delete-first" {
					batches[0], batches[1] = batches[1], batches[0]
				}
				for _, b := range batches {
					if _, err := e.syncPaths(b); err != nil {
						t.Fatal(err)
					}
				}
				// The reconciliation finds nothing to change.
				res := e.mustSync()
				t.Logf("reconciliation: %+v", res.Counts)
				if got := e.assetID("archive/a.jpg"); got != id {
					t.Errorf("moved asset is a new asset (id %d, was %d): its tags and description stayed on a tombstone\n%s", got, id, render(e.dump()))
				}
			})
		}
	}
}

// TestLiveEmptiedRootIsHeld: SPEC §3 — a listing that finds the root empty
// while the library is not deletes nothing (held for confirmation whatever
// the library's size). A full sync holds; the live batches of the same
// deletion (rm -rf lib/*, aws s3 rm --recursive) empty the library.
func TestLiveEmptiedRootIsHeld(t *testing.T) {
	for _, kind := range []string{"local", "s3"} {
		for _, mode := range []string{"full", "live"} {
			t.Run(kind+"/"+mode, func(t *testing.T) {
				e := newEnv(t, "sqlite", kind, syncerCfg())
				for _, p := range []string{"a/1.jpg", "a/2.jpg", "b/3.jpg", "top.jpg"} {
					runCommand(t, e, []string{"put", p, "content of " + p})
				}
				e.mustSync()
				for _, p := range []string{"a", "b", "top.jpg"} {
					runCommand(t, e, []string{"delete", p})
				}
				var res syncer.Result
				var err error
				if mode == "full" {
					res, err = e.sync(false)
				} else {
					res, err = e.syncPaths([]string{"a/1.jpg", "a/2.jpg", "b/3.jpg", "top.jpg"})
				}
				if err != nil {
					t.Fatal(err)
				}
				if res.State != "needs_confirmation" {
					t.Errorf("%s: the emptied root was applied (%s, removed %d):\n%s", mode, res.State, res.Counts.Removed, render(e.dump()))
				}
			})
		}
	}
}
