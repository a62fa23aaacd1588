package jobs

import (
	"context"
	"encoding/json"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
)

// RunView is a sync run as the API and the live events show it (SPEC §6).
type RunView struct {
	ID            int64          `json:"id"`
	AccountID     int64          `json:"account_id"`
	Trigger       string         `json:"trigger"`
	State         string         `json:"state"`
	CreatedAt     time.Time      `json:"created_at"`
	StartedAt     *time.Time     `json:"started_at"`
	FinishedAt    *time.Time     `json:"finished_at"`
	Counts        catalog.Counts `json:"counts"`
	TotalEstimate *int64         `json:"total_estimate,omitempty"`
	Error         *string        `json:"error"`
}

// ViewRun turns a run into its API shape.
func ViewRun(r catalog.SyncRun) RunView {
	v := RunView{
		ID: r.ID, AccountID: r.AccountID, Trigger: r.Trigger, State: r.State,
		CreatedAt: r.CreatedAt.UTC(), StartedAt: utc(r.StartedAt), FinishedAt: utc(r.FinishedAt),
		Counts: r.Counts, TotalEstimate: r.TotalEstimate,
	}
	if r.Error != "" {
		v.Error = &r.Error
	}
	return v
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// EventType is the live event that announces a run in its state.
func EventType(state string) string {
	switch state {
	case catalog.RunRunning:
		return notify.SyncStarted
	case catalog.RunSucceeded:
		return notify.SyncCompleted
	case catalog.RunNeedsConfirmation:
		return notify.SyncNeedsConfirmation
	case catalog.RunFailed:
		return notify.SyncFailed
	}
	return ""
}

// publishRun announces a run's state change on the hub.
func (s *Service) publishRun(ctx context.Context, run catalog.SyncRun) {
	typ := EventType(run.State)
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
