package sqlite

import (
	"context"
	"fmt"

	"hearth/internal/event"
	"hearth/internal/store"
)

// CreateGoal stores a goal with the next id of its site (deleted goals keep theirs).
func (s *Store) CreateGoal(ctx context.Context, g store.Goal) (store.Goal, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return g, err
	}
	defer tx.Rollback()
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM goals WHERE site_id = ?`, int64(g.SiteID)).Scan(&g.ID); err != nil {
		return g, fmt.Errorf("number goal: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO goals (site_id, id, name, description, match_attribute, pattern, pattern_type,
		case_sensitive, allow_multiple, revenue, event_value_as_revenue, created) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		int64(g.SiteID), g.ID, g.Name, g.Description, g.MatchAttribute, g.Pattern, g.PatternType,
		b2i(g.CaseSensitive), b2i(g.AllowMultiple), g.Revenue, b2i(g.EventValueAsRevenue), unix(g.Created)); err != nil {
		return g, fmt.Errorf("store goal: %w", err)
	}
	return g, tx.Commit()
}

// UpdateGoal replaces the definition of a goal that is not deleted.
func (s *Store) UpdateGoal(ctx context.Context, g store.Goal) error {
	res, err := s.db.ExecContext(ctx, `UPDATE goals SET name = ?, description = ?, match_attribute = ?, pattern = ?, pattern_type = ?,
		case_sensitive = ?, allow_multiple = ?, revenue = ?, event_value_as_revenue = ? WHERE site_id = ? AND id = ? AND deleted = 0`,
		g.Name, g.Description, g.MatchAttribute, g.Pattern, g.PatternType, b2i(g.CaseSensitive), b2i(g.AllowMultiple),
		g.Revenue, b2i(g.EventValueAsRevenue), int64(g.SiteID), g.ID)
	if err != nil {
		return fmt.Errorf("update goal: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("goal %d: %w", g.ID, store.ErrNotFound)
	}
	return nil
}

// DeleteGoal marks a goal deleted.
func (s *Store) DeleteGoal(ctx context.Context, site event.SiteID, id int32) error {
	res, err := s.db.ExecContext(ctx, `UPDATE goals SET deleted = 1 WHERE site_id = ? AND id = ? AND deleted = 0`, int64(site), id)
	if err != nil {
		return fmt.Errorf("delete goal: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("goal %d: %w", id, store.ErrNotFound)
	}
	return nil
}

// Goals lists a site's goals that are not deleted.
func (s *Store) Goals(ctx context.Context, site event.SiteID) ([]store.Goal, error) {
	return query(ctx, s.db, "list goals", scanGoal, `SELECT site_id, id, name, description, match_attribute, pattern, pattern_type,
		case_sensitive, allow_multiple, revenue, event_value_as_revenue, created FROM goals WHERE site_id = ? AND deleted = 0 ORDER BY id`, int64(site))
}

func scanGoal(r scanner) (store.Goal, error) {
	var g store.Goal
	var siteID, created int64
	var cs, multi, evRev int
	err := r.Scan(&siteID, &g.ID, &g.Name, &g.Description, &g.MatchAttribute, &g.Pattern, &g.PatternType,
		&cs, &multi, &g.Revenue, &evRev, &created)
	g.SiteID, g.CaseSensitive, g.AllowMultiple, g.EventValueAsRevenue, g.Created = event.SiteID(siteID), cs == 1, multi == 1, evRev == 1, fromUnix(created)
	return g, err
}
