package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/policy"
)

func runAccount(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "account", args, []subcommand{
		{"create", accountCreate},
		{"list", accountList},
		{"set-plan", accountSetPlan},
	})
}

func accountCreate(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "account create", `Creates an empty account (add users with 'shelf user create --account ID').
New accounts start on the trial plan unless --plan is given.`)
	name := fs.String("name", "", "account name (required)")
	plan := fs.String("plan", policy.PlanTrial, "plan: "+strings.Join(policy.Plans(), ", "))
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	acct, err := a.Accounts.CreateAccount(ctx, *name, *plan)
	if err != nil {
		return accountsCLIError(err)
	}
	fmt.Fprintf(env.Stdout, "created account %d %q (plan %s)\n", acct.ID, acct.Name, acct.Plan)
	return nil
}

func accountList(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "account list", "Lists accounts with their plans and next auto-sync times.")
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	accts, err := a.Store.ListAccounts(ctx)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tPLAN\tTRIAL ENDS\tNEXT AUTO-SYNC")
	for _, ac := range accts {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", ac.ID, ac.Name, ac.Plan, fmtTime(ac.TrialEndsAt), fmtTime(ac.NextAutoSyncAt))
	}
	return tw.Flush()
}

func accountSetPlan(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "account set-plan", `Sets an account's plan (operator action). It takes effect at once: the next
automatic sync is rescheduled from the new plan.`)
	id := fs.Int64("account", 0, "account ID (required)")
	plan := fs.String("plan", "", "plan: "+strings.Join(policy.Plans(), ", "))
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	if *id <= 0 {
		return usagef("--account is required")
	}
	if !policy.KnownPlan(*plan) {
		return usagef("--plan must be one of %s", strings.Join(policy.Plans(), ", "))
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	acct, err := a.SetPlan(ctx, *id, *plan)
	if errors.Is(err, catalog.ErrNotFound) {
		return fmt.Errorf("no account %d; 'shelf account list' shows the accounts", *id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "account %d %q is now on plan %s; next auto-sync: %s\n", acct.ID, acct.Name, acct.Plan, fmtTime(acct.NextAutoSyncAt))
	return nil
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}
