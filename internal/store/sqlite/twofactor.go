package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"hearth/internal/store"
)

// SetTOTP stores a user's TOTP setup.
func (s *Store) SetTOTP(ctx context.Context, t store.TOTP) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO totp (login, secret_enc, enabled, last_step, created) VALUES (?,?,?,?,?)
		ON CONFLICT(login) DO UPDATE SET secret_enc = excluded.secret_enc, enabled = excluded.enabled, last_step = excluded.last_step, created = excluded.created`,
		t.Login, t.SecretEnc, b2i(t.Enabled), t.LastStep, unix(t.Created))
	if isConstraint(err) {
		return fmt.Errorf("user %q: %w", t.Login, store.ErrNotFound)
	}
	return err
}

// TOTP reads a user's TOTP setup.
func (s *Store) TOTP(ctx context.Context, login string) (store.TOTP, error) {
	var t store.TOTP
	var enabled int
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT login, secret_enc, enabled, last_step, created FROM totp WHERE login = ?`, login).
		Scan(&t.Login, &t.SecretEnc, &enabled, &t.LastStep, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("totp: %w", store.ErrNotFound)
	}
	t.Enabled, t.Created = enabled == 1, fromUnix(created)
	return t, err
}

// DeleteTOTP removes a user's TOTP setup.
func (s *Store) DeleteTOTP(ctx context.Context, login string) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM totp WHERE login = ?`, login); err != nil {
		return fmt.Errorf("remove totp: %w", err)
	}
	return nil
}

// DeleteSecondFactors removes a user's TOTP setup, passkeys and recovery codes together.
func (s *Store) DeleteSecondFactors(ctx context.Context, login string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM totp WHERE login = ?`, `DELETE FROM passkeys WHERE login = ?`, `DELETE FROM recovery_codes WHERE login = ?`} {
		if _, err := tx.ExecContext(ctx, q, login); err != nil {
			return fmt.Errorf("remove second factors: %w", err)
		}
	}
	return tx.Commit()
}

// HasRecoveryCodes reports whether unused recovery codes remain.
func (s *Store) HasRecoveryCodes(ctx context.Context, login string) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE login = ? AND used = 0`, login).Scan(&n); err != nil {
		return false, fmt.Errorf("count recovery codes: %w", err)
	}
	return n > 0, nil
}

// UseTOTPStep advances the last accepted step, refusing replays.
func (s *Store) UseTOTPStep(ctx context.Context, login string, step int64) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE totp SET last_step = ? WHERE login = ? AND last_step < ?`, step, login, step)
	if err != nil {
		return false, fmt.Errorf("use totp step: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetRecoveryCodes replaces a user's recovery codes.
func (s *Store) SetRecoveryCodes(ctx context.Context, login string, hashes [][]byte) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE login = ?`, login); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (login, code_hash) VALUES (?, ?)`, login, h); err != nil {
			return fmt.Errorf("store recovery code: %w", err)
		}
	}
	return tx.Commit()
}

// UseRecoveryCode spends a recovery code.
func (s *Store) UseRecoveryCode(ctx context.Context, login string, hash []byte) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE recovery_codes SET used = 1 WHERE login = ? AND code_hash = ? AND used = 0`, login, hash)
	if err != nil {
		return false, fmt.Errorf("use recovery code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}
