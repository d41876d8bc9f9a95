package sqlite

import (
	"context"
	"fmt"
	"time"
)

// RecordAuthFailure stores a failed authentication attempt.
func (s *Store) RecordAuthFailure(ctx context.Context, at time.Time, ipHash []byte, login string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO auth_failures (at, ip_hash, login) VALUES (?, ?, ?)`, at.Unix(), ipHash, login)
	if err != nil {
		return fmt.Errorf("record auth failure: %w", err)
	}
	return nil
}

// AuthFailures counts recent failures of a client and of a login.
func (s *Store) AuthFailures(ctx context.Context, since time.Time, ipHash []byte, login string) (int, int, error) {
	var byIP, byLogin int
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM auth_failures WHERE ip_hash = ? AND at >= ?`, ipHash, since.Unix()).Scan(&byIP); err != nil {
		return 0, 0, fmt.Errorf("count auth failures: %w", err)
	}
	if login != "" {
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM auth_failures WHERE login = ? AND at >= ?`, login, since.Unix()).Scan(&byLogin); err != nil {
			return 0, 0, fmt.Errorf("count auth failures: %w", err)
		}
	}
	return byIP, byLogin, nil
}

// ClearAuthFailures deletes a login's failures and/or a client's.
func (s *Store) ClearAuthFailures(ctx context.Context, login string, ipHash []byte) (int, error) {
	var n int64
	if login != "" {
		res, err := s.db.ExecContext(ctx, `DELETE FROM auth_failures WHERE login = ?`, login)
		if err != nil {
			return 0, fmt.Errorf("clear auth failures: %w", err)
		}
		c, _ := res.RowsAffected()
		n += c
	}
	if len(ipHash) > 0 {
		res, err := s.db.ExecContext(ctx, `DELETE FROM auth_failures WHERE ip_hash = ?`, ipHash)
		if err != nil {
			return 0, fmt.Errorf("clear auth failures: %w", err)
		}
		c, _ := res.RowsAffected()
		n += c
	}
	return int(n), nil
}

// PurgeAuthFailures deletes failures older than cutoff.
func (s *Store) PurgeAuthFailures(ctx context.Context, cutoff time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM auth_failures WHERE at < ?`, cutoff.Unix())
	return err
}
