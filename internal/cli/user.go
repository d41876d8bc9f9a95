package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/config"
	"hearth/internal/secret"
	"hearth/internal/store"
	"hearth/internal/store/sqlite"
)

// metaCommand parses a subcommand's flags, opens the metadata store and runs fn with it.
func metaCommand(ctx context.Context, name string, args []string, env Env, flags func(*flag.FlagSet),
	fn func(cfg *config.Config, meta *sqlite.Store, key secret.Key) error) error {
	cfg, err := parse(name, args, env, config.Common, flags)
	if err != nil {
		return err
	}
	return withMeta(ctx, cfg, func(meta *sqlite.Store, key secret.Key) error { return fn(cfg, meta, key) })
}

// withMeta opens the metadata store of cfg, runs fn with it and closes it.
func withMeta(ctx context.Context, cfg *config.Config, fn func(meta *sqlite.Store, key secret.Key) error) error {
	meta, key, err := openMeta(ctx, cfg)
	if err != nil {
		return err
	}
	defer meta.Close()
	return fn(meta, key)
}

// userCommand is metaCommand for "… LOGIN" commands: it resolves the user first.
func userCommand(ctx context.Context, name string, args []string, env Env, flags func(*flag.FlagSet),
	fn func(cfg *config.Config, meta *sqlite.Store, key secret.Key, u store.User) error) error {
	login, rest, err := positional(args, "LOGIN")
	if err != nil {
		return err
	}
	return metaCommand(ctx, name, rest, env, flags, func(cfg *config.Config, meta *sqlite.Store, key secret.Key) error {
		u, err := meta.User(ctx, login)
		if err != nil {
			return fmt.Errorf("user %q does not exist", login)
		}
		return fn(cfg, meta, key, u)
	})
}

// positional splits "LOGIN --flags..." into the leading argument and the rest.
func positional(args []string, what string) (string, []string, error) {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return "", nil, usageError{fmt.Errorf("missing %s", what)}
	}
	return args[0], args[1:], nil
}

func userCmd(ctx context.Context, args []string, env Env) error {
	return subcommand(ctx, "user", args, env, []sub{
		{"add", userAdd},
		{"passwd", userPasswd},
		{"disable", func(ctx context.Context, args []string, env Env) error { return userSetDisabled(ctx, args, env, true) }},
		{"enable", func(ctx context.Context, args []string, env Env) error { return userSetDisabled(ctx, args, env, false) }},
		{"unlock", userUnlock},
		{"reset-2fa", userReset2FA},
		{"list", userList},
	})
}

// newPassword reads a new password from HEARTH_USER_PASSWORD, --password-file, or a prompt
// on the terminal, and checks the policy.
func newPassword(env Env, file, login, email string) (string, error) {
	pass := ""
	switch {
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read password file: %w", err)
		}
		pass = strings.TrimRight(string(b), "\r\n")
	default:
		if v, ok := env.LookupEnv("HEARTH_USER_PASSWORD"); ok && v != "" {
			pass = v
			break
		}
		f, ok := env.Stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) { // #nosec G115 -- a file descriptor
			return "", usageError{errors.New("no password given: set HEARTH_USER_PASSWORD, use --password-file, or run on a terminal")}
		}
		fmt.Fprint(env.Stderr, "New password: ")
		a, err := term.ReadPassword(int(f.Fd())) // #nosec G115 -- a file descriptor
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(env.Stderr, "Repeat it: ")
		b, err := term.ReadPassword(int(f.Fd())) // #nosec G115 -- a file descriptor
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return "", err
		}
		if string(a) != string(b) {
			return "", usageError{errors.New("the passwords do not match")}
		}
		pass = string(a)
	}
	if err := auth.CheckPasswordPolicy(pass, login, email); err != nil {
		return "", usageError{err}
	}
	return pass, nil
}

