package sqlite

import (
	"context"
	"fmt"

	"hearth/internal/event"
	"hearth/internal/store"
)

// CreateSegment stores a named segment.
func (s *Store) CreateSegment(ctx context.Context, seg store.Segment) (int64, error) {
	res, err := s.db.ExecContext(ctx, `INSERT INTO segments (login, name, definition, site_id, all_users, auto_archive, created, updated)
		VALUES (?,?,?,?,?,?,?,?)`, seg.Login, seg.Name, seg.Definition, int64(seg.SiteID), b2i(seg.AllUsers), b2i(seg.AutoArchive),
		unix(seg.Created), unix(seg.Updated))
	if err != nil {
		return 0, fmt.Errorf("store segment: %w", err)
	}
	return res.LastInsertId()
}

// UpdateSegment replaces a segment's name, definition, site and sharing.
func (s *Store) UpdateSegment(ctx context.Context, seg store.Segment) error {
	res, err := s.db.ExecContext(ctx, `UPDATE segments SET name = ?, definition = ?, site_id = ?, all_users = ?, auto_archive = ?, updated = ?
		WHERE id = ?`, seg.Name, seg.Definition, int64(seg.SiteID), b2i(seg.AllUsers), b2i(seg.AutoArchive), unix(seg.Updated), seg.ID)
	if err != nil {
		return fmt.Errorf("update segment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("segment %d: %w", seg.ID, store.ErrNotFound)
	}
	return nil
}

const segmentColumns = `id, login, name, definition, site_id, all_users, auto_archive, created, updated`

func scanSegment(r scanner) (store.Segment, error) {
	var seg store.Segment
	var site int64
	var all, auto int
	var created, updated int64
	err := r.Scan(&seg.ID, &seg.Login, &seg.Name, &seg.Definition, &site, &all, &auto, &created, &updated)
	seg.SiteID, seg.AllUsers, seg.AutoArchive = event.SiteID(site), all == 1, auto == 1
	seg.Created, seg.Updated = fromUnix(created), fromUnix(updated)
	return seg, err
}

// Segment reads one segment.
func (s *Store) Segment(ctx context.Context, id int64) (store.Segment, error) {
	return queryRow(ctx, s.db, fmt.Sprintf("segment %d", id), scanSegment, `SELECT `+segmentColumns+` FROM segments WHERE id = ?`, id)
}

// Segments lists every segment.
func (s *Store) Segments(ctx context.Context) ([]store.Segment, error) {
	return query(ctx, s.db, "list segments", scanSegment, `SELECT `+segmentColumns+` FROM segments ORDER BY id`)
}

// DeleteSegment removes a segment.
func (s *Store) DeleteSegment(ctx context.Context, id int64) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM segments WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete segment: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("segment %d: %w", id, store.ErrNotFound)
	}
	return nil
}
