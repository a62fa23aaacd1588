package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path"
	"sort"
	"strings"
	"sync"
	"time"
)

// changer makes changes in one storage; paths are root-relative, as the
// library shows them.
type changer interface {
	add(ctx context.Context, path string) error
	move(ctx context.Context, from, to string) error
	remove(ctx context.Context, path string) error
}

// rig is one in-process Shelf with one live account and a way to change
// its storage.
type rig struct {
	sh    *shelf
	c     *client
	acct  int64
	ch    changer
	mode  string // live mode the Sync page shows
	close func()
}

// folders the benchmark moves files between (they exist before the
// storage is connected).
var benchFolders = []string{"d0", "d1", "d2", "d3"}

// change is one storage write and what the library must show after it.
type change struct {
	kind     string // add, move, delete
	old, new string
	at       time.Time // the storage write returned
}

func (c change) visible(paths map[string]bool) bool {
	return (c.new == "" || paths[c.new]) && (c.old == "" || !paths[c.old])
}

// latencyResult is what one source's run of changes measured.
type latencyResult struct {
	all    []time.Duration
	byKind map[string][]time.Duration
	missed int
}

// measureChanges makes n changes (half adds, a quarter moves, a quarter
// deletes), gap apart, and meanwhile lists the library through the API
// every 50 ms: a change's latency is the time from its storage write
// returning to the first listing that shows it. A change not visible after
// limit is missed. A file is moved or deleted only once its previous
// change showed, so every change has a state to wait for.
func measureChanges(ctx context.Context, r *rig, n int, gapMin, gapMax, limit time.Duration) (latencyResult, error) {
	res := latencyResult{byKind: map[string][]time.Duration{}}
	var (
		mu      sync.Mutex
		pending []change
		settled []string
		stopped bool
	)
	pollErr := make(chan error, 1)
	go func() {
		for {
			paths, err := r.c.paths()
			now := time.Now()
			if err != nil {
				pollErr <- fmt.Errorf("listing the library: %w", err)
				return
			}
			mu.Lock()
			keep := pending[:0]
			for _, p := range pending {
				switch {
				case p.visible(paths):
					res.all = append(res.all, now.Sub(p.at))
					res.byKind[p.kind] = append(res.byKind[p.kind], now.Sub(p.at))
					if p.new != "" {
						settled = append(settled, p.new)
					}
				case now.Sub(p.at) > limit:
					res.missed++
				default:
					keep = append(keep, p)
				}
			}
			pending = keep
			done := stopped && len(pending) == 0
			mu.Unlock()
			if done {
				pollErr <- nil
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	for i := range n {
		gap := gapMin + rand.N(gapMax-gapMin+1)
		select {
		case <-ctx.Done():
			return res, ctx.Err()
		case err := <-pollErr:
			return res, err
		case <-time.After(gap):
		}
		c := change{kind: "add", new: fmt.Sprintf("%s/f%03d.txt", benchFolders[rand.IntN(len(benchFolders))], i)}
		mu.Lock()
		if len(settled) >= 3 {
			if x := rand.Float64(); x >= 0.5 {
				j := rand.IntN(len(settled))
				c = change{kind: "delete", old: settled[j]}
				settled = append(settled[:j], settled[j+1:]...)
				if x < 0.75 {
					c.kind, c.new = "move", otherFolder(c.old)
				}
			}
		}
		mu.Unlock()
		var err error
		switch c.kind {
		case "add":
			err = r.ch.add(ctx, c.new)
		case "move":
			err = r.ch.move(ctx, c.old, c.new)
		default:
			err = r.ch.remove(ctx, c.old)
		}
		if err != nil {
			return res, fmt.Errorf("%s in the storage: %w", c.kind, err)
		}
		c.at = time.Now()
		mu.Lock()
		pending = append(pending, c)
		mu.Unlock()
	}
	mu.Lock()
	stopped = true
	mu.Unlock()
	return res, <-pollErr
}

// otherFolder is p's file name in another of benchFolders.
func otherFolder(p string) string {
	dir, name := path.Split(p)
	for {
		f := benchFolders[rand.IntN(len(benchFolders))]
		if f+"/" != dir {
			return f + "/" + name
		}
	}
}

// latencySource is one row of the latency table.
type latencySource struct {
	name  string
	setup func(ctx context.Context, o options) (*rig, error)
	goal  func(o options) time.Duration
}

func latencySources() []latencySource {
	notified := func(options) time.Duration { return 3 * time.Second }
	return []latencySource{
		{"local", setupLocal, notified},
		{"versitygw", setupVersitygw, notified},
		{"drive-push", func(ctx context.Context, o options) (*rig, error) { return setupDrive(ctx, o, true) }, notified},
		{"drive-poll", func(ctx context.Context, o options) (*rig, error) { return setupDrive(ctx, o, false) },
			func(o options) time.Duration { return o.drivePoll + 3*time.Second }},
	}
}

var sourceTitles = map[string]string{
	"local":      "local folder (fsnotify)",
	"versitygw":  "versitygw webhook",
	"drive-push": "drivefake push",
	"drive-poll": "drivefake polling",
}

// latencyTable measures each selected source on its own fresh server.
func latencyTable(ctx context.Context, o options) error {
	t := newTable(fmt.Sprintf("Change to visible in GET /api/v1/assets (%d changes per source, %s–%s apart)", o.n, o.gapMin, o.gapMax),
		"source", "mode", "changes add/move/delete", "p50 s", "p95 s", "max s", "missed", "live batches", "goal p95", "goal")
	for _, src := range latencySources() {
		if !o.wants(o.sources, src.name) {
			continue
		}
		fmt.Fprintf(logOut, "latency: %s…\n", src.name)
		r, err := src.setup(ctx, o)
		if err != nil {
			if skip, ok := err.(skipError); ok {
				t.add(sourceTitles[src.name], "—", "—", "—", "—", "—", "—", "—", "—", "skipped")
				t.note("%s skipped: %s", sourceTitles[src.name], string(skip))
				continue
			}
			return fmt.Errorf("%s: %w", src.name, err)
		}
		goal := src.goal(o)
		r.sh.batches.reset()
		res, err := measureChanges(ctx, r, o.n, o.gapMin, o.gapMax, goal+30*time.Second)
		bs := r.sh.batches.settledSnapshot()
		r.close()
		if err != nil {
			return fmt.Errorf("%s: %w", src.name, err)
		}
		s := summarize(res.all)
		kinds := fmt.Sprintf("%d/%d/%d", len(res.byKind["add"]), len(res.byKind["move"]), len(res.byKind["delete"]))
		t.add(sourceTitles[src.name], r.mode, kinds, secs(s.p50), secs(s.p95), secs(s.max), res.missed, bs.batches,
			"≤ "+secs(goal), yesNo(res.missed == 0 && s.p95 <= goal))
		var per []string
		for _, k := range sortedKeys(res.byKind) {
			ks := summarize(res.byKind[k])
			per = append(per, fmt.Sprintf("%s p50 %s s / p95 %s s", k, secs(ks.p50), secs(ks.p95)))
		}
		t.note("%s by kind: %s", sourceTitles[src.name], strings.Join(per, "; "))
	}
	t.print()
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// skipError says why a row cannot be measured here (a missing tool).
type skipError string

func (e skipError) Error() string { return string(e) }
