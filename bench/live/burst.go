package main

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
)

// burstTarget is one S3 account the burst writes into.
type burstTarget struct {
	r      *rig
	bucket string
	// s3fake: the writers' process puts the objects at s3 and posts
	// their events at the events URL; versitygw: put writes in this
	// process and the gateway posts the events.
	events, s3 string
	put        func(ctx context.Context, key string, body []byte) error
	close      func()
}

func burstS3fake(ctx context.Context, o options) (*burstTarget, error) {
	s3, err := startS3Process(ctx, "burst")
	if err != nil {
		return nil, err
	}
	sh, err := startShelf(ctx, o.server(true, nil, ""))
	if err != nil {
		s3.close()
		return nil, err
	}
	fail := func(err error) (*burstTarget, error) {
		sh.close()
		s3.close()
		return nil, err
	}
	r, err := connectRig(ctx, sh, "burst", map[string]any{"kind": "s3", "bucket": "burst", "endpoint": s3.url,
		"path_style": true, "access_key_id": "k", "secret_access_key": "s"})
	if err != nil {
		return fail(err)
	}
	url, err := r.c.eventsURL()
	if err != nil {
		return fail(err)
	}
	return &burstTarget{r: r, bucket: "burst", events: url, s3: s3.url, close: func() { sh.close(); s3.close() }}, nil
}

func burstVersitygw(ctx context.Context, o options) (*burstTarget, error) {
	if _, err := exec.LookPath("versitygw"); err != nil {
		return nil, errNoVersitygw
	}
	sh, err := startShelf(ctx, o.server(true, nil, ""))
	if err != nil {
		return nil, err
	}
	r, err := connectVersitygw(ctx, sh, "burst", "burst")
	if err != nil {
		sh.close()
		return nil, err
	}
	conn := r.ch.(connChanger).conn
	return &burstTarget{r: r, bucket: "burst", close: r.close,
		put: func(ctx context.Context, key string, body []byte) error {
			_, err := conn.Put(ctx, key, bytes.NewReader(body), int64(len(body)), "text/plain")
			return err
		}}, nil
}

// countObjects lists the storage through Shelf's connector of it.
func countObjects(ctx context.Context, r *rig) (int64, error) {
	conn, err := r.sh.svc.Conns.Connector(ctx, r.acct)
	if err != nil {
		return 0, err
	}
	var n int64
	err = conn.Scan(ctx, func(e storage.Entry) error {
		if !e.IsDir {
			n++
		}
		return nil
	})
	return n, err
}

// waitCaughtUp waits until the catalog holds want assets and nothing is
// left to apply; it returns false when limit passed first.
func waitCaughtUp(ctx context.Context, r *rig, want int64, limit time.Duration) (bool, error) {
	err := poll(ctx, limit, 100*time.Millisecond, func() (bool, error) {
		n, err := r.sh.countAssets(ctx, r.acct)
		if err != nil || n != want {
			return false, err
		}
		return r.sh.settled(ctx)
	})
	if err != nil && ctx.Err() == nil && strings.HasPrefix(err.Error(), "not done") {
		return false, nil
	}
	return err == nil, err
}

func burstTable(ctx context.Context, o options) error {
	total := int(float64(o.burstRate) * o.burstFor.Seconds())
	t := newTable(fmt.Sprintf("Burst: %d objects/s for %s into one S3 account", o.burstRate, o.burstFor),
		"storage", "objects/s reached", "events posted", "objects in bucket", "assets in catalog", "lost",
		"behind at burst end", "caught up after end s", "peak RSS to catch-up", "live batches (re-lists)", "runs",
		"longest batch s", "previews done after end s", "peak RSS with previews", "peak goroutines / open files", "full sync changes after")
	for _, store := range o.burstStore {
		fmt.Fprintf(logOut, "burst: %s, %d objects…\n", store, total)
		var bt *burstTarget
		var err error
		switch store {
		case "s3fake":
			bt, err = burstS3fake(ctx, o)
		case "versitygw":
			bt, err = burstVersitygw(ctx, o)
		default:
			return fmt.Errorf("unknown -burst-store %q", store)
		}
		if skip, ok := err.(skipError); ok {
			t.add(store, "skipped")
			t.note("%s skipped: %s", store, string(skip))
			continue
		}
		if err != nil {
			return fmt.Errorf("burst on %s: %w", store, err)
		}
		err = burst(ctx, o, t, store, bt, total)
		bt.close()
		if err != nil {
			return fmt.Errorf("burst on %s: %w", store, err)
		}
	}
	t.note("s3fake: s3fake and the writers run in processes of their own; a writer puts an object, then posts its event (one record per POST, as S3 sends them). versitygw: the writers are in the Shelf process (Shelf's own S3 connector) and the gateway posts the events. Caught up: the catalog holds every object and no change waits. Peak RSS (VmHWM), goroutines and open files are the Shelf process's. Previews are made after the batches, by the preview jobs.")
	t.print()
	return nil
}

