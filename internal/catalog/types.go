package catalog

import (
	"errors"
	"fmt"
	"time"
)

// Errors returned by the store. Callers test them with errors.Is / errors.As.
var (
	ErrNotFound = errors.New("not found")
	// ErrConflict: a unique value (an email, a storage identity) is taken.
	ErrConflict = errors.New("already exists")
	// ErrLeaseLost: the sync lease expired or was taken over.
	ErrLeaseLost = errors.New("sync lease lost")
	// ErrWritesInFlight: library writes are open, and a sync that must not
	// lock the library while they run (AcquireIdleLease) took nothing.
	ErrWritesInFlight = errors.New("library writes are in progress")
	// ErrMoveUnfinished: a folder move was recorded, but rewriting the
	// paths under it stopped part-way; the next library write or sync of
	// the account finishes it.
	ErrMoveUnfinished = errors.New("the folder moved, but updating the paths inside it stopped part-way; the next change or sync of the library finishes it")
)

// LockedError is returned by every library write while a sync holds the
// account's lease.
type LockedError struct {
	RunID int64
	// Live: the lock is a live batch's, held for a moment only; a write
	// may wait for it instead of giving up.
	Live bool
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("the library is locked while sync run %d is in progress; try again when it completes", e.RunID)
}

// Roles of a user within an account.
const (
	RoleAdmin  = "admin"
	RoleEditor = "editor"
	RoleViewer = "viewer"
)

// Sync triggers and states.
const (
	TriggerManual  = "manual"
	TriggerAuto    = "auto"
	TriggerInitial = "initial"
	TriggerCLI     = "cli"
	// TriggerLive: live batches, summed into one run per account and hour.
	TriggerLive = "live"

	RunQueued            = "queued"
	RunRunning           = "running"
	RunSucceeded         = "succeeded"
	RunFailed            = "failed"
	RunNeedsConfirmation = "needs_confirmation"
)

// Account is a team's workspace.
type Account struct {
	ID               int64
	Name             string
	Plan             string
	PlanExplicit     bool
	TrialEndsAt      *time.Time
	NextAutoSyncAt   *time.Time
	LastManualSyncAt *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// User belongs to one account with a role.
type User struct {
	ID           int64
	AccountID    int64
	Email        string
	Name         string
	PasswordHash string
	Role         string
	IsOperator   bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Session is a signed-in browser session; the cookie carries the token whose
// hash is TokenHash.
type Session struct {
	TokenHash  string
	UserID     int64
	CSRFToken  string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastSeenAt time.Time
}

// APIToken is a personal access token; only its hash is stored.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	TokenHash  string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// Connection is an account's storage connection. Config holds the
// non-secret settings as JSON; Secret the encrypted credentials.
type Connection struct {
	AccountID      int64
	Kind           string
	Config         []byte
	Secret         []byte
	RootKey        string
	Status         string // ok | needs_reconnect | error
	StatusMessage  string
	SyncCursor     string
	LastFullScanAt *time.Time
	// EventsKey is the secret of the connection's events URL (live
	// sync's storage notifications); a new one is made on every
	// (re)connect, so an old URL stops working.
	EventsKey string
	// LastChangeAt is when a live batch last changed the library.
	LastChangeAt *time.Time
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Connection statuses.
const (
	ConnOK             = "ok"
	ConnNeedsReconnect = "needs_reconnect"
	ConnError          = "error"
)

// Folder mirrors a storage folder.
type Folder struct {
	ID        int64
	AccountID int64
	ParentID  *int64
	StorageID string
	Name      string
	Path      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Asset is a file in the library with its file facts and team metadata.
type Asset struct {
	ID        int64
	AccountID int64
	FolderID  *int64
	StorageID string
	Name      string
	Path      string

	Size    int64
	ETag    string
	ModTime *time.Time
	MIME    string
	Native  bool

	Width        *int
	Height       *int
	DurationMS   *int64
	TakenAt      *time.Time
	Camera       string
	PreviewState string // pending | ready | icon | error
	PreviewError string

	Title       string
	Description string
	Tags        []string
	Rating      int
	Custom      map[string]string

	RemovedAt *time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Counts are a sync run's counters.
type Counts struct {
	Seen    int64 `json:"seen"`
	Added   int64 `json:"added"`
	Updated int64 `json:"updated"`
	Moved   int64 `json:"moved"`
	Removed int64 `json:"removed"`
	Errors  int64 `json:"errors"`
}

// SyncRun is one sync of an account, kept as history.
type SyncRun struct {
	ID            int64
	AccountID     int64
	Trigger       string
	State         string
	RequestedBy   *int64
	CreatedAt     time.Time
	StartedAt     *time.Time
	FinishedAt    *time.Time
	Counts        Counts
	TotalEstimate *int64
	FullScan      bool
	Error         string
	// Phase, RatePerSecond and ApplyTotal are the rest of a running run's
	// progress (see RunProgress).
	Phase         string
	RatePerSecond *float64
	ApplyTotal    *int64
	// PendingRemovals is how many assets a run stopped by the mass-removal
	// guard would have removed, PendingRemovalPaths the first of their
	// paths (at most MaxPendingRemovalPaths, in path order).
	PendingRemovals     int64
	PendingRemovalPaths []string
}

// Lease is the library lock held by a running sync.
type Lease struct {
	AccountID  int64
	RunID      int64
	Holder     string
	AcquiredAt time.Time
	ExpiresAt  time.Time
}

// Notification is a message for an account's users (UserID nil: all).
type Notification struct {
	ID        int64
	AccountID int64
	UserID    *int64
	Kind      string
	Message   string
	Data      []byte // JSON
	CreatedAt time.Time
	ReadAt    *time.Time
}

// Webhook is an admin-configured HTTP endpoint for events.
type Webhook struct {
	ID             int64
	AccountID      int64
	URL            string
	Secret         []byte // encrypted
	Events         []string
	Enabled        bool
	FailureCount   int
	DisabledReason string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// WebhookDelivery is one attempt to deliver an event to a webhook.
type WebhookDelivery struct {
	ID         int64
	WebhookID  int64
	Event      string
	Payload    []byte
	Attempt    int
	StatusCode *int
	Error      string
	CreatedAt  time.Time
}

// OAuthState is a pending OAuth authorization.
type OAuthState struct {
	State     string
	AccountID int64
	UserID    int64
	Verifier  string
	CreatedAt time.Time
	ExpiresAt time.Time
}
