package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"hearth/internal/event"
	"hearth/internal/store"
)

// funnelStep is a step as the steps column stores it: names of its own, so renaming a Go
// field never changes what is on disk.
type funnelStep struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Match         string `json:"match"`
	Pattern       string `json:"pattern"`
	CaseSensitive bool   `json:"case_sensitive"`
}

func encodeSteps(steps []store.FunnelStep) (string, error) {
	out := make([]funnelStep, len(steps))
	for i, s := range steps {
		out[i] = funnelStep{Name: s.Name, Kind: string(s.Kind), Match: string(s.Match), Pattern: s.Pattern, CaseSensitive: s.CaseSensitive}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return "", fmt.Errorf("encode funnel steps: %w", err)
	}
	return string(b), nil
}

func decodeSteps(s string) ([]store.FunnelStep, error) {
	var in []funnelStep
	if err := json.Unmarshal([]byte(s), &in); err != nil {
		return nil, fmt.Errorf("decode funnel steps: %w", err)
	}
	out := make([]store.FunnelStep, len(in))
	for i, st := range in {
		out[i] = store.FunnelStep{Name: st.Name, Kind: store.FunnelKind(st.Kind), Match: store.FunnelMatch(st.Match), Pattern: st.Pattern, CaseSensitive: st.CaseSensitive}
	}
	return out, nil
}

// CreateFunnel stores a funnel and returns it with its id.
func (s *Store) CreateFunnel(ctx context.Context, f store.Funnel) (store.Funnel, error) {
	steps, err := encodeSteps(f.Steps)
	if err != nil {
		return f, err
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO funnels (site_id, name, steps, created) VALUES (?,?,?,?)`,
		int64(f.SiteID), f.Name, steps, unix(f.Created))
	if err != nil {
		return f, fmt.Errorf("store funnel: %w", err)
	}
	f.ID, err = res.LastInsertId()
	return f, err
}

// UpdateFunnel replaces the name and steps of a funnel of the site.
func (s *Store) UpdateFunnel(ctx context.Context, f store.Funnel) error {
	steps, err := encodeSteps(f.Steps)
	if err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE funnels SET name = ?, steps = ? WHERE site_id = ? AND id = ?`, f.Name, steps, int64(f.SiteID), f.ID)
	if err != nil {
		return fmt.Errorf("update funnel: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("funnel %d: %w", f.ID, store.ErrNotFound)
	}
	return nil
}

// DeleteFunnel removes a funnel of the site.
func (s *Store) DeleteFunnel(ctx context.Context, site event.SiteID, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM funnels WHERE site_id = ? AND id = ?`, int64(site), id)
	if err != nil {
		return fmt.Errorf("delete funnel: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("funnel %d: %w", id, store.ErrNotFound)
	}
	return nil
}

const funnelColumns = `id, site_id, name, steps, created`

func scanFunnel(r scanner) (store.Funnel, error) {
	var f store.Funnel
	var site, created int64
	var steps string
	if err := r.Scan(&f.ID, &site, &f.Name, &steps, &created); err != nil {
		return f, err
	}
	f.SiteID, f.Created = event.SiteID(site), fromUnix(created)
	var err error
	f.Steps, err = decodeSteps(steps)
	return f, err
}

// Funnel reads one funnel of the site.
func (s *Store) Funnel(ctx context.Context, site event.SiteID, id int64) (store.Funnel, error) {
	return queryRow(ctx, s.db, fmt.Sprintf("funnel %d", id), scanFunnel, `SELECT `+funnelColumns+` FROM funnels WHERE site_id = ? AND id = ?`, int64(site), id)
}

// Funnels lists a site's funnels by id.
func (s *Store) Funnels(ctx context.Context, site event.SiteID) ([]store.Funnel, error) {
	return query(ctx, s.db, "list funnels", scanFunnel, `SELECT `+funnelColumns+` FROM funnels WHERE site_id = ? ORDER BY id`, int64(site))
}