func burst(ctx context.Context, o options, t *table, store string, bt *burstTarget, total int) error {
	r := bt.r
	resetPeakRSS()
	r.sh.batches.reset()
	peaks := startSampler()
	rep, err := writeBurst(ctx, o, bt)
	if err != nil {
		return err
	}
	end := time.Now()
	atEnd, err := r.sh.countAssets(ctx, r.acct)
	if err != nil {
		return err
	}
	caught, err := waitCaughtUp(ctx, r, int64(rep.Puts), 10*time.Minute)
	if err != nil {
		return err
	}
	caughtUp := secs(time.Since(end))
	if !caught {
		caughtUp = "not in " + caughtUp
	}
	peakCaught := peakRSS()
	bs := r.sh.batches.settledSnapshot()
	previews := waitPreviews(ctx, r, 10*time.Minute, end)
	peak, peakRes := peakRSS(), peaks.end()
	objects, err := countObjects(ctx, r)
	if err != nil {
		return err
	}
	assets, err := r.sh.countAssets(ctx, r.acct)
	if err != nil {
		return err
	}
	changes := "n/a"
	if n, err := r.c.fullSync(ctx, r.sh, r.acct); err == nil {
		changes = fmt.Sprint(n)
	} else {
		t.note("%s: the full sync after the burst: %v", store, err)
	}
	answers := statusCounts{m: rep.Status}
	events := answers.String()
	if bt.events == "" {
		events = "by versitygw"
	}
	if rep.PutErrs > 0 {
		t.note("%s: %d writes failed", store, rep.PutErrs)
	}
	t.add(store, fmt.Sprintf("%.0f", float64(rep.Puts)/rep.Seconds), events, objects, assets, objects-assets,
		int64(rep.Puts)-atEnd, caughtUp, mib(peakCaught), fmt.Sprintf("%d (%d)", bs.batches, bs.relists), bs.runs,
		secs(bs.longest), previews, mib(peak), peakRes, changes)
	return nil
}

// writeBurst writes the burst's objects: from the writers' process
// (s3fake), or from this one through Shelf's connector (versitygw).
func writeBurst(ctx context.Context, o options, bt *burstTarget) (loadReport, error) {
	if bt.events != "" {
		return runLoad(ctx, loadOptions{events: bt.events, s3: bt.s3, bucket: bt.bucket, rate: o.burstRate,
			duration: o.burstFor, clients: 64, put: 1})
	}
	total := int(float64(o.burstRate) * o.burstFor.Seconds())
	var puts, putErrs atomic.Int64
	took := paced(total, o.burstRate, 64, func(k int) {
		key := fmt.Sprintf("b%02d/obj-%06d.txt", k%50, k)
		if err := bt.put(ctx, key, []byte("bench "+key)); err != nil {
			putErrs.Add(1)
			return
		}
		puts.Add(1)
	})
	return loadReport{Sent: total, Puts: int(puts.Load()), PutErrs: int(putErrs.Load()), Seconds: took.Seconds()}, nil
}

// waitPreviews waits until no preview of the account is left to make and
// says how long after since that was.
func waitPreviews(ctx context.Context, r *rig, limit time.Duration, since time.Time) string {
	err := poll(ctx, limit, 200*time.Millisecond, func() (bool, error) {
		n, err := r.sh.app.Store.CountPendingPreviews(ctx, r.acct, 1)
		return n == 0, err
	})
	if err != nil {
		return "not in " + secs(time.Since(since))
	}
	return secs(time.Since(since))
}
