package sqlite

import (
	"context"
	"fmt"

	"hearth/internal/event"
	"hearth/internal/store"
)

// CreateCustomDimension stores a custom dimension with the next index of its scope.
func (s *Store) CreateCustomDimension(ctx context.Context, d store.CustomDimension) (store.CustomDimension, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return d, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT count(*) + 1 FROM custom_dimensions WHERE site_id = ? AND scope = ?`, int64(d.SiteID), d.Scope).Scan(&d.Index); err != nil {
		return d, fmt.Errorf("number custom dimension: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO custom_dimensions (site_id, name, scope, idx, active, case_sensitive, created) VALUES (?,?,?,?,?,?,?)`,
		int64(d.SiteID), d.Name, d.Scope, d.Index, b2i(d.Active), b2i(d.CaseSensitive), unix(d.Created))
	if err != nil {
		return d, fmt.Errorf("store custom dimension: %w", err)
	}
	if d.ID, err = res.LastInsertId(); err != nil {
		return d, err
	}
	return d, tx.Commit()
}

// UpdateCustomDimension replaces a dimension's name and flags.
func (s *Store) UpdateCustomDimension(ctx context.Context, d store.CustomDimension) error {
	res, err := s.db.ExecContext(ctx, `UPDATE custom_dimensions SET name = ?, active = ?, case_sensitive = ? WHERE id = ? AND site_id = ?`,
		d.Name, b2i(d.Active), b2i(d.CaseSensitive), d.ID, int64(d.SiteID))
	if err != nil {
		return fmt.Errorf("update custom dimension: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("custom dimension %d: %w", d.ID, store.ErrNotFound)
	}
	return nil
}

// CustomDimensions lists a site's custom dimensions.
func (s *Store) CustomDimensions(ctx context.Context, site event.SiteID) ([]store.CustomDimension, error) {
	return query(ctx, s.db, "list custom dimensions", scanCustomDimension,
		`SELECT id, site_id, name, scope, idx, active, case_sensitive, created FROM custom_dimensions WHERE site_id = ? ORDER BY id`, int64(site))
}

func scanCustomDimension(r scanner) (store.CustomDimension, error) {
	var d store.CustomDimension
	var siteID, created int64
	var active, cs int
	err := r.Scan(&d.ID, &siteID, &d.Name, &d.Scope, &d.Index, &active, &cs, &created)
	d.SiteID, d.Active, d.CaseSensitive, d.Created = event.SiteID(siteID), active == 1, cs == 1, fromUnix(created)
	return d, err
}
