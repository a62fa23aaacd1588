package app

import (
	"context"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/syncrun"
)

// plans changes plans through the sync service, which reschedules the next
// auto-sync and cancels a sync queued ahead for the old plan.
type plans struct {
	store *catalog.Store
	syncs *syncrun.Service
	now   func() time.Time
}

// SetPlan implements web.PlanSetter.
func (p plans) SetPlan(ctx context.Context, accountID int64, plan string) (catalog.Account, error) {
	if _, err := p.store.GetAccount(ctx, accountID); err != nil {
		return catalog.Account{}, err
	}
	if err := p.syncs.SetPlan(ctx, accountID, plan, p.now()); err != nil {
		return catalog.Account{}, err
	}
	return p.store.GetAccount(ctx, accountID)
}

// SetPlan changes an account's plan (operator action) and reschedules its
// auto-sync at once; it needs no running workers (the CLI calls it).
func (a *App) SetPlan(ctx context.Context, accountID int64, plan string) (catalog.Account, error) {
	svc, err := a.StartServices(ctx, ServicesOptions{})
	if err != nil {
		return catalog.Account{}, err
	}
	defer svc.Stop(ctx)
	return plans{store: a.Store, syncs: svc.Syncs, now: a.Now}.SetPlan(ctx, accountID, plan)
}
