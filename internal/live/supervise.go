package live

import (
	"context"
	"slices"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// rowTTL is how long a live_watchers (and live_nodes) row lives without
// renewal: LeaseTTL less one supervision round, so that a dead process's
// accounts are claimed by another (at its next round after the rows
// expired) within LeaseTTL of the death. Rows are renewed every round.
func (s *Service) rowTTL() time.Duration { return s.cfg.LeaseTTL - s.cfg.SuperviseEvery }

// supervise keeps this process's share of the live accounts watched: it
// renews the rows it holds, stops watching accounts it lost or that are no
// longer live (plan changed, storage disconnected or needing a reconnect),
// claims unwatched live accounts up to a fair share of them (the live
// accounts divided among the processes taking part), and gives up what it
// holds beyond that share so a process that joined gets its part.
func (s *Service) supervise(ctx context.Context) {
	now := s.cfg.Now()
	holder := s.Holder()
	others, err := s.cfg.Store.LiveHeartbeat(ctx, holder, now, s.rowTTL())
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("live sync heartbeat", "error", err)
		}
		return
	}
	held, err := s.cfg.Store.RenewLiveWatchers(ctx, holder, now, s.rowTTL())
	if err != nil {
		if ctx.Err() == nil {
			s.log.Warn("renewing live watchers", "error", err)
		}
		return
	}
	heldSet := make(map[int64]bool, len(held))
	for _, id := range held {
		heldSet[id] = true
	}
	cands, err := s.cfg.Store.ListLiveCandidates(ctx)
	if err != nil {
		s.log.Warn("listing live accounts", "error", err)
		return
	}
	want := make(map[int64]catalog.LiveCandidate)
	order := make([]int64, 0)
	for _, c := range cands {
		if c.Status == catalog.ConnOK && s.cfg.Policy.Live(c.Plan, c.Kind) {
			want[c.AccountID] = c
			order = append(order, c.AccountID)
		}
	}
	// Lost (taken over after expiry) or no longer live: stop watching.
	// Reconnected (another folder, bucket or Drive): watch afresh.
	s.mu.Lock()
	var drop, restart []*watcher
	for id, w := range s.watchers {
		switch {
		case !heldSet[id] || want[id].AccountID == 0:
			drop = append(drop, w)
			delete(s.watchers, id)
			delete(s.backoff, id)
			delete(s.wait, id)
		case want[id].EventsKey != w.conn:
			restart = append(restart, w)
			delete(s.watchers, id)
		}
	}
	s.mu.Unlock()
	for _, w := range drop {
		w.stop()
		if heldSet[w.account] {
			if err := s.cfg.Store.ReleaseLiveWatcher(ctx, w.account, holder); err != nil {
				s.log.Warn("giving up a live account", "account_id", w.account, "error", err)
			}
		}
		s.log.Info("stopped watching an account", "account_id", w.account, "still_held", heldSet[w.account])
	}
	for _, w := range restart {
		w.stop() // closes its Drive channel
		s.log.Info("storage reconnected; watching it afresh", "account_id", w.account)
		s.start(ctx, want[w.account], catalog.LiveWatcher{})
	}
	s.mu.Lock()
	mine := len(s.watchers)
	s.mu.Unlock()
	// Rows held by this process without a watcher (a watcher of a former
	// run of this process name) are taken up again below.
	rows, err := s.cfg.Store.ListLiveWatchers(ctx)
	if err != nil {
		s.log.Warn("listing live watchers", "error", err)
		return
	}
	taken := make(map[int64]catalog.LiveWatcher, len(rows))
	for _, r := range rows {
		if r.Holder != holder {
			taken[r.AccountID] = r // an expired one is claimable; its channel is stopped
		}
	}
	share := (len(want) + others) / (others + 1) // ceil(live accounts / processes)
	for _, id := range order {
		if mine >= share {
			break
		}
		s.mu.Lock()
		_, watching := s.watchers[id]
		s.mu.Unlock()
		if watching {
			continue
		}
		if r, ok := taken[id]; ok && r.ExpiresAt.After(now) {
			continue
		}
		prev, ok, err := s.cfg.Store.ClaimLiveWatcher(ctx, id, holder, now, s.rowTTL())
		if err != nil {
			s.log.Warn("claiming a live account", "account_id", id, "error", err)
			continue
		}
		if !ok {
			continue
		}
		s.start(ctx, want[id], prev)
		mine++
	}
	if others > 0 && mine > share+1 {
		s.shed(ctx, mine-share)
	}
}

// shed gives up n watched accounts (the last claimed first) for other
// processes to take over; their changes wait in live_events meanwhile.
func (s *Service) shed(ctx context.Context, n int) {
	s.mu.Lock()
	ids := make([]int64, 0, len(s.watchers))
	for id := range s.watchers {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var drop []*watcher
	for _, id := range ids[len(ids)-n:] {
		drop = append(drop, s.watchers[id])
		delete(s.watchers, id)
	}
	s.mu.Unlock()
	for _, w := range drop {
		w.stop()
		if err := s.cfg.Store.ReleaseLiveWatcher(ctx, w.account, s.Holder()); err != nil {
			s.log.Warn("giving up a live account", "account_id", w.account, "error", err)
		}
	}
	s.log.Info("gave up live accounts for other processes", "count", len(drop))
}
