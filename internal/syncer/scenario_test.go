package syncer_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncer"
)

// TestScenarios runs every testdata/scenarios/*.txt file on every connector
// it names (all by default) and every database, and compares the counts of
// each sync and the final catalog with the golden file
// testdata/golden/NAME.CONNECTOR.txt. After each successful sync the live
// catalog must mirror the storage exactly.
//
// A scenario is a list of commands, one a line ("#" starts a comment):
//
//	connectors local s3      only these connectors
//	put PATH TEXT...         write a file (new or changed content)
//	restore PATH TEXT...     write a file back as it was (local: with the
//	                         modification time it had, as a restore from
//	                         the trash or a backup keeps it)
//	mkdir PATH               make a folder
//	move FROM TO             move or rename a file or folder
//	delete PATH              delete a file or folder (Drive: to the trash)
//	meta PATH TAGS DESC...   set an asset's tags (comma-separated) and description
//	ready PATH               mark an asset's preview as made
//	advance DURATION         move the clock on
//	sync [confirm]           run a sync (confirm: with mass delete confirmed)
func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files found: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := scenarioLines(string(src))
		kinds := connectorKinds
		if len(lines) > 0 && lines[0][0] == "connectors" {
			kinds, lines = lines[0][1:], lines[1:]
		}
		for _, kind := range kinds {
			for _, db := range databases {
				t.Run(name+"/"+kind+"/"+db, func(t *testing.T) {
					t.Parallel()
					got := runScenario(t, db, kind, lines)
					checkGolden(t, filepath.Join("golden", name+"."+kind+".txt"), got)
				})
			}
		}
	}
}

// TestScenariosLive runs every scenario again with its syncs after the
// first done as live batches of the touched paths: the catalog must end
// exactly as after full syncs (the golden file's catalog), and mirror the
// storage after every batch.
func TestScenariosLive(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenario files found: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		lines := scenarioLines(string(src))
		kinds := []string{"local", "s3", "versitygw"}
		if len(lines) > 0 && lines[0][0] == "connectors" {
			kinds, lines = slices.DeleteFunc(slices.Clone(lines[0][1:]), func(k string) bool { return k == "gdrive" }), lines[1:]
		}
		for _, kind := range kinds {
			for _, db := range databases {
				t.Run(name+"/"+kind+"/"+db, func(t *testing.T) {
					t.Parallel()
					got := runScenario(t, db, kind, lines, true)
					want, err := os.ReadFile(filepath.Join("testdata", "golden", name+"."+kind+".txt"))
					if err != nil {
						t.Fatal(err)
					}
					if gc, wc := catalogPart(got), catalogPart(string(want)); gc != wc {
						t.Errorf("catalog after live batches differs from after full syncs\n--- live:\n%s\n--- full (golden):\n%s", gc, wc)
					}
				})
			}
		}
	}
}

func catalogPart(s string) string {
	_, after, _ := strings.Cut(s, "catalog:\n")
	return after
}

func scenarioLines(src string) [][]string {
	var out [][]string
	for _, l := range strings.Split(src, "\n") {
		if i := strings.IndexByte(l, '#'); i >= 0 {
			l = l[:i]
		}
		if f := strings.Fields(l); len(f) > 0 {
			out = append(out, f)
		}
	}
	return out
}

// runScenario runs a scenario's commands. With live set, every plain
// "sync" on path-identified storage is a live batch re-reading only the
// paths the commands since the previous sync touched (both ends of a
// move), as the live watchers report them.
func runScenario(t *testing.T, db, kind string, lines [][]string, live ...bool) string {
	e := newEnv(t, db, kind, syncer.Config{BatchSize: 7, ReadPage: 7, MassDeleteMin: 100})
	var out strings.Builder
	nsync := 0
	var touched []string
	for _, f := range lines {
		switch f[0] {
		case "put", "restore", "mkdir", "delete":
			touched = append(touched, f[1])
		case "move":
			touched = append(touched, f[1], f[2])
		}
		cmd, args := f[0], f[1:]
		need := func(n int) {
			if len(args) < n {
				t.Fatalf("scenario: %q needs %d arguments", strings.Join(f, " "), n)
			}
		}
		switch cmd {
		case "put":
			need(2)
			body := strings.Join(args[1:], " ")
			if _, err := e.st.conn.Put(e.ctx, args[0], strings.NewReader(body), int64(len(body)), ""); err != nil {
				t.Fatalf("put %s: %v", args[0], err)
			}
			e.st.stampLocal(t, args[0])
		case "restore":
			need(2)
			body := strings.Join(args[1:], " ")
			if _, err := e.st.conn.Put(e.ctx, args[0], strings.NewReader(body), int64(len(body)), ""); err != nil {
				t.Fatalf("restore %s: %v", args[0], err)
			}
			e.st.restampLocal(t, args[0])
		case "mkdir":
			need(1)
			if _, err := e.st.conn.MkDir(e.ctx, args[0]); err != nil {
				t.Fatalf("mkdir %s: %v", args[0], err)
			}
		case "move":
			need(2)
			if _, err := e.st.conn.Move(e.ctx, args[0], args[1]); err != nil {
				t.Fatalf("move %s %s: %v", args[0], args[1], err)
			}
		case "delete":
			need(1)
			if err := e.st.conn.Delete(e.ctx, args[0]); err != nil {
				t.Fatalf("delete %s: %v", args[0], err)
			}
		case "meta":
			need(2)
			e.setMeta(args[0], strings.Split(args[1], ","), strings.Join(args[2:], " "))
		case "ready":
			need(1)
			e.setPreviewReady(args[0])
		case "advance":
			need(1)
			d, err := time.ParseDuration(args[0])
			if err != nil {
				t.Fatal(err)
			}
			e.clock.now = e.clock.now.Add(d)
		case "sync":
			nsync++
			confirm := len(args) > 0 && args[0] == "confirm"
			var res syncer.Result
			var err error
			if len(live) > 0 && live[0] && !confirm && e.st.conn.Kind() != storage.KindGDrive && nsync > 1 {
				res, err = e.syncPaths(touched)
			} else {
				res, err = e.sync(confirm)
			}
			touched = nil
			fmt.Fprintf(&out, "sync %d: %s\n", nsync, countsLine(res, err))
			if err == nil && res.State == "succeeded" {
				e.checkMirror()
			}
		default:
			t.Fatalf("scenario: unknown command %q", cmd)
		}
	}
	out.WriteString("catalog:\n")
	out.WriteString(render(e.dump()))
	return out.String()
}
