package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

// SetPlan changes an account's plan (operator action) and reschedules its
// next automatic sync from the new plan at once.
func (a *App) SetPlan(ctx context.Context, accountID int64, plan string) (catalog.Account, error) {
	if !policy.KnownPlan(plan) {
		return catalog.Account{}, fmt.Errorf("unknown plan %q: use one of %v", plan, policy.Plans())
	}
	if _, err := a.Store.GetAccount(ctx, accountID); err != nil {
		return catalog.Account{}, err
	}
	now := a.Now()
	next, err := a.nextAutoSync(ctx, accountID, plan)
	if err != nil {
		return catalog.Account{}, err
	}
	if err := a.Store.SetPlan(ctx, accountID, plan, next, now); err != nil {
		return catalog.Account{}, err
	}
	return a.Store.GetAccount(ctx, accountID)
}

// nextAutoSync computes when an account's next automatic sync is due on a
// plan, from now; nil without storage or without auto-sync on that plan.
func (a *App) nextAutoSync(ctx context.Context, accountID int64, plan string) (*time.Time, error) {
	conn, err := a.Store.GetConnection(ctx, accountID)
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return a.Policy.NextAutoSync(plan, conn.Kind, a.Now()), nil
}
