package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"hearth/internal/store"
)

// CreateUser stores a new user; ErrConflict when the login exists.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO users (login, email, password_hash, superuser, disabled, created) VALUES (?,?,?,?,?,?)`,
		u.Login, u.Email, u.PasswordHash, b2i(u.Superuser), b2i(u.Disabled), unix(u.Created))
	if isConstraint(err) {
		return fmt.Errorf("user %q: %w", u.Login, store.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	return nil
}

// User returns one user.
func (s *Store) User(ctx context.Context, login string) (store.User, error) {
	return queryRow(ctx, s.db, "user", scanUser, `SELECT `+userColumns+` FROM users WHERE login = ?`, login)
}

const userColumns = `login, email, password_hash, superuser, disabled, created`

func scanUser(r scanner) (store.User, error) {
	var u store.User
	var su, dis int
	var created int64
	err := r.Scan(&u.Login, &u.Email, &u.PasswordHash, &su, &dis, &created)
	u.Superuser, u.Disabled, u.Created = su == 1, dis == 1, fromUnix(created)
	return u, err
}

// Users lists every user by login.
func (s *Store) Users(ctx context.Context) ([]store.User, error) {
	return query(ctx, s.db, "list users", scanUser, `SELECT `+userColumns+` FROM users ORDER BY login`)
}

// UpdateUser replaces a user's mutable fields in one transaction that also checks at least
// one enabled superuser remains.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE users SET email = ?, password_hash = ?, superuser = ?, disabled = ? WHERE login = ?`,
		u.Email, u.PasswordHash, b2i(u.Superuser), b2i(u.Disabled), u.Login)
	if err != nil {
		return fmt.Errorf("update user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user: %w", store.ErrNotFound)
	}
	if err := keepsSuperuser(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// keepsSuperuser refuses, inside a transaction, a change that left no enabled superuser.
func keepsSuperuser(ctx context.Context, tx *sql.Tx) error {
	var supers int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE superuser = 1 AND disabled = 0`).Scan(&supers); err != nil {
		return err
	}
	if supers == 0 {
		return store.ErrLastSuperuser
	}
	return nil
}

// CountSuperusers counts enabled superusers.
func (s *Store) CountSuperusers(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE superuser = 1 AND disabled = 0`).Scan(&n)
	return n, err
}

// DeleteUser removes a user, their grants and tokens, keeping one enabled superuser.
func (s *Store) DeleteUser(ctx context.Context, login string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{`DELETE FROM access WHERE login = ?`, `DELETE FROM capabilities WHERE login = ?`, `DELETE FROM tokens WHERE login = ?`} {
		if _, err := tx.ExecContext(ctx, q, login); err != nil {
			return fmt.Errorf("delete user: %w", err)
		}
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM users WHERE login = ?`, login)
	if err != nil {
		return fmt.Errorf("delete user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user: %w", store.ErrNotFound)
	}
	if err := keepsSuperuser(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}
