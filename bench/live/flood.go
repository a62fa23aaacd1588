package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

func floodTable(ctx context.Context, o options) error {
	t := newTable(fmt.Sprintf("Flood: %d single-record events/s for %s at one events URL, %d client connections (clients in a separate process)", o.floodRate, o.floodFor, o.floodClients),
		"events sent", "events/s reached", "HTTP answers", "of them for real objects", "peak RSS before", "peak RSS flood and after", "peak goroutines / open files",
		"live batches (re-lists)", "overflow → re-listed", "settled after s", "objects in bucket", "assets in catalog", "equal")
	fmt.Fprintf(logOut, "flood: %d events/s for %s…\n", o.floodRate, o.floodFor)
	s3, err := startS3Process(ctx, "flood")
	if err != nil {
		return err
	}
	defer s3.close()
	for i := range 100 {
		if err := putObject(http.DefaultClient, s3.url, "flood", fmt.Sprintf("seed/%03d.txt", i), []byte("seed")); err != nil {
			return err
		}
	}
	sh, err := startShelf(ctx, o.server(true, nil, ""))
	if err != nil {
		return err
	}
	defer sh.close()
	r, err := connectRig(ctx, sh, "flood", map[string]any{"kind": "s3", "bucket": "flood", "endpoint": s3.url,
		"path_style": true, "access_key_id": "k", "secret_access_key": "s"})
	if err != nil {
		return err
	}
	url, err := r.c.eventsURL()
	if err != nil {
		return err
	}
	time.Sleep(time.Second)
	resetPeakRSS()
	time.Sleep(2 * time.Second) // the idle server's own peak
	before := peakRSS()
	r.sh.batches.reset()
	peaks := startSampler()
	rep, err := runLoad(ctx, loadOptions{events: url, s3: s3.url, bucket: "flood", rate: o.floodRate, duration: o.floodFor,
		clients: o.floodClients, put: o.floodReal, random: true})
	if err != nil {
		return err
	}
	end := time.Now()
	objects, err := countObjects(ctx, r)
	if err != nil {
		return err
	}
	caught, err := waitCaughtUp(ctx, r, objects, 10*time.Minute)
	if err != nil {
		return err
	}
	settledAfter := secs(time.Since(end))
	if !caught {
		settledAfter = "not in " + settledAfter
	}
	peak, peakRes := peakRSS(), peaks.end()
	bs := r.sh.batches.settledSnapshot()
	assets, err := r.sh.countAssets(ctx, r.acct)
	if err != nil {
		return err
	}
	answers := statusCounts{m: rep.Status}
	t.add(rep.Sent, fmt.Sprintf("%.0f", float64(rep.Sent)/rep.Seconds), answers.String(), rep.Puts, mib(before), mib(peak), peakRes,
		fmt.Sprintf("%d (%d)", bs.batches, bs.relists), bs.relists > 0, settledAfter, objects, assets, objects == assets)
	t.note("The events name random keys; a share (-flood-real %g) of them was put in the bucket first by the client process, the rest name nothing. The bucket held 100 objects before. Peak RSS, goroutines and open files are the Shelf process's; s3fake and the clients run in processes of their own. Settled: catalog equals a listing of the bucket and no change waits.", o.floodReal)
	t.print()
	return nil
}
