// Package cli is Hearth's command line and composition root: it parses configuration, opens
// the stores and wires the services together.
package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"hearth/internal/audit"
	"hearth/internal/config"
	"hearth/internal/secret"
	"hearth/internal/store/sqlite"
)

// Version is set at build time with -ldflags "-X hearth/internal/cli.Version=...".
var Version = "0.1.0-dev"

// Env is what a command reads from and writes to; tests substitute it.
type Env struct {
	Stdout, Stderr io.Writer
	Stdin          io.Reader
	LookupEnv      func(string) (string, bool)
	// Stop, when non-nil, replaces the OS signals that end `serve`.
	Stop <-chan struct{}
}

const usage = `Hearth: privacy-first web analytics.

Usage:
  hearth serve    [flags]   run the server
  hearth init     --admin-login L --admin-email E [flags]
                            create the data dir and the first superuser
  hearth user add LOGIN --email E [--superuser]
  hearth user passwd|disable|enable|unlock|reset-2fa LOGIN
  hearth user list [--json]
                            manage accounts (passwords from HEARTH_USER_PASSWORD,
                            --password-file or a prompt on a terminal)
  hearth token list [--user LOGIN] [--json]
  hearth token revoke ID    list and revoke API tokens
  hearth unblock-ip IP      lift the block on a client address after failed logins
  hearth site snippet ID [--form hearth|matomo] [--url URL] [--dnt] [--noscript]
                            print a site's tracking code to paste into its pages
  hearth audit verify       check the audit trail; non-zero exit naming the first bad entry
  hearth audit export [--format ndjson|csv] [--since T] [--until T]
                            write the audit trail to stdout
  hearth audit retention [--days N]
                            show or set how long audit entries are kept (0: forever)
  hearth demo [--events N] [--site ID] [--days D]
                            write a synthetic dataset (server stopped)
  hearth version            print the version

Run "hearth <command> --help" for a command's flags. Every setting can also be given as an
environment variable HEARTH_<NAME> or in a TOML file given with --config.
`

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, env Env) int {
	if len(args) == 0 {
		fmt.Fprint(env.Stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], env)
	case "init":
		err = initCmd(ctx, args[1:], env)
	case "audit":
		err = auditCmd(ctx, args[1:], env)
	case "user":
		err = userCmd(ctx, args[1:], env)
	case "token":
		err = tokenCmd(ctx, args[1:], env)
	case "site":
		err = siteCmd(ctx, args[1:], env)
	case "unblock-ip":
		err = unblockIPCmd(ctx, args[1:], env)
	case "demo":
		err = demoCmd(ctx, args[1:], env)
	case "version", "--version", "-v":
		fmt.Fprintf(env.Stdout, "hearth %s\n", Version)
		return 0
	case "help", "--help", "-h":
		fmt.Fprint(env.Stdout, usage)
		return 0
	default:
		fmt.Fprintf(env.Stderr, "hearth: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		var ue usageError
		fmt.Fprintf(env.Stderr, "hearth %s: %v\n", args[0], err)
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

type usageError struct{ error }

// parse binds and resolves a subcommand's settings.
func parse(name string, args []string, env Env, groups config.Group, extra func(fs *flag.FlagSet)) (*config.Config, error) {
	fs := flag.NewFlagSet("hearth "+name, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg := config.Defaults()
	l := config.Bind(fs, &cfg, groups, env.LookupEnv)
	if extra != nil {
		extra(fs)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("unexpected argument %q", fs.Arg(0))}
	}
	if err := l.Resolve(); err != nil {
		return nil, usageError{err}
	}
	return &cfg, nil
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// openMeta opens the encrypted metadata store, creating the data dir and secret as needed.
func openMeta(ctx context.Context, cfg *config.Config) (*sqlite.Store, secret.Key, error) {
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, secret.Key{}, err
	}
	key, err := secret.Load(cfg.SecretFile, true)
	if err != nil {
		return nil, key, err
	}
	meta, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(cfg.DataDir, "meta.db"), Key: key.Derive("metadata-encryption")})
	if err != nil {
		return nil, key, err
	}
	return meta, key, nil
}

// newTrail opens the audit trail on the metadata store.
func newTrail(cfg *config.Config, meta *sqlite.Store, key secret.Key) *audit.Trail {
	return audit.New(meta, audit.Options{Key: key.Derive("audit-chain"), HeadPath: filepath.Join(cfg.DataDir, "audit.head"),
		IPBytes: cfg.IPAnonymizeBytes})
}

// readSecret reads a secret from an environment variable or a file, never from a flag value.
func readSecret(env Env, envName, file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if v, ok := env.LookupEnv(envName); ok && v != "" {
		return v, nil
	}
	return "", fmt.Errorf("no password given: set %s or use --admin-password-file", envName)
}

// sub is a subcommand of a command.
type sub struct {
	name string
	run  func(context.Context, []string, Env) error
}

// subcommand runs the subcommand args names, or says which there are.
func subcommand(ctx context.Context, cmd string, args []string, env Env, subs []sub) error {
	names := make([]string, len(subs))
	for i, s := range subs {
		names[i] = s.name
	}
	list := strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
	if len(args) == 0 {
		return usageError{fmt.Errorf("%s needs a subcommand: %s", cmd, list)}
	}
	for _, s := range subs {
		if s.name == args[0] {
			return s.run(ctx, args[1:], env)
		}
	}
	return usageError{fmt.Errorf("unknown %s subcommand %q (use %s)", cmd, args[0], list)}
}
