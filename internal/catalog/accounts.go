package catalog

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/policy"
)

// NewAccount is what creating an account takes.
type NewAccount struct {
	Name           string
	Plan           string // one of policy.Plans(); empty means policy.PlanTrial
	TrialEndsAt    *time.Time
	NextAutoSyncAt *time.Time
}

const accountColumns = `id, name, plan, plan_explicit, trial_ends_at, next_auto_sync_at, last_manual_sync_at, created_at, updated_at`

func scanAccount(row interface{ Scan(...any) error }) (Account, error) {
	var (
		a                          Account
		trialEnds, nextAuto, lastM sql.NullInt64
		created, updated           int64
	)
	if err := row.Scan(&a.ID, &a.Name, &a.Plan, &a.PlanExplicit, &trialEnds, &nextAuto, &lastM, &created, &updated); err != nil {
		return Account{}, mapErr(err)
	}
	a.TrialEndsAt = fromNullMS(trialEnds)
	a.NextAutoSyncAt = fromNullMS(nextAuto)
	a.LastManualSyncAt = fromNullMS(lastM)
	a.CreatedAt = fromMS(created)
	a.UpdatedAt = fromMS(updated)
	return a, nil
}

func checkPlan(plan string) error {
	if !policy.KnownPlan(plan) {
		return fmt.Errorf("unknown plan %q; use one of %s", plan, strings.Join(policy.Plans(), ", "))
	}
	return nil
}

// CreateAccount creates an account without users.
func (s *Store) CreateAccount(ctx context.Context, na NewAccount, now time.Time) (Account, error) {
	var a Account
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		a, err = s.createAccountTx(ctx, tx, na, now)
		return err
	})
	return a, err
}

// CreateAccountWithAdmin creates an account and its first user, an admin,
// atomically: when the email is taken it returns ErrConflict and creates
// nothing. admin.AccountID and admin.Role are set here.
func (s *Store) CreateAccountWithAdmin(ctx context.Context, na NewAccount, admin NewUser, now time.Time) (Account, User, error) {
	var (
		a Account
		u User
	)
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if a, err = s.createAccountTx(ctx, tx, na, now); err != nil {
			return err
		}
		admin.AccountID = a.ID
		admin.Role = RoleAdmin
		u, err = s.createUserTx(ctx, tx, admin, now)
		return err
	})
	if err != nil {
		return Account{}, User{}, err
	}
	return a, u, nil
}

func (s *Store) createAccountTx(ctx context.Context, q querier, na NewAccount, now time.Time) (Account, error) {
	if na.Plan == "" {
		na.Plan = policy.PlanTrial
	}
	if err := checkPlan(na.Plan); err != nil {
		return Account{}, err
	}
	if strings.TrimSpace(na.Name) == "" {
		return Account{}, fmt.Errorf("an account needs a name")
	}
	row := s.queryRow(ctx, q, `INSERT INTO accounts (name, plan, plan_explicit, trial_ends_at, next_auto_sync_at, created_at, updated_at)
VALUES (?, ?, FALSE, ?, ?, ?, ?) RETURNING `+accountColumns,
		strings.TrimSpace(na.Name), na.Plan, msPtr(na.TrialEndsAt), msPtr(na.NextAutoSyncAt), ms(now), ms(now))
	a, err := scanAccount(row)
	if err != nil {
		return Account{}, fmt.Errorf("creating account: %w", err)
	}
	return a, nil
}

// GetAccount returns one account.
func (s *Store) GetAccount(ctx context.Context, id int64) (Account, error) {
	return scanAccount(s.queryRow(ctx, s.db, `SELECT `+accountColumns+` FROM accounts WHERE id = ?`, id))
}

// ListAccounts returns every account, oldest first.
func (s *Store) ListAccounts(ctx context.Context) ([]Account, error) {
	return s.listAccounts(ctx, `SELECT `+accountColumns+` FROM accounts ORDER BY id`)
}

