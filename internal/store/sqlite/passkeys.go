package sqlite

import (
	"context"
	"fmt"

	"hearth/internal/store"
)

// AddPasskey stores a new passkey.
func (s *Store) AddPasskey(ctx context.Context, p store.Passkey) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO passkeys (id, login, name, rp_id, credential, created, last_used) VALUES (?,?,?,?,?,?,?)`,
		p.ID, p.Login, p.Name, p.RPID, p.Credential, unix(p.Created), unix(p.LastUsed))
	if isConstraint(err) {
		if _, uerr := s.User(ctx, p.Login); uerr != nil {
			return uerr
		}
		return fmt.Errorf("passkey: %w", store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("add passkey: %w", err)
	}
	return nil
}

// Passkeys lists a user's passkeys.
func (s *Store) Passkeys(ctx context.Context, login string) ([]store.Passkey, error) {
	return query(ctx, s.db, "list passkeys", scanPasskey,
		`SELECT id, login, name, rp_id, credential, created, last_used FROM passkeys WHERE login = ? ORDER BY created, id`, login)
}

func scanPasskey(r scanner) (store.Passkey, error) {
	var p store.Passkey
	var created, used int64
	err := r.Scan(&p.ID, &p.Login, &p.Name, &p.RPID, &p.Credential, &created, &used)
	p.Created, p.LastUsed = fromUnix(created), fromUnix(used)
	return p, err
}

// UpdatePasskey records a passkey's new state after a sign-in.
func (s *Store) UpdatePasskey(ctx context.Context, p store.Passkey) error {
	res, err := s.db.ExecContext(ctx, `UPDATE passkeys SET credential = ?, last_used = ? WHERE login = ? AND id = ?`, p.Credential, unix(p.LastUsed), p.Login, p.ID)
	if err != nil {
		return fmt.Errorf("update passkey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("passkey: %w", store.ErrNotFound)
	}
	return nil
}

// DeletePasskey removes one passkey of a user.
func (s *Store) DeletePasskey(ctx context.Context, login string, id []byte) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM passkeys WHERE login = ? AND id = ?`, login, id)
	if err != nil {
		return fmt.Errorf("remove passkey: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("passkey: %w", store.ErrNotFound)
	}
	return nil
}
