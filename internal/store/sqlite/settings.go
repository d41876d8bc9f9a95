package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// Salt returns the salt of a site's day, creating a random one on first use.
func (s *Store) Salt(ctx context.Context, site event.SiteID, day string, now time.Time) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	if _, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO salts (site_id, day, salt, created) VALUES (?,?,?,?)`, site, day, fresh, now.Unix()); err != nil {
		return nil, fmt.Errorf("create salt: %w", err)
	}
	var salt []byte
	if err := s.db.QueryRowContext(ctx, `SELECT salt FROM salts WHERE site_id = ? AND day = ?`, site, day).Scan(&salt); err != nil {
		return nil, fmt.Errorf("read salt: %w", err)
	}
	return salt, nil
}

// PurgeSalts deletes salts created before cutoff.
func (s *Store) PurgeSalts(ctx context.Context, cutoff time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM salts WHERE created < ?`, cutoff.Unix())
	if err != nil {
		return 0, fmt.Errorf("purge salts: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// Setting reads a setting; ErrNotFound when unset.
func (s *Store) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("setting %s: %w", key, store.ErrNotFound)
	}
	return v, err
}

// SetSetting writes a setting.
func (s *Store) SetSetting(ctx context.Context, key, value string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

// DeleteSetting removes a setting.
func (s *Store) DeleteSetting(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM settings WHERE key = ?`, key)
	return err
}