func (s *Store) listAccounts(ctx context.Context, query string, args ...any) ([]Account, error) {
	rows, err := s.query(ctx, s.db, query, args...)
	if err != nil {
		return nil, fmt.Errorf("listing accounts: %w", err)
	}
	defer rows.Close()
	var out []Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("reading account: %w", err)
		}
		out = append(out, a)
	}
	return out, mapErr(rows.Err())
}

// SetPlan moves an account to plan as an operator decision (plan_explicit:
// trial expiry no longer touches it) and sets its next auto-sync time, which
// the caller computes from the new plan (nil: none).
func (s *Store) SetPlan(ctx context.Context, accountID int64, plan string, nextAutoSyncAt *time.Time, now time.Time) error {
	if err := checkPlan(plan); err != nil {
		return err
	}
	return s.execOne(ctx, s.db, `UPDATE accounts SET plan = ?, plan_explicit = TRUE, next_auto_sync_at = ?, updated_at = ? WHERE id = ?`,
		plan, msPtr(nextAutoSyncAt), ms(now), accountID)
}

// ExpireTrials moves every account whose trial ended at or before now (and
// whose plan no operator set) to the free plan, and returns their ids. The
// caller reschedules their auto-sync for the new plan.
func (s *Store) ExpireTrials(ctx context.Context, now time.Time) ([]int64, error) {
	rows, err := s.query(ctx, s.db, `UPDATE accounts SET plan = ?, updated_at = ?
WHERE plan = 'trial' AND plan_explicit = FALSE AND trial_ends_at IS NOT NULL AND trial_ends_at <= ?
RETURNING id`, policy.PlanFree, ms(now), ms(now))
	if err != nil {
		return nil, fmt.Errorf("expiring trials: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("expiring trials: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("expiring trials: %w", err)
	}
	slices.Sort(ids)
	return ids, nil
}

// SetNextAutoSync sets when the account is next due for an automatic sync
// (nil: never).
func (s *Store) SetNextAutoSync(ctx context.Context, accountID int64, at *time.Time, now time.Time) error {
	return s.execOne(ctx, s.db, `UPDATE accounts SET next_auto_sync_at = ?, updated_at = ? WHERE id = ?`, msPtr(at), ms(now), accountID)
}

// ListDueAccounts returns up to limit accounts whose next auto-sync time is
// at or before now, the longest overdue first.
func (s *Store) ListDueAccounts(ctx context.Context, now time.Time, limit int) ([]Account, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.listAccounts(ctx, `SELECT `+accountColumns+` FROM accounts
WHERE next_auto_sync_at IS NOT NULL AND next_auto_sync_at <= ?
ORDER BY next_auto_sync_at, id LIMIT ?`, ms(now), limit)
}

// ListDueAccountsAfter is ListDueAccounts from after the account (afterAt,
// afterID) of an earlier page on, in the same order: a tick goes through
// every due account a page at a time.
func (s *Store) ListDueAccountsAfter(ctx context.Context, now, afterAt time.Time, afterID int64, limit int) ([]Account, error) {
	if limit <= 0 {
		limit = 100
	}
	return s.listAccounts(ctx, `SELECT `+accountColumns+` FROM accounts
WHERE next_auto_sync_at IS NOT NULL AND next_auto_sync_at <= ?
  AND (next_auto_sync_at > ? OR (next_auto_sync_at = ? AND id > ?))
ORDER BY next_auto_sync_at, id LIMIT ?`, ms(now), ms(afterAt), ms(afterAt), afterID, limit)
}

// SetLastManualSync records when a manual sync of the account was started.
func (s *Store) SetLastManualSync(ctx context.Context, accountID int64, at time.Time) error {
	return s.execOne(ctx, s.db, `UPDATE accounts SET last_manual_sync_at = ?, updated_at = ? WHERE id = ?`, ms(at), ms(at), accountID)
}
