package live

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/live/fswatch"
	"github.com/shelf-dam/shelf/internal/storage"
)

// Watch modes, as live_watchers.mode and the Sync page show them.
const (
	ModePush    = "push"
	ModePolling = "polling"
	ModeError   = "error"
)

// watcher is this process watching one live account.
type watcher struct {
	account int64
	// conn is the connection it watches (its events key): a reconnect
	// makes a new one, and the watcher is started afresh.
	conn   string
	cancel context.CancelFunc
	done   chan struct{}
}

func (w *watcher) stop() {
	w.cancel()
	<-w.done
}

// start begins watching an account this process just claimed. prev is the
// row as the previous holder left it (a Drive channel to stop).
func (s *Service) start(ctx context.Context, c catalog.LiveCandidate, prev catalog.LiveWatcher) {
	wctx, cancel := context.WithCancel(ctx)
	w := &watcher{account: c.AccountID, conn: c.EventsKey, cancel: cancel, done: make(chan struct{})}
	s.mu.Lock()
	s.watchers[c.AccountID] = w
	s.mu.Unlock()
	s.log.Info("watching an account live", "account_id", c.AccountID, "kind", c.Kind)
	go func() {
		defer close(w.done)
		s.watch(wctx, c, prev)
	}()
}

// watch runs the account's source until ctx ends, retrying a source that
// failed (the storage unreachable) after a pause. Each time a source
// starts, changes made while nobody watched are found by re-listing (Drive:
// by reading the feed from the saved cursor): for a local folder once its
// watches are in place, so nothing falls between the two.
func (s *Service) watch(ctx context.Context, c catalog.LiveCandidate, prev catalog.LiveWatcher) {
	pause := 5 * time.Second
	for ctx.Err() == nil {
		if storage.Kind(c.Kind) != storage.KindLocal {
			s.record(ctx, c.AccountID, []string{""})
		}
		var err error
		switch storage.Kind(c.Kind) {
		case storage.KindLocal:
			err = s.watchLocal(ctx, c.AccountID)
		case storage.KindGDrive:
			err = s.watchDrive(ctx, c.AccountID, prev)
			prev = catalog.LiveWatcher{}
		case storage.KindS3:
			s.setMode(ctx, c.AccountID, ModePush, "Changes arrive as bucket event notifications posted to the events URL in Settings → Storage.")
			<-ctx.Done()
			return
		default:
			return
		}
		if ctx.Err() != nil {
			return
		}
		s.log.Warn("live watch stopped; starting it again shortly", "account_id", c.AccountID, "error", err, "in", pause)
		s.setMode(ctx, c.AccountID, ModeError, plainError(err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Minute)
	}
}

func plainError(err error) string {
	if err == nil {
		return ""
	}
	return "Watching stopped: " + err.Error() + ". Shelf tries again shortly; the regular sync still runs."
}

func (s *Service) setMode(ctx context.Context, accountID int64, mode, note string) {
	if err := s.cfg.Store.SetLiveWatcherMode(ctx, accountID, s.Holder(), mode, note); err != nil && ctx.Err() == nil {
		s.log.Warn("recording the live mode", "account_id", accountID, "error", err)
	}
}

// watchLocal watches a local folder with filesystem notifications, or
// re-lists it every LocalLivePoll where it cannot be watched.
func (s *Service) watchLocal(ctx context.Context, accountID int64) error {
	conn, err := s.cfg.Connectors.Connector(ctx, accountID)
	if err != nil {
		return err
	}
	d, ok := conn.(interface{ Dir() string })
	if !ok {
		return fmt.Errorf("the local connector does not say its folder")
	}
	s.setMode(ctx, accountID, ModePush, "Changes in the folder are noticed as they happen (filesystem notifications).")
	// The watcher's own debounce is short: live_events debounces again.
	opts := fswatch.Options{Debounce: 50 * time.Millisecond, MaxDelay: s.cfg.MaxDelay, MaxPaths: s.cfg.MaxPending, Logger: s.log,
		Ready: func() { s.record(ctx, accountID, []string{""}) }}
	werr := s.cfg.WatchFolder(ctx, d.Dir(), opts,
		func(b fswatch.Batch) {
			if b.Overflow {
				s.record(ctx, accountID, []string{""})
				return
			}
			s.record(ctx, accountID, b.Paths)
		})
	if ctx.Err() != nil {
		return nil
	}
	if !errors.Is(werr, fswatch.ErrUnsupported) {
		return werr
	}
	every := s.cfg.Policy.LocalLivePoll()
	s.setMode(ctx, accountID, ModePolling, fmt.Sprintf("This folder cannot be watched (%s), so Shelf looks for changes every %s instead.", werr.Error(), every))
	// Every look lists the folder (names, sizes, times) without the
	// catalog; a difference from the last look queues a re-list.
	last, err := folderFingerprint(ctx, d.Dir())
	if err != nil {
		return err
	}
	s.record(ctx, accountID, []string{""})
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		fp, err := folderFingerprint(ctx, d.Dir())
		if err != nil {
			return err
		}
		if fp != last {
			last = fp
			s.record(ctx, accountID, []string{""})
		}
	}
}

