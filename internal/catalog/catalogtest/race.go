package catalogtest

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// testLockRace runs library writers against a sync that repeatedly takes
// the lease, waits for writes in flight, and "scans": no write may land
// while the sync holds the lease after the wait, and every write that got
// its intent (so reached the storage) must land in the catalog.
func testLockRace(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx := f.store, f.ctx
	acct := f.accA.ID
	const (
		writers = 4
		rounds  = 6
		ttl     = time.Minute
	)
	var (
		stop     atomic.Bool
		refused  atomic.Int64
		mu       sync.Mutex
		inStore  []string // what reached the "storage"
		wg       sync.WaitGroup
		failures = make(chan string, 100)
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				intent, err := s.BeginWriteIntent(ctx, acct, f.adminA.ID, "upload", time.Now(), ttl)
				var le *catalog.LockedError
				if errors.As(err, &le) {
					refused.Add(1)
					time.Sleep(time.Millisecond)
					continue
				}
				if err != nil {
					failures <- fmt.Sprintf("BeginWriteIntent: %v", err)
					return
				}
				key := fmt.Sprintf("w%d-%05d.bin", w, i)
				mu.Lock()
				inStore = append(inStore, key)
				mu.Unlock()
				if _, err := s.PutUploadedAsset(ctx, acct, intent, catalog.Asset{Name: key, StorageID: key, Size: 1}, time.Now()); err != nil {
					failures <- fmt.Sprintf("write %s reached the storage but not the catalog: %v", key, err)
					return
				}
			}
		}()
	}

	count := func() int64 {
		n, err := s.CountAssets(ctx, catalog.AssetQuery{AccountID: acct, Recursive: true})
		if err != nil {
			failures <- fmt.Sprintf("CountAssets: %v", err)
		}
		return n
	}
	for r := range rounds {
		run, err := s.CreateSyncRun(ctx, catalog.SyncRun{AccountID: acct, Trigger: catalog.TriggerAuto, State: catalog.RunRunning}, time.Now())
		must(t, err, "CreateSyncRun")
		holder := fmt.Sprintf("sync-%d", r)
		_, err = s.AcquireLease(ctx, acct, run.ID, holder, time.Now(), ttl)
		must(t, err, "AcquireLease")
		for {
			n, err := s.CountOpenWriteIntents(ctx, acct, time.Now())
			must(t, err, "CountOpenWriteIntents")
			if n == 0 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		before := count()
		time.Sleep(30 * time.Millisecond) // the scan; writers keep trying
		if after := count(); after != before {
			t.Errorf("round %d: %d writes landed while the sync held the lease", r, after-before)
		}
		must(t, s.ReleaseLease(ctx, acct, run.ID, holder), "ReleaseLease")
		run.State = catalog.RunSucceeded
		must(t, s.UpdateSyncRun(ctx, run), "UpdateSyncRun")
		time.Sleep(15 * time.Millisecond) // the library is open; writers get through
	}
	stop.Store(true)
	wg.Wait()
	close(failures)
	for msg := range failures {
		t.Error(msg)
	}

	mu.Lock()
	defer mu.Unlock()
	if n := count(); n != int64(len(inStore)) {
		t.Fatalf("catalog holds %d assets, the storage %d", n, len(inStore))
	}
	for _, key := range inStore {
		if _, err := s.GetAssetByStorageID(ctx, acct, key); err != nil {
			t.Fatalf("write %s lost: %v", key, err)
		}
	}
	if len(inStore) == 0 || refused.Load() == 0 {
		t.Fatalf("the race did not happen: %d writes landed, %d refused", len(inStore), refused.Load())
	}
	t.Logf("%d writes landed, %d refused while locked, over %d sync rounds", len(inStore), refused.Load(), rounds)
}
