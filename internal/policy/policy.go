// Package policy decides who may sync when: the automatic-sync interval and
// the manual-sync cooldown of every plan and storage kind (SPEC §3.1), the
// and the operator's overrides of that table. (The trial's length is a
// setting of its own, SHELF_TRIAL_DAYS.)
//
// Everything here is a pure function of its arguments (plan, storage kind,
// times); the package imports nothing of the application, so the API, the
// scheduler and the CLI all reach the same answer.
package policy

import (
	"time"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Plans, in display order: the same names the catalog stores.
const (
	PlanFree       = "free"
	PlanPayg       = "payg"
	PlanMicro      = "micro"
	PlanSmall      = "small"
	PlanMedium     = "medium"
	PlanEnterprise = "enterprise"
	PlanTrial      = "trial"
)

// PlanOrder lists the plans from the smallest to the largest. It decides
// which plan a refused manual sync suggests.
var planOrder = []string{PlanFree, PlanPayg, PlanMicro, PlanSmall, PlanMedium, PlanEnterprise, PlanTrial}

// Limits are the sync limits of one plan for one storage kind.
type Limits struct {
	// AutoInterval is the time between automatic syncs; 0 means none.
	AutoInterval time.Duration
	// ManualCooldown is the least time between two manual syncs; 0 means
	// a manual sync is allowed any time.
	ManualCooldown time.Duration
	// Live: changes made in the storage show within seconds (SPEC §3.4);
	// AutoInterval is then the reconciliation's interval.
	Live bool
}

// Live sync defaults (policy file keys live_reconcile, drive_live_poll,
// local_live_poll).
const (
	// DefaultLiveReconcile is how often a live account is still listed in
	// full (or read from the Drive changes feed), in case events were lost.
	DefaultLiveReconcile = 24 * time.Hour
	// DefaultDriveLivePoll is how often a live Drive account's changes
	// feed is polled: one changes.list call when nothing changed.
	DefaultDriveLivePoll = 15 * time.Second
	// DefaultLocalLivePoll is how often a live local folder that cannot be
	// watched (watch limit, network mount) is re-listed instead.
	DefaultLocalLivePoll = 30 * time.Second
)

// PlanLimits are one plan's limits per storage column. Local folders
// follow Drive unless the operator gives them their own column.
type PlanLimits struct {
	Drive Limits
	S3    Limits
	Local Limits
}

// Policy is the plans table in force: the built-in defaults, possibly
// overridden by the operator's policy file. The zero value is not usable;
// build one with Default or Load. A Policy is read-only once built and safe
// for concurrent use.
type Policy struct {
	plans map[string]PlanLimits
	// s3AutoSync enables automatic sync of S3 connections; off by default,
	// in which case S3 auto intervals are ignored (a "live" S3 column
	// counts anyway: the operator asked for it).
	s3AutoSync bool
	// liveReconcile, driveLivePoll and localLivePoll: see the Default*
	// constants.
	liveReconcile, driveLivePoll, localLivePoll time.Duration
}

// Default returns the built-in table of SPEC §3.1.
func Default() *Policy {
	p := &Policy{plans: map[string]PlanLimits{}, liveReconcile: DefaultLiveReconcile,
		driveLivePoll: DefaultDriveLivePoll, localLivePoll: DefaultLocalLivePoll}
	row := func(auto, manual time.Duration) PlanLimits {
		drive := Limits{AutoInterval: auto, ManualCooldown: manual}
		// S3 has no auto-sync by default; when the operator enables it,
		// the Drive interval applies unless the file sets another.
		s3 := Limits{AutoInterval: auto, ManualCooldown: manual}
		return PlanLimits{Drive: drive, S3: s3, Local: drive}
	}
	p.plans[PlanFree] = row(0, 60*time.Minute)
	p.plans[PlanPayg] = row(0, 15*time.Minute)
	p.plans[PlanMicro] = row(30*time.Minute, 0)
	p.plans[PlanSmall] = row(15*time.Minute, 0)
	p.plans[PlanMedium] = row(5*time.Minute, 0)
	p.plans[PlanEnterprise] = row(5*time.Minute, 0)
	p.plans[PlanTrial] = row(5*time.Minute, 0)
	return p
}

// Plans returns every plan name in display order.
func Plans() []string { return append([]string(nil), planOrder...) }

// KnownPlan reports whether plan is one of the plans Shelf has.
func KnownPlan(plan string) bool {
	for _, p := range planOrder {
		if p == plan {
			return true
		}
	}
	return false
}

// S3AutoSync reports whether the operator enabled automatic sync for S3.
func (p *Policy) S3AutoSync() bool { return p.s3AutoSync }

// Limits returns the limits of a plan for a storage kind. An unknown plan
// gets the free plan's limits (the most restrictive), an unknown kind the
// Drive column. S3 auto-sync is reported as none unless enabled.
func (p *Policy) Limits(plan, kind string) Limits {
	row, ok := p.plans[plan]
	if !ok {
		row = p.plans[PlanFree]
	}
	var l Limits
	switch storage.Kind(kind) {
	case storage.KindS3:
		l = row.S3
		if !p.s3AutoSync && !l.Live {
			l.AutoInterval = 0
		}
	case storage.KindLocal:
		l = row.Local
	default:
		l = row.Drive
	}
	if l.Live {
		l.AutoInterval = p.liveReconcile
	}
	return l
}

// Live reports whether a plan's accounts on a storage kind sync live.
func (p *Policy) Live(plan, kind string) bool { return p.Limits(plan, kind).Live }

// DriveLivePoll is how often a live Drive account's changes feed is read.
func (p *Policy) DriveLivePoll() time.Duration { return p.driveLivePoll }

// LocalLivePoll is how often a live local folder that cannot be watched
// is re-listed.
func (p *Policy) LocalLivePoll() time.Duration { return p.localLivePoll }

// LiveReconcile is how often a live account is still synced in full.
func (p *Policy) LiveReconcile() time.Duration { return p.liveReconcile }

// WithLive returns a copy of the policy in which plan's accounts on every
// storage kind sync live (shelf demo).
func (p *Policy) WithLive(plan string) *Policy {
	c := *p
	c.plans = make(map[string]PlanLimits, len(p.plans))
	for k, v := range p.plans {
		c.plans[k] = v
	}
	row := c.plans[plan]
	row.Drive.Live, row.S3.Live, row.Local.Live = true, true, true
	c.plans[plan] = row
	return &c
}

// AutoInterval returns the automatic-sync interval of a plan and storage
// kind; 0 means the account has no automatic sync.
func (p *Policy) AutoInterval(plan, kind string) time.Duration {
	return p.Limits(plan, kind).AutoInterval
}

// NextAutoSync returns when the next automatic sync is due, counted from
// from (the end of the latest sync, or the moment the plan changed); nil
// when the plan has no automatic sync for this kind of storage.
func (p *Policy) NextAutoSync(plan, kind string, from time.Time) *time.Time {
	iv := p.AutoInterval(plan, kind)
	if iv <= 0 {
		return nil
	}
	t := from.Add(iv)
	return &t
}

// ManualAvailableAt returns the moment a manual sync becomes allowed given
// the latest manual sync (nil: none yet). The zero time means "at once":
// the first manual sync is always allowed, and so is every one on a plan
// without a cooldown. The result may lie in the past.
func (p *Policy) ManualAvailableAt(plan, kind string, lastManual *time.Time) time.Time {
	cd := p.Limits(plan, kind).ManualCooldown
	if cd <= 0 || lastManual == nil {
		return time.Time{}
	}
	return lastManual.Add(cd)
}

// ManualAllowed reports whether a manual sync may start at now, and if not,
// when it may.
func (p *Policy) ManualAllowed(plan, kind string, lastManual *time.Time, now time.Time) (ok bool, availableAt time.Time) {
	at := p.ManualAvailableAt(plan, kind, lastManual)
	if at.IsZero() || !now.Before(at) {
		return true, at
	}
	return false, at
}

// PlanAllowingManualNow returns the smallest plan other than the trial on
// which a manual sync would be allowed at now, for the message of a refused
// sync ("upgrade to micro to sync now"); "" when no plan would allow it.
func (p *Policy) PlanAllowingManualNow(kind string, lastManual *time.Time, now time.Time) string {
	for _, plan := range planOrder {
		if plan == PlanTrial {
			continue
		}
		if ok, _ := p.ManualAllowed(plan, kind, lastManual, now); ok {
			return plan
		}
	}
	return ""
}