func userAdd(ctx context.Context, args []string, env Env) error {
	login, rest, err := positional(args, "LOGIN")
	if err != nil {
		return err
	}
	var email, passFile string
	var superuser bool
	cfg, err := parse("user add", rest, env, config.Common, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "e-mail address")
		fs.BoolVar(&superuser, "superuser", false, "make the user a superuser (break-glass access)")
		fs.StringVar(&passFile, "password-file", "", "file holding the password (else HEARTH_USER_PASSWORD or a prompt)")
	})
	if err != nil {
		return err
	}
	if err := auth.ValidateNewUser(login, email); err != nil {
		return usageError{err}
	}
	pass, err := newPassword(env, passFile, login, email)
	if err != nil {
		return err
	}
	hash, err := auth.HashPassword(pass)
	if err != nil {
		return err
	}
	return withMeta(ctx, cfg, func(meta *sqlite.Store, key secret.Key) error {
		if err := meta.CreateUser(ctx, store.User{Login: login, Email: email, PasswordHash: hash, Superuser: superuser, Created: time.Now().UTC()}); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return fmt.Errorf("user %q already exists", login)
			}
			return err
		}
		if err := newTrail(cfg, meta, key).Record(ctx, audit.Event{Actor: "cli", Action: audit.ActionUserCreate, Target: "user:" + login,
			Details: map[string]string{"superuser": strconv.FormatBool(superuser), "via": "hearth user add"}}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		fmt.Fprintf(env.Stdout, "Created user %q%s.\n", login, map[bool]string{true: " (superuser)", false: ""}[superuser])
		return nil
	})
}

func userPasswd(ctx context.Context, args []string, env Env) error {
	var passFile string
	flags := func(fs *flag.FlagSet) {
		fs.StringVar(&passFile, "password-file", "", "file holding the new password (else HEARTH_USER_PASSWORD or a prompt)")
	}
	return userCommand(ctx, "user passwd", args, env, flags, func(cfg *config.Config, meta *sqlite.Store, key secret.Key, u store.User) error {
		pass, err := newPassword(env, passFile, u.Login, u.Email)
		if err != nil {
			return err
		}
		if u.PasswordHash, err = auth.HashPassword(pass); err != nil {
			return err
		}
		if err := meta.UpdateUser(ctx, u); err != nil {
			return err
		}
		// A new password signs every browser out.
		if _, err := meta.DeleteSessions(ctx, u.Login); err != nil {
			return err
		}
		if err := newTrail(cfg, meta, key).Record(ctx, audit.Event{Actor: "cli", Action: audit.ActionUserPassword, Target: "user:" + u.Login}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		fmt.Fprintf(env.Stdout, "Password of %q changed.\n", u.Login)
		return nil
	})
}

func userSetDisabled(ctx context.Context, args []string, env Env, disabled bool) error {
	return userCommand(ctx, "user", args, env, nil, func(cfg *config.Config, meta *sqlite.Store, key secret.Key, u store.User) error {
		u.Disabled = disabled
		action := audit.ActionUserEnable
		if disabled {
			action = audit.ActionUserDisable
		}
		trail := newTrail(cfg, meta, key)
		if err := meta.UpdateUser(ctx, u); err != nil {
			if errors.Is(err, store.ErrLastSuperuser) {
				_ = trail.Record(ctx, audit.Event{Actor: "cli", Action: action, Target: "user:" + u.Login, Outcome: audit.Failure,
					Details: map[string]string{"reason": "last enabled superuser"}})
			}
			return err
		}
		if disabled {
			if _, err := meta.DeleteSessions(ctx, u.Login); err != nil {
				return err
			}
		}
		if err := trail.Record(ctx, audit.Event{Actor: "cli", Action: action, Target: "user:" + u.Login}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		fmt.Fprintf(env.Stdout, "User %q %sd.\n", u.Login, map[bool]string{true: "disable", false: "enable"}[disabled])
		return nil
	})
}

func userList(ctx context.Context, args []string, env Env) error {
	var asJSON bool
	var users []store.User
	err := metaCommand(ctx, "user list", args, env, func(fs *flag.FlagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}, func(_ *config.Config, meta *sqlite.Store, _ secret.Key) (err error) {
		users, err = meta.Users(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if asJSON {
		type row struct {
			Login     string    `json:"login"`
			Email     string    `json:"email"`
			Superuser bool      `json:"superuser"`
			Disabled  bool      `json:"disabled"`
			Created   time.Time `json:"created"`
		}
		out := make([]row, 0, len(users))
		for _, u := range users {
			out = append(out, row{u.Login, u.Email, u.Superuser, u.Disabled, u.Created})
		}
		return json.NewEncoder(env.Stdout).Encode(out)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "LOGIN\tE-MAIL\tSUPERUSER\tDISABLED\tCREATED")
	for _, u := range users {
		fmt.Fprintf(tw, "%s\t%s\t%v\t%v\t%s\n", u.Login, u.Email, u.Superuser, u.Disabled, u.Created.Format(time.RFC3339))
	}
	return tw.Flush()
}

func tokenCmd(ctx context.Context, args []string, env Env) error {
	return subcommand(ctx, "token", args, env, []sub{{"list", tokenList}, {"revoke", tokenRevoke}})
}

func tokenList(ctx context.Context, args []string, env Env) error {
	var login string
	var asJSON bool
	var tokens []store.Token
	err := metaCommand(ctx, "token list", args, env, func(fs *flag.FlagSet) {
		fs.StringVar(&login, "user", "", "only this user's tokens")
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}, func(_ *config.Config, meta *sqlite.Store, _ secret.Key) (err error) {
		tokens, err = meta.Tokens(ctx, login)
		return err
	})
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(env.Stdout).Encode(auth.ViewTokens(tokens))
	}
	show := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return t.Format(time.RFC3339)
	}
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tDESCRIPTION\tCREATED\tLAST USED\tEXPIRES\tREAD-ONLY\tPOST-ONLY")
	for _, t := range tokens {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%v\t%v\n", t.ID, t.Login, t.Description, show(t.Created), show(t.LastUsed), show(t.Expires), t.ReadOnly, t.PostOnly)
	}
	return tw.Flush()
}

func tokenRevoke(ctx context.Context, args []string, env Env) error {
	idText, rest, err := positional(args, "ID")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return usageError{fmt.Errorf("token ID must be a positive number, got %q", idText)}
	}
	return metaCommand(ctx, "token revoke", rest, env, nil, func(cfg *config.Config, meta *sqlite.Store, key secret.Key) error {
		if err := meta.DeleteToken(ctx, id); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("token %d does not exist", id)
			}
			return err
		}
		if err := newTrail(cfg, meta, key).Record(ctx, audit.Event{Actor: "cli", Action: audit.ActionTokenRevoke, Target: fmt.Sprintf("token:%d", id)}); err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		fmt.Fprintf(env.Stdout, "Token %d revoked.\n", id)
		return nil
	})
}

