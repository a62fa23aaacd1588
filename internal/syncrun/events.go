package syncrun

import (
	"context"
	"encoding/json"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
)

// RunView is a sync run as the API shows it.
type RunView = notify.RunView

// ViewRun turns a run into its API shape.
func ViewRun(r catalog.SyncRun) RunView { return notify.ViewRun(r) }

// publishRun announces a run's state change on the hub.
func (s *Service) publishRun(ctx context.Context, run catalog.SyncRun) {
	typ := notify.RunEventType(run.State)
	if typ == "" {
		return
	}
	s.publish(ctx, typ, run)
}

// publishProgress announces a run's counters (coalesced by the hub).
func (s *Service) publishProgress(ctx context.Context, run catalog.SyncRun) {
	s.publish(ctx, notify.SyncProgress, run)
}

func (s *Service) publish(ctx context.Context, typ string, run catalog.SyncRun) {
	if s.cfg.Hub == nil {
		return
	}
	data, err := json.Marshal(ViewRun(run))
	if err != nil {
		return
	}
	ev := notify.Event{Type: typ, AccountID: run.AccountID, RunID: run.ID, Time: s.now().UTC(), Data: data}
	if err := s.cfg.Hub.Publish(ctx, ev); err != nil {
		s.logger.Warn("publishing live sync event", "type", typ, "run_id", run.ID, "error", err)
	}
}
