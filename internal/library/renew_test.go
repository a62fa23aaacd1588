package library_test

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// slowReader delivers its content after a delay, like a slow upload.
type slowReader struct {
	r     io.Reader
	delay time.Duration
	slept bool
}

func (s *slowReader) Read(p []byte) (int, error) {
	if !s.slept {
		time.Sleep(s.delay)
		s.slept = true
	}
	return s.r.Read(p)
}

// A write that takes longer than its reservation keeps it alive while it
// runs: the upload lands in the catalog (not deferred), and meanwhile a
// sync would see the write in flight.
func TestLongUploadKeepsItsReservation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, sqliteDB, localBackend, func(o *options) { o.intentTTL = 300 * time.Millisecond })
	done := make(chan error, 1)
	var got catalog.Asset
	go func() {
		a, err := f.svc.Upload(f.ctx, f.acct.ID, f.user.ID, nil, "slow.txt", &slowReader{r: strings.NewReader("slow"), delay: time.Second}, -1, "text/plain")
		got = a
		done <- err
	}()
	time.Sleep(700 * time.Millisecond) // past two reservations' length
	n, err := f.store.CountOpenWriteIntents(f.ctx, f.acct.ID, time.Now())
	if err != nil || n != 1 {
		t.Fatalf("open intents during the upload: %d %v, want 1", n, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("slow upload: %v", err)
	}
	if got.Name != "slow.txt" {
		t.Fatalf("uploaded asset: %+v", got)
	}
	if n, _ := f.store.CountOpenWriteIntents(f.ctx, f.acct.ID, time.Now()); n != 0 {
		t.Fatalf("%d intents left open after the upload", n)
	}
}
