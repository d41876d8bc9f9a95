package sqlite

import (
	"context"
	"fmt"
	"time"

	"hearth/internal/event"
	"hearth/internal/store"
)

// SetRole replaces a user's role on a site (an empty role removes it).
func (s *Store) SetRole(ctx context.Context, g store.Grant) error {
	if g.Name == "" {
		_, err := s.db.ExecContext(ctx, `DELETE FROM access WHERE login = ? AND site_id = ?`, g.Login, g.SiteID)
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO access (login, site_id, role, expires, granted_by, created) VALUES (?,?,?,?,?,?)
		ON CONFLICT(login, site_id) DO UPDATE SET role = excluded.role, expires = excluded.expires, granted_by = excluded.granted_by, created = excluded.created`,
		g.Login, g.SiteID, g.Name, unix(g.Expires), g.GrantedBy, unix(g.Created))
	if isConstraint(err) {
		return fmt.Errorf("user %q: %w", g.Login, store.ErrNotFound)
	}
	return err
}

// AddCapability grants a capability on a site.
func (s *Store) AddCapability(ctx context.Context, g store.Grant) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO capabilities (login, site_id, capability, expires, granted_by, created) VALUES (?,?,?,?,?,?)
		ON CONFLICT(login, site_id, capability) DO UPDATE SET expires = excluded.expires, granted_by = excluded.granted_by, created = excluded.created`,
		g.Login, g.SiteID, g.Name, unix(g.Expires), g.GrantedBy, unix(g.Created))
	if isConstraint(err) {
		return fmt.Errorf("user %q: %w", g.Login, store.ErrNotFound)
	}
	return err
}

// RemoveCapability withdraws a capability.
func (s *Store) RemoveCapability(ctx context.Context, login string, site event.SiteID, capability string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM capabilities WHERE login = ? AND site_id = ? AND capability = ?`, login, site, capability)
	return err
}

// scanGrant reads a row of (login, site_id, name, expires, granted_by, created).
func scanGrant(r scanner) (store.Grant, error) {
	var g store.Grant
	var expires, created int64
	err := r.Scan(&g.Login, &g.SiteID, &g.Name, &expires, &g.GrantedBy, &created)
	g.Expires, g.Created = fromUnix(expires), fromUnix(created)
	return g, err
}

// Grants lists roles and capabilities.
func (s *Store) Grants(ctx context.Context, login string) ([]store.Grant, []store.Grant, error) {
	read := func(q string) ([]store.Grant, error) {
		var args []any
		if login != "" {
			q += ` WHERE login = ?`
			args = append(args, login)
		}
		return query(ctx, s.db, "list grants", scanGrant, q+` ORDER BY login, site_id`, args...)
	}
	roles, err := read(`SELECT login, site_id, role, expires, granted_by, created FROM access`)
	if err != nil {
		return nil, nil, err
	}
	caps, err := read(`SELECT login, site_id, capability, expires, granted_by, created FROM capabilities`)
	return roles, caps, err
}

// DeleteExpiredGrants removes lapsed grants and returns them.
func (s *Store) DeleteExpiredGrants(ctx context.Context, now time.Time) ([]store.Grant, []store.Grant, error) {
	del := func(table, name string) ([]store.Grant, error) {
		// #nosec G202 -- table and column names are the two constants below.
		return query(ctx, s.db, "expire grants", scanGrant, `DELETE FROM `+table+` WHERE expires > 0 AND expires <= ?
			RETURNING login, site_id, `+name+`, expires, granted_by, created`, now.Unix())
	}
	roles, err := del("access", "role")
	if err != nil {
		return nil, nil, err
	}
	caps, err := del("capabilities", "capability")
	return roles, caps, err
}
