package web

import (
	"fmt"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/live"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncrun"
)

// liveView is what Settings → Sync and Settings → Storage say about live
// sync (SPEC §3.4) when the plan syncs the account's storage live.
type liveView struct {
	Kind string
	// Mode is how changes arrive now (live.ModePush, ModePolling,
	// ModeError), "" while no process watches the account yet; Note is
	// the watcher's own sentence about it.
	Mode, Note   string
	LastChangeAt *time.Time
	// Reconcile is how often the whole storage is still listed (the
	// plan's auto-sync interval when live).
	Reconcile time.Duration
	// Poll is how often a polled storage is looked at (0: not known).
	Poll time.Duration
}

// liveOf is the live view of a sync status; nil when the plan does not
// sync the storage live.
func (s *Server) liveOf(st syncrun.Status) *liveView {
	if !st.Live || st.StorageKind == "" {
		return nil
	}
	lv := &liveView{Kind: st.StorageKind, Mode: st.LiveMode, Note: st.LiveNote, LastChangeAt: st.LastChangeAt, Reconcile: st.AutoInterval}
	if s.policy != nil {
		switch storage.Kind(st.StorageKind) {
		case storage.KindLocal:
			lv.Poll = s.policy.LocalLivePoll()
		case storage.KindGDrive:
			lv.Poll = s.policy.DriveLivePoll()
		}
	}
	return lv
}

// Headline says in plain words what live means for this storage now.
func (lv liveView) Headline() string {
	where := map[string]string{"local": "in the folder", "s3": "in the bucket", "gdrive": "in Drive"}[lv.Kind]
	if where == "" {
		where = "in the storage"
	}
	switch lv.Mode {
	case live.ModePush:
		switch storage.Kind(lv.Kind) {
		case storage.KindLocal:
			return "Live: changes made in the folder show here within seconds (filesystem notifications)."
		case storage.KindS3:
			return "Live: changes made in the bucket show here within seconds of the bucket's event notifications."
		case storage.KindGDrive:
			return "Live: changes made in Drive show here within seconds (Drive notifies Shelf of each change)."
		}
		return "Live: changes made " + where + " show here within seconds."
	case live.ModePolling:
		within := "shortly"
		if lv.Poll > 0 {
			within = "within about " + spell(lv.Poll)
		}
		if lv.Kind == string(storage.KindGDrive) {
			return "Live: changes made in Drive show here " + within + " (Shelf reads Drive's list of changes that often)."
		}
		return "Live, by polling: changes made " + where + " show here " + within + "."
	case live.ModeError:
		return "Live sync has stopped for now: changes made " + where + " show at the next full check or manual sync."
	}
	return "Live: Shelf is starting to watch the storage; changes made " + where + " will show here within seconds."
}

// ShowNote reports whether the watcher's note adds to the headline: why
// it polls or stopped, and where S3 events come from.
func (lv liveView) ShowNote() bool {
	return lv.Note != "" && (lv.Mode != live.ModePush || lv.Kind == string(storage.KindS3))
}

// Every is the full check's interval in words: "24 hours".
func (lv liveView) Every() string { return spell(lv.Reconcile) }

// spell writes a duration in words: "30 seconds", "5 minutes", "1 hour
// 30 minutes", "24 hours".
func spell(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	d = d.Round(time.Second)
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	var parts []string
	if h > 0 {
		parts = append(parts, unit(h, "hour"))
	}
	if m > 0 {
		parts = append(parts, unit(m, "minute"))
	}
	if s > 0 || len(parts) == 0 {
		parts = append(parts, unit(s, "second"))
	}
	return strings.Join(parts, " ")
}

// liveSetup is the Storage page's live sync section: what, if anything,
// the admin sets up so that changes reach Shelf.
type liveSetup struct {
	liveView
	// EventsURL is where an S3 bucket posts its event notifications.
	EventsURL string
	// PushReady: Shelf has a public https address, so Drive can push.
	PushReady bool
	// Bucket, Prefix and Region of an S3 connection, for the commands.
	Bucket, Prefix, Region string
}

// EventsProtocol is the SNS subscription protocol of the events URL.
func (ls liveSetup) EventsProtocol() string {
	if strings.HasPrefix(ls.EventsURL, "http://") {
		return "http"
	}
	return "https"
}
