package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"hearth/internal/store"
)

// CreateSession stores a new session.
func (s *Store) CreateSession(ctx context.Context, ses store.Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions (id_hash, login, created, last_seen) VALUES (?, ?, ?, ?)`,
		ses.IDHash, ses.Login, ses.Created.Unix(), ses.LastSeen.Unix())
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session finds a session by the hash of its cookie.
func (s *Store) Session(ctx context.Context, idHash []byte) (store.Session, error) {
	var ses store.Session
	var created, seen int64
	err := s.db.QueryRowContext(ctx, `SELECT id_hash, login, created, last_seen FROM sessions WHERE id_hash = ?`, idHash).
		Scan(&ses.IDHash, &ses.Login, &created, &seen)
	if errors.Is(err, sql.ErrNoRows) {
		return ses, fmt.Errorf("session: %w", store.ErrNotFound)
	}
	ses.Created, ses.LastSeen = fromUnix(created), fromUnix(seen)
	return ses, err
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, idHash []byte, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id_hash = ?`, at.Unix(), idHash)
	return err
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, idHash []byte) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE id_hash = ?`, idHash)
	return err
}

// DeleteSessions ends every session of a login.
func (s *Store) DeleteSessions(ctx context.Context, login string) (int, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE login = ?`, login)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// PurgeSessions deletes sessions last seen before cutoff.
func (s *Store) PurgeSessions(ctx context.Context, cutoff time.Time) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM sessions WHERE last_seen < ?`, cutoff.Unix())
	return err
}
