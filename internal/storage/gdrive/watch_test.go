package gdrive_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/gdrive"
	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

const channelID = "4ba78bf0-6a47-11e2-bcfd-0800200c9a77"

// nextNotification waits a few seconds for the receiver's next message.
func nextNotification(t *testing.T, r *drivefake.Receiver) drivefake.Notification {
	t.Helper()
	n, ok := r.Next(5 * time.Second)
	if !ok {
		t.Fatal("no notification arrived within 5s")
	}
	return n
}

// noNotification checks that the fake sent the receiver nothing more.
func noNotification(t *testing.T, f *drivefake.Server, r *drivefake.Receiver) {
	t.Helper()
	f.FlushNotifications()
	for _, n := range r.Pending() {
		t.Errorf("unexpected %q notification", n.State())
	}
}

func TestWatchChangesNotifiesUntilStopped(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	ctx := context.Background()
	rcv := drivefake.NewReceiver(t)
	cursor := startCursor(t, b.conn)

	before := time.Now()
	ch, err := b.conn.WatchChanges(ctx, cursor, rcv.URL, channelID, "secret-token", time.Hour)
	if err != nil {
		t.Fatalf("WatchChanges: %v", err)
	}
	if ch.ID != channelID || ch.ResourceID == "" ||
		ch.Expiration.Before(before.Add(time.Hour).Truncate(time.Millisecond)) || ch.Expiration.After(time.Now().Add(time.Hour)) {
		t.Fatalf("WatchChanges = %+v, want the channel ID, a resource ID and an hour's life", ch)
	}
	header := func(n drivefake.Notification, state string) int {
		t.Helper()
		h := n.Header
		if n.State() != state || h.Get("X-Goog-Channel-ID") != channelID || h.Get("X-Goog-Channel-Token") != "secret-token" ||
			h.Get("X-Goog-Resource-ID") != ch.ResourceID {
			t.Errorf("%s message has headers %v, want the channel, its token and its resource", state, h)
		}
		num, err := strconv.Atoi(h.Get("X-Goog-Message-Number"))
		if err != nil {
			t.Errorf("%s message number %q", state, h.Get("X-Goog-Message-Number"))
		}
		return num
	}
	syncNum := header(nextNotification(t, rcv), "sync")

	id := b.fake.CreateFile(b.rootID, "new.jpg", "image/jpeg", []byte("n"))
	if num := header(nextNotification(t, rcv), "change"); num <= syncNum {
		t.Errorf("change message number %d not after the sync message's %d", num, syncNum)
	}
	chs, _, _ := drain(t, b.conn, cursor)
	if len(chs) != 1 || chs[0].ID != id {
		t.Errorf("after the notification the feed has %+v, want the new file", chs)
	}

	if err := b.conn.StopChannel(ctx, ch); err != nil {
		t.Fatalf("StopChannel: %v", err)
	}
	b.fake.CreateFile(b.rootID, "later.jpg", "image/jpeg", []byte("l"))
	noNotification(t, b.fake, rcv)
	if err := b.conn.StopChannel(ctx, ch); err != nil {
		t.Errorf("stopping a channel that is gone: %v, want no error", err)
	}
	if w, s := b.fake.Calls("changes.watch"), b.fake.Calls("channels.stop"); w != 1 || s != 2 {
		t.Errorf("calls: changes.watch %d, channels.stop %d; want 1 and 2", w, s)
	}
}

func TestWatchChangesLifetime(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Now()}
	b := setup(t, drivefake.Options{Now: clk.Now})
	ctx := context.Background()
	for _, ttl := range []time.Duration{30 * 24 * time.Hour, 0} {
		rcv := drivefake.NewReceiver(t)
		ch, err := b.conn.WatchChanges(ctx, "", rcv.URL, "week-"+ttl.String(), "", ttl)
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Until(ch.Expiration); d > gdrive.MaxChannelTTL || d < gdrive.MaxChannelTTL-time.Minute {
			t.Errorf("ttl %v: the channel lives %v, want Drive's maximum, a week", ttl, d)
		}
	}

	rcv := drivefake.NewReceiver(t)
	if _, err := b.conn.WatchChanges(ctx, "", rcv.URL, channelID, "", time.Hour); err != nil {
		t.Fatal(err)
	}
	nextNotification(t, rcv) // sync
	clk.advance(2 * time.Hour)
	b.fake.CreateFile(b.rootID, "a.jpg", "image/jpeg", nil)
	noNotification(t, b.fake, rcv)
}

func TestWatchChangesSharedDrive(t *testing.T) {
	t.Parallel()
	fake := drivefake.New(t, drivefake.Options{})
	drv := fake.CreateSharedDrive("Team")
	conn := connect(t, fake, drv, nil)
	rcv := drivefake.NewReceiver(t)
	if _, err := conn.WatchChanges(context.Background(), startCursor(t, conn), rcv.URL, channelID, "", time.Hour); err != nil {
		t.Fatal(err)
	}
	nextNotification(t, rcv) // sync
	fake.CreateFile("root", "mine.txt", "text/plain", nil)
	noNotification(t, fake, rcv)
	fake.CreateFile(drv, "team.txt", "text/plain", nil)
	if n := nextNotification(t, rcv); n.State() != "change" {
		t.Errorf("a change in the shared drive gave a %q message", n.State())
	}
}

func TestWatchChangesRefusals(t *testing.T) {
	t.Parallel()
	b := setup(t, drivefake.Options{})
	ctx := context.Background()
	cursor := startCursor(t, b.conn)

	_, err := b.conn.WatchChanges(ctx, cursor, "http://shelf.example.com/drive", channelID, "", time.Hour)
	mustClass(t, err, storage.ErrFatal)
	if errors.Is(err, storage.ErrInvalidCursor) || !strings.Contains(err.Error(), "https") {
		t.Errorf("plain http address: %v, want a fatal error that asks for https", err)
	}

	// The reply is lost and the call retried: the ID is taken by then.
	rcv := drivefake.NewReceiver(t)
	b.fake.FailAfterNext("changes.watch", 1, drivefake.FaultUnavailable)
	_, err = b.conn.WatchChanges(ctx, cursor, rcv.URL, channelID, "", time.Hour)
	mustClass(t, err, storage.ErrExists)

	b.fake.ExpireChangeTokens()
	_, err = b.conn.WatchChanges(ctx, cursor, rcv.URL, "another-id", "", time.Hour)
	mustClass(t, err, storage.ErrInvalidCursor)
}

func TestWatchChangesRevokedGrant(t *testing.T) {
	t.Parallel()
	fake, cfg := oauthSetup(t)
	authURL, verifier := cfg.AuthCodeURL("s")
	tok, err := cfg.Exchange(context.Background(), consent(t, authURL).Get("code"), verifier)
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, fake, "root", func(c *gdrive.Config) { c.TokenSource = cfg.TokenSource(tok, nil) })
	cursor := startCursor(t, conn) // resolves the root while the grant holds
	fake.RevokeAll()
	_, err = conn.WatchChanges(context.Background(), cursor, drivefake.NewReceiver(t).URL, channelID, "", time.Hour)
	mustClass(t, err, storage.ErrAuth)
	if fake.Calls("changes.watch") == 0 {
		t.Error("WatchChanges failed before it called changes.watch")
	}
}

// clock is a settable time source for the fake.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
