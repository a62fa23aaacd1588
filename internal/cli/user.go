package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/shelf-dam/shelf/internal/accounts"
	"github.com/shelf-dam/shelf/internal/catalog"
)

func runUser(ctx context.Context, env Env, args []string) error {
	return dispatch(ctx, env, "user", args, []subcommand{
		{"create", userCreate},
		{"list", userList},
		{"set-password", userSetPassword},
	})
}

func userCreate(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "user create", `Creates a user in an existing account (--account), or in a new account
(--account-name, which starts on the trial plan), with a role. --operator
makes the user an instance operator, who may change any account's plan.
Without --password, the password is read from standard input.`)
	email := fs.String("email", "", "email address (required)")
	name := fs.String("name", "", "display name")
	password := fs.String("password", "", "password (default: read a line from standard input)")
	accountID := fs.Int64("account", 0, "ID of the account to add the user to")
	accountName := fs.String("account-name", "", "create a new account with this name instead")
	role := fs.String("role", catalog.RoleAdmin, "admin, editor or viewer")
	operator := fs.Bool("operator", false, "make the user an instance operator")
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	if (*accountID == 0) == (*accountName == "") {
		return usagef("give exactly one of --account ID or --account-name NAME")
	}
	pw, err := passwordArg(env, *password)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	nu := accounts.NewUser{Email: *email, Name: *name, Password: pw, Role: *role, IsOperator: *operator}
	var u catalog.User
	if *accountName != "" {
		var acct catalog.Account
		if acct, u, err = a.Accounts.CreateAccountWithAdmin(ctx, *accountName, nu); err == nil {
			fmt.Fprintf(env.Stdout, "created account %d %q (plan %s)\n", acct.ID, acct.Name, acct.Plan)
		}
	} else {
		u, err = a.Accounts.CreateUser(ctx, *accountID, nu)
	}
	switch {
	case errors.Is(err, accounts.ErrEmailTaken):
		return fmt.Errorf("a user with email %s already exists; use 'shelf user set-password' to change its password", *email)
	case errors.Is(err, accounts.ErrNotFound):
		return fmt.Errorf("%v; 'shelf account list' shows the accounts", err)
	}
	if err != nil {
		return accountsCLIError(err)
	}
	fmt.Fprintf(env.Stdout, "created user %d %s (%s) in account %d\n", u.ID, u.Email, u.Role, u.AccountID)
	return nil
}

func userList(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "user list", "Lists users, of one account (--account) or of all.")
	accountID := fs.Int64("account", 0, "only users of this account")
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	var users []catalog.User
	if *accountID != 0 {
		users, err = a.Store.ListUsers(ctx, *accountID)
	} else {
		users, err = a.Store.ListAllUsers(ctx)
	}
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tACCOUNT\tEMAIL\tROLE\tOPERATOR\tCREATED")
	for _, u := range users {
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%v\t%s\n", u.ID, u.AccountID, u.Email, u.Role, u.IsOperator, u.CreatedAt.Format("2006-01-02 15:04"))
	}
	return tw.Flush()
}

func userSetPassword(ctx context.Context, env Env, args []string) error {
	fs, cfg := newFlags(env, "user set-password", `Sets a user's password, ends the user's sessions and revokes the user's API
tokens (--keep-tokens keeps them working). Without --password, the password
is read from standard input.`)
	email := fs.String("email", "", "email address of the user (required)")
	password := fs.String("password", "", "new password (default: read a line from standard input)")
	keepTokens := fs.Bool("keep-tokens", false, "keep the user's API tokens working")
	if err := parse(fs, cfg, args); err != nil {
		return err
	}
	pw, err := passwordArg(env, *password)
	if err != nil {
		return err
	}
	a, err := openApp(ctx, env, cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Accounts.SetPassword(ctx, *email, pw, *keepTokens)
	if errors.Is(err, accounts.ErrNotFound) {
		return fmt.Errorf("%v; 'shelf user list' shows who exists", err)
	}
	if err != nil {
		return accountsCLIError(err)
	}
	tokens := "their API tokens were revoked"
	if *keepTokens {
		tokens = "their API tokens still work"
	}
	fmt.Fprintf(env.Stdout, "password of %s changed; their sessions were ended and %s\n", u.Email, tokens)
	return nil
}

// accountsCLIError turns a refusal of the accounts service into a usage
// error naming the flag it concerns (exit code 2); other errors stay.
func accountsCLIError(err error) error {
	var ae *accounts.Error
	if !errors.As(err, &ae) || errors.Is(err, accounts.ErrNotFound) || errors.Is(err, accounts.ErrEmailTaken) {
		return err
	}
	if ae.Field == "" {
		return usagef("%s", ae.Message)
	}
	return usagef("--%s: %s", strings.ReplaceAll(ae.Field, "_", "-"), ae.Message)
}

// passwordArg returns the flag value, or reads one line from stdin.
func passwordArg(env Env, flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	line, err := bufio.NewReader(env.Stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil {
			return "", usagef("no password: give --password or type it on standard input")
		}
		return "", usagef("the password read from standard input is empty")
	}
	return line, nil
}
