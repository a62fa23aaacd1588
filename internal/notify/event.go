// Package notify tells people what happened: live events for the web page
// (server-sent events, fanned out per account across processes), the
// persisted notification list, signed webhooks delivered as River jobs, and
// email on a failed sync.
package notify

import (
	"encoding/json"
	"time"
)

// Event types. Webhook subscriptions may also name a family with a
// wildcard ("asset.*").
const (
	SyncStarted   = "sync.started"
	SyncProgress  = "sync.progress"
	SyncCompleted = "sync.completed"
	SyncFailed    = "sync.failed"
	// SyncNeedsConfirmation: the run stopped before removing a large share
	// of the library and waits for an admin.
	SyncNeedsConfirmation = "sync.needs_confirmation"

	// LibraryChanged: a live batch changed the library; the payload is
	// the hour's live run (its counters summed over the hour's batches).
	// Open pages refresh what they show.
	LibraryChanged = "library.changed"

	AssetCreated = "asset.created"
	AssetUpdated = "asset.updated"
	AssetMoved   = "asset.moved"
	AssetDeleted = "asset.deleted"
)

// Event is one live message about an account. It is what subscribers
// receive, what crosses processes through PostgreSQL NOTIFY, and the body
// of a webhook delivery.
type Event struct {
	// ID is unique per event (random); webhook receivers use it to drop
	// duplicates of a retried delivery.
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	AccountID int64     `json:"account_id"`
	RunID     int64     `json:"run_id,omitempty"`
	Time      time.Time `json:"time"`
	// Data is the event's payload: for sync events the run as the API
	// shows it, for asset events the asset.
	Data json.RawMessage `json:"data,omitempty"`
}