// watchDrive reads the account's changes feed every DriveLivePoll — one
// changes.list call when nothing changed — and, where Shelf has a public
// URL Drive can post to, keeps a changes.watch channel open so that a
// change is read at once.
func (s *Service) watchDrive(ctx context.Context, accountID int64, prev catalog.LiveWatcher) error {
	conn, err := s.cfg.Connectors.Connector(ctx, accountID)
	if err != nil {
		return err
	}
	changer, ok := conn.(storage.Changer)
	if !ok {
		return fmt.Errorf("the Drive connector has no changes feed")
	}
	every := s.cfg.Policy.DriveLivePoll()
	if prev.ChannelID != "" {
		s.stopChannel(ctx, conn, prev)
	}
	push := s.openChannels(ctx, accountID, conn)
	defer push.close()
	if push.ok() {
		s.setMode(ctx, accountID, ModePush, fmt.Sprintf("Drive tells Shelf of each change as it happens; the changes feed is also read every %s.", every))
	} else {
		note := fmt.Sprintf("Shelf reads Drive's changes feed every %s.", every)
		if push.reason != "" {
			note += " " + push.reason
		}
		s.setMode(ctx, accountID, ModePolling, note)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-push.renew():
			push.rotate(ctx)
			continue
		}
		c, err := s.cfg.Store.GetConnection(ctx, accountID)
		if err != nil {
			return err
		}
		if c.SyncCursor == "" {
			continue // no full scan yet: nothing to read from
		}
		changes, _, _, err := changer.Changes(ctx, c.SyncCursor)
		switch {
		case errors.Is(err, storage.ErrInvalidCursor):
			s.record(ctx, accountID, []string{""}) // the batch lists in full
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			return err
		case len(changes) > 0:
			s.record(ctx, accountID, []string{""})
		}
	}
}

// channels keeps one Drive push channel open and renews it before it
// expires.
type channels struct {
	s       *Service
	account int64
	conn    storage.Connector
	cw      storage.ChangeWatcher
	address string
	cur     catalog.LiveWatcher
	timer   *time.Timer
	reason  string // why there is no push (for the Sync page)
}

// openChannels opens the account's push channel when Shelf's public URL
// can receive it: https (Drive refuses anything else), or a loopback
// address (the tests' Drive fake).
func (s *Service) openChannels(ctx context.Context, accountID int64, conn storage.Connector) *channels {
	ch := &channels{s: s, account: accountID, conn: conn}
	cw, ok := conn.(storage.ChangeWatcher)
	if !ok {
		return ch
	}
	u, err := url.Parse(s.cfg.PublicURL)
	if err != nil || s.cfg.PublicURL == "" || (u.Scheme != "https" && !loopback(u.Hostname())) {
		ch.reason = "For changes to show at once, give Shelf a public https address (SHELF_PUBLIC_URL): Drive then pushes each change."
		return ch
	}
	key, err := s.cfg.Store.EventsKey(ctx, accountID)
	if err != nil {
		ch.reason = "The push channel could not be opened: " + err.Error()
		return ch
	}
	ch.cw, ch.address = cw, strings.TrimSuffix(s.cfg.PublicURL, "/")+"/api/v1/storage/events/"+key
	ch.rotate(ctx)
	return ch
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (c *channels) ok() bool { return c.cur.ChannelID != "" }

// renew fires when the channel should be replaced.
func (c *channels) renew() <-chan time.Time {
	if c.timer == nil {
		return nil
	}
	return c.timer.C
}

// defaultChannelTTL is the lifetime asked for when Config.DriveChannelTTL
// is 0; channels are replaced an hour before they end.
const defaultChannelTTL = 24 * time.Hour

// rotate opens a new channel, then stops the old one.
func (c *channels) rotate(ctx context.Context) {
	if c.cw == nil {
		return
	}
	conn, err := c.s.cfg.Store.GetConnection(ctx, c.account)
	if err != nil {
		return
	}
	id, token := randomHex(16), randomHex(24)
	ttl := c.s.cfg.DriveChannelTTL
	if ttl <= 0 {
		ttl = defaultChannelTTL
	}
	got, err := c.cw.WatchChanges(ctx, conn.SyncCursor, c.address, id, token, ttl)
	if err != nil {
		c.reason = "Drive refused the push channel (" + err.Error() + "); Shelf polls instead."
		c.s.log.Warn("opening a Drive push channel", "account_id", c.account, "error", err)
		c.timer = time.NewTimer(15 * time.Minute) // try again later
		return
	}
	old := c.cur
	exp := got.Expiration
	c.cur = catalog.LiveWatcher{ChannelID: got.ID, ChannelResource: got.ResourceID, ChannelToken: token, ChannelExpires: &exp}
	if err := c.s.cfg.Store.SetLiveChannel(ctx, c.account, c.s.Holder(), got.ID, got.ResourceID, token, &exp); err != nil {
		c.s.log.Warn("recording the Drive push channel", "account_id", c.account, "error", err)
	}
	// An hour before the end, or half-way; never sooner than a minute
	// (or half the asked lifetime, when that is shorter), so an expiry
	// Drive cut short cannot make Shelf open channels in a loop.
	c.timer = time.NewTimer(max(time.Until(exp)-time.Hour, time.Until(exp)/2, min(time.Minute, ttl/2)))
	if old.ChannelID != "" {
		c.s.stopChannel(ctx, c.conn, old)
	}
}

// close stops the open channel (the watch ended).
func (c *channels) close() {
	if c.timer != nil {
		c.timer.Stop()
	}
	if c.cur.ChannelID == "" {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.s.stopChannel(ctx, c.conn, c.cur)
	if err := c.s.cfg.Store.SetLiveChannel(ctx, c.account, c.s.Holder(), "", "", "", nil); err != nil {
		c.s.log.Debug("clearing the Drive push channel", "account_id", c.account, "error", err)
	}
}

func (s *Service) stopChannel(ctx context.Context, conn storage.Connector, w catalog.LiveWatcher) {
	cw, ok := conn.(storage.ChangeWatcher)
	if !ok || w.ChannelID == "" {
		return
	}
	ch := storage.Channel{ID: w.ChannelID, ResourceID: w.ChannelResource}
	if err := cw.StopChannel(ctx, ch); err != nil {
		s.log.Warn("stopping a Drive push channel", "channel_id", w.ChannelID, "error", err)
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
