package syncer_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// A random stream of S3 changes (files with spaces and unicode, folder
// markers, deletes of the last file of an implied folder, moves), each
// applied as a live batch of exactly the object keys it touched: the
// catalog mirrors the bucket after every batch, and a full sync at the end
// changes nothing.
func TestLiveS3RandomStream(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			e := newEnv(t, "sqlite", "s3", syncerCfg())
			names := []string{"a b.jpg", "ü.png", "x.txt", "déjà vu.mov", "c+d.jpg", "e%20f.jpg"}
			dirs := []string{"", "one", "one/two", "três", "sp ace", "one/two/drei"}
			randPath := func() string {
				d := dirs[rng.IntN(len(dirs))]
				n := names[rng.IntN(len(names))]
				if d == "" {
					return n
				}
				return d + "/" + n
			}
			before := rawKeys(t, e)
			e.mustSync()
			for step := 0; step < 40; step++ {
				var touched []string
				for k := 0; k < 1+rng.IntN(3); k++ {
					keys := rawKeys(t, e)
					var files []string
					for key := range keys {
						if !strings.HasSuffix(key, "/") {
							files = append(files, key)
						}
					}
					slices.Sort(files)
					switch op := rng.IntN(6); {
					case op <= 1 || len(files) == 0:
						p := randPath()
						body := fmt.Sprint("v", rng.IntN(3))
						_, _ = e.st.conn.Put(e.ctx, p, strings.NewReader(body), int64(len(body)), "")
						touched = append(touched, p) // S3 sends an event for every PUT
					case op == 2:
						_ = e.st.conn.Delete(e.ctx, files[rng.IntN(len(files))])
					case op == 3:
						_, _ = e.st.conn.Move(e.ctx, files[rng.IntN(len(files))], randPath())
					case op == 4:
						d := dirs[1+rng.IntN(len(dirs)-1)]
						_, _ = e.st.conn.MkDir(e.ctx, d)
						touched = append(touched, d)
					case op == 5:
						d := dirs[1+rng.IntN(len(dirs)-1)]
						_ = e.st.conn.Delete(e.ctx, d)
					}
				}
				after := rawKeys(t, e)
				paths := append(eventPaths(before, after), touched...)
				before = after
				res, err := e.syncPaths(paths)
				if err != nil {
					t.Fatalf("step %d: %v", step, err)
				}
				if res.State == "needs_confirmation" {
					// Emptying the library is held, as a full sync holds
					// an empty root; an admin confirms.
					if _, err := e.sync(true); err != nil {
						t.Fatal(err)
					}
				}
				e.checkMirror()
			}
			res := e.mustSync()
			if c := res.Counts; c.Added+c.Updated+c.Moved+c.Removed != 0 {
				t.Errorf("a full sync after the live batches changed something: %+v\n%s", c, render(e.dump()))
			}
		})
	}
}
