package cli

import (
	"context"
	"flag"
	"fmt"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/config"
	"hearth/internal/store"
)

func initCmd(ctx context.Context, args []string, env Env) error {
	var login, email, passFile string
	cfg, err := parse("init", args, env, config.Common, func(fs *flag.FlagSet) {
		fs.StringVar(&login, "admin-login", "", "login of the first superuser")
		fs.StringVar(&email, "admin-email", "", "e-mail of the first superuser")
		fs.StringVar(&passFile, "admin-password-file", "", "file holding the superuser's password (else HEARTH_ADMIN_PASSWORD)")
	})
	if err != nil {
		return err
	}
	if login == "" || email == "" {
		return usageError{fmt.Errorf("--admin-login and --admin-email are required")}
	}
	if err := auth.ValidateNewUser(login, email); err != nil {
		return usageError{err}
	}
	pass, err := readSecret(env, "HEARTH_ADMIN_PASSWORD", passFile)
	if err != nil {
		return usageError{err}
	}
	if err := auth.CheckPasswordPolicy(pass, login, email); err != nil {
		return usageError{err}
	}
	meta, key, err := openMeta(ctx, cfg)
	if err != nil {
		return err
	}
	defer meta.Close()
	n, err := meta.CountSuperusers(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("a superuser already exists in %s; use `hearth user add --superuser` for break-glass access", cfg.DataDir)
	}
	hash, err := auth.HashPassword(pass)
	if err != nil {
		return err
	}
	if err := meta.CreateUser(ctx, store.User{Login: login, Email: email, PasswordHash: hash, Superuser: true, Created: time.Now().UTC()}); err != nil {
		return err
	}
	if err := newTrail(cfg, meta, key).Record(ctx, audit.Event{Actor: "cli", Action: audit.ActionUserCreate, Target: "user:" + login,
		Details: map[string]string{"superuser": "true", "via": "hearth init"}}); err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	fmt.Fprintf(env.Stdout, "Initialised %s with superuser %q.\nKeep a copy of the instance secret %s somewhere safe: without it the metadata store cannot be read.\n", cfg.DataDir, login, cfg.SecretFile)
	return nil
}