// authService builds the authentication service on an open metadata store, auditing to trail.
func authService(meta *sqlite.Store, key secret.Key, trail *audit.Trail) *auth.Service {
	return auth.New(auth.Options{Meta: meta, TokenKey: key.Derive("token-hash"), Audit: trail})
}

func userUnlock(ctx context.Context, args []string, env Env) error {
	return userCommand(ctx, "user unlock", args, env, nil, func(cfg *config.Config, meta *sqlite.Store, key secret.Key, u store.User) error {
		n, err := authService(meta, key, newTrail(cfg, meta, key)).Unlock(ctx, u.Login, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Unlocked %q (%d failed attempts cleared, with the client blocks they caused).\n", u.Login, n)
		return nil
	})
}

// userReset2FA turns off the second factor of a user who lost their authenticator and recovery
// codes; their sessions end and they set it up again after signing in with the password.
func userReset2FA(ctx context.Context, args []string, env Env) error {
	return userCommand(ctx, "user reset-2fa", args, env, nil, func(cfg *config.Config, meta *sqlite.Store, key secret.Key, u store.User) error {
		svc := authService(meta, key, newTrail(cfg, meta, key))
		on, err := svc.Has2FA(ctx, u.Login)
		if err != nil {
			return err
		}
		if !on {
			return fmt.Errorf("user %q has no two-factor authentication", u.Login)
		}
		if err := svc.Disable2FA(ctx, u.Login, "cli", netip.Addr{}); err != nil {
			return err
		}
		if _, err := meta.DeleteSessions(ctx, u.Login); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Two-factor authentication of %q turned off; their sessions ended.\n", u.Login)
		return nil
	})
}

func unblockIPCmd(ctx context.Context, args []string, env Env) error {
	ipText, rest, err := positional(args, "IP")
	if err != nil {
		return err
	}
	ip, err := netip.ParseAddr(ipText)
	if err != nil {
		return usageError{fmt.Errorf("%q is not an IP address", ipText)}
	}
	return metaCommand(ctx, "unblock-ip", rest, env, nil, func(cfg *config.Config, meta *sqlite.Store, key secret.Key) error {
		n, err := authService(meta, key, newTrail(cfg, meta, key)).UnblockIP(ctx, ip, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "Unblocked the address (%d failed attempts cleared).\n", n)
		return nil
	})
}
