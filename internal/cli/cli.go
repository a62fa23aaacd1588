// Package cli is Shelf's command line: one file per command. Each command
// parses its flags (mirroring the SHELF_* variables), builds what it needs
// through internal/app, and runs.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/shelf-dam/shelf/internal/app"
	"github.com/shelf-dam/shelf/internal/config"
)

// Env is what a command may use of its surroundings; tests pass their own.
type Env struct {
	Args   []string // without the program name
	Getenv func(string) string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr *os.File
}

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env Env, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run the web app, the API and the job workers", runServe},
		{"worker", "run job workers only (syncs, scheduling, thumbnails, webhooks); scale out on PostgreSQL", runWorker},
		{"migrate", "apply database migrations and exit", runMigrate},
		{"sync", "sync one account now in the foreground, with progress", runSync},
		{"user", "manage users: create, list, set-password", runUser},
		{"account", "manage accounts: create, list, set-plan", runAccount},
		{"demo", "run Shelf on SQLite with a local demo library, printing the URL and sign-in", runDemo},
	}
}

// Main runs the command line and returns the process exit code.
func Main(env Env) int {
	if len(env.Args) == 0 || env.Args[0] == "-h" || env.Args[0] == "--help" || env.Args[0] == "help" {
		usage(env.Stdout)
		return 0
	}
	name := env.Args[0]
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		err := c.run(ctx, env, env.Args[1:])
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		if err != nil {
			fmt.Fprintf(env.Stderr, "shelf %s: %v\n", name, err)
			var ue usageError
			if errors.As(err, &ue) {
				return 2
			}
			return 1
		}
		return 0
	}
	fmt.Fprintf(env.Stderr, "shelf: unknown command %q\n\n", name)
	usage(env.Stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Shelf — a digital asset library that syncs your Google Drive folder, S3 bucket or local folder.")
	fmt.Fprintln(w, "\nUsage: shelf <command> [flags]\n\nCommands:")
	cs := commands()
	for _, c := range cs {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'shelf <command> --help' for the flags of a command. Every flag can also be set with its SHELF_* variable.")
}

// usageError marks errors caused by wrong arguments (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// newFlags returns a flag set for a command with the shared configuration
// flags registered, and a help text.
func newFlags(env Env, name, help string) (*flag.FlagSet, *config.Config) {
	fs := flag.NewFlagSet("shelf "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg := config.Register(fs, env.Getenv)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: shelf %s\n\n%s\n\nFlags:\n", name, strings.TrimSpace(help))
		fs.PrintDefaults()
	}
	return fs, cfg
}

// parse parses args into fs and finishes cfg.
func parse(fs *flag.FlagSet, cfg *config.Config, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if err := cfg.Finish(); err != nil {
		return usageError{err.Error()}
	}
	return nil
}

// openApp builds the app for a command.
func openApp(ctx context.Context, env Env, cfg *config.Config) (*app.App, error) {
	logger := app.NewLogger(cfg, env.Stderr)
	return app.Open(ctx, cfg, logger)
}

// subcommand is one verb of a command with verbs ("shelf user create").
type subcommand struct {
	name string
	run  func(ctx context.Context, env Env, args []string) error
}

// dispatch runs the subcommand named by args[0].
func dispatch(ctx context.Context, env Env, command string, args []string, subs []subcommand) error {
	names := make([]string, len(subs))
	for i, sc := range subs {
		names[i] = sc.name
	}
	verbs := strings.Join(names, "|")
	if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
		fmt.Fprintf(env.Stdout, "Usage: shelf %s %s [flags]\n\nRun 'shelf %s <subcommand> --help' for the flags of each subcommand.\n", command, verbs, command)
		return flag.ErrHelp
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usagef("usage: shelf %s %s [flags]; add --help after a subcommand for its flags", command, verbs)
	}
	for _, sc := range subs {
		if sc.name == args[0] {
			return sc.run(ctx, env, args[1:])
		}
	}
	return usagef("unknown subcommand %q: use %s", args[0], strings.Join(names, ", "))
}
