package notify

import (
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// RunView is a sync run as the API, the live events, the notification list
// and webhooks show it (SPEC §6).
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
		CreatedAt: r.CreatedAt.UTC(), StartedAt: utcPtr(r.StartedAt), FinishedAt: utcPtr(r.FinishedAt),
		Counts: r.Counts, TotalEstimate: r.TotalEstimate,
	}
	if r.Error != "" {
		v.Error = &r.Error
	}
	return v
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// RunEventType is the event that announces a run in its state ("" for a
// queued run).
func RunEventType(state string) string {
	switch state {
	case catalog.RunRunning:
		return SyncStarted
	case catalog.RunSucceeded:
		return SyncCompleted
	case catalog.RunNeedsConfirmation:
		return SyncNeedsConfirmation
	case catalog.RunFailed:
		return SyncFailed
	}
	return ""
}
