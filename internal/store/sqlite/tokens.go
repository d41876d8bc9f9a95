package sqlite

import (
	"context"
	"fmt"
	"time"

	"hearth/internal/store"
)

// CreateToken stores a token and returns its id.
func (s *Store) CreateToken(ctx context.Context, t store.Token) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO tokens (login, hash, description, created, last_used, expires, read_only, post_only) VALUES (?,?,?,?,?,?,?,?)`,
		t.Login, t.Hash, t.Description, unix(t.Created), unix(t.LastUsed), unix(t.Expires), b2i(t.ReadOnly), b2i(t.PostOnly))
	if err != nil {
		return 0, fmt.Errorf("create token: %w", err)
	}
	return res.LastInsertId()
}

// TokenByHash finds a token by its keyed hash.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (store.Token, error) {
	return queryRow(ctx, s.db, "token", scanToken, `SELECT `+tokenColumns+` FROM tokens WHERE hash = ?`, hash)
}

const tokenColumns = `id, login, hash, description, created, last_used, expires, read_only, post_only` // #nosec G101 -- column names

func scanToken(r scanner) (store.Token, error) {
	var t store.Token
	var created, used, expires int64
	var ro, po int
	err := r.Scan(&t.ID, &t.Login, &t.Hash, &t.Description, &created, &used, &expires, &ro, &po)
	t.Created, t.LastUsed, t.Expires = fromUnix(created), fromUnix(used), fromUnix(expires)
	t.ReadOnly, t.PostOnly = ro == 1, po == 1
	return t, err
}

// TouchToken records a token's last use.
func (s *Store) TouchToken(ctx context.Context, id int64, at time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE tokens SET last_used = ? WHERE id = ? AND last_used < ?`, at.Unix(), id, at.Unix())
	return err
}

// TokenSeenFrom records a token's client address; true the first time.
func (s *Store) TokenSeenFrom(ctx context.Context, id int64, ipHash []byte, at time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `INSERT OR IGNORE INTO token_addresses (token_id, ip_hash, first_seen) VALUES (?, ?, ?)`, id, ipHash, at.Unix())
	if err != nil {
		return false, fmt.Errorf("record token address: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// Tokens lists tokens of one user, or of all users when login is empty.
func (s *Store) Tokens(ctx context.Context, login string) ([]store.Token, error) {
	q := `SELECT ` + tokenColumns + ` FROM tokens`
	var args []any
	if login != "" {
		q += ` WHERE login = ?`
		args = append(args, login)
	}
	return query(ctx, s.db, "list tokens", scanToken, q+` ORDER BY id`, args...)
}

// DeleteToken revokes a token.
func (s *Store) DeleteToken(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM tokens WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("revoke token: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("token %d: %w", id, store.ErrNotFound)
	}
	return nil
}
