package matomo

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"hearth/internal/event"
	"hearth/internal/report"
	"hearth/internal/store"
)

// SegmentEditor: named segments. Creating one for a site needs write access to it (as
// Matomo's write role), for every site superuser access; sharing with all users needs admin
// access to the site (superuser for every site). A segment is seen by its owner and, when
// shared, by everyone who can view its site; it is changed or deleted by its owner (while they
// can still write to the site) or a superuser.

// segmentInput reads and checks the fields of add and update.
func (a *API) segmentInput(ctx context.Context, c *call, seg *store.Segment) error {
	if v, ok := c.params["name"]; ok || seg.ID == 0 {
		name := strings.TrimSpace(first(v))
		if name == "" || len(name) > 255 {
			return errorf(400, "Please specify a 'name' of 1 to 255 characters.")
		}
		seg.Name = name
	}
	if v, ok := c.params["definition"]; ok || seg.ID == 0 {
		def := strings.TrimSpace(first(v))
		parsed, err := report.ParseSegment(def)
		if err == nil {
			_, err = report.Compile(parsed, a.opts.Pseudonym)
		}
		var se *report.SegmentError
		if errors.As(err, &se) {
			return errorf(400, "%s", se.Error())
		}
		if err != nil {
			return err
		}
		if def == "" {
			return errorf(400, "Please specify a value for 'definition'.")
		}
		seg.Definition = def
	}
	if v, ok := c.params["idSite"]; ok {
		n, err := strconv.ParseInt(strings.TrimSpace(first(v)), 10, 32)
		if err != nil || n < 0 {
			return errorf(400, "The parameter idSite must be a site id, or 0 for every site.")
		}
		seg.SiteID = event.SiteID(n)
		if n > 0 {
			if _, err := a.opts.Meta.Site(ctx, seg.SiteID); errors.Is(err, store.ErrNotFound) {
				if !c.principal.CanView(seg.SiteID) {
					return noAccess()
				}
				return errorf(400, "The website id = %d couldn't be found", n)
			}
		}
	}
	if v, ok := c.params["enabledAllUsers"]; ok {
		seg.AllUsers = isTrue(first(v))
	}
	if v, ok := c.params["autoArchive"]; ok {
		seg.AutoArchive = isTrue(first(v))
	}
	// Who may put the segment where it now is.
	if seg.SiteID == 0 && !c.principal.IsSuperuser() {
		return errorf(401, "You can't access this resource as it requires superuser access (a segment for every website).")
	}
	if seg.SiteID != 0 && !c.principal.CanWrite(seg.SiteID) {
		return errorf(401, "You can't access this resource as it requires 'write' access for the website id = %d.", seg.SiteID)
	}
	if seg.AllUsers && seg.SiteID != 0 && !c.principal.CanAdmin(seg.SiteID) {
		return errorf(401, "You can't access this resource as it requires 'admin' access for the website id = %d to share a segment with all users.", seg.SiteID)
	}
	return nil
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// segmentVisible reports whether the principal sees a segment.
func segmentVisible(c *call, seg store.Segment) bool {
	p := c.principal
	switch {
	case p.IsSuperuser():
		return true
	case seg.SiteID != 0 && !p.CanView(seg.SiteID):
		return false
	}
	return seg.Login == p.User.Login || seg.AllUsers
}

// segmentOf loads the segment idSegment names, if the principal sees it.
func (a *API) segmentOf(ctx context.Context, c *call) (store.Segment, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(c.params.Get("idSegment")), 10, 64)
	if err != nil || id <= 0 {
		return store.Segment{}, errorf(400, "Please specify a value for 'idSegment'.")
	}
	seg, err := a.opts.Meta.Segment(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !segmentVisible(c, seg) {
		// One answer whether it does not exist or is someone else's: no probing for ids.
		return store.Segment{}, errorf(401, "You can't access the segment %d: it does not exist or is not shared with you.", id)
	}
	return seg, err
}

func segmentRow(s store.Segment) *Row {
	return NewRow().Set("idsegment", s.ID).Set("name", s.Name).Set("definition", s.Definition).Set("login", s.Login).
		Set("enable_all_users", s.AllUsers).Set("enable_only_idsite", int64(s.SiteID)).Set("auto_archive", s.AutoArchive).
		Set("ts_created", s.Created.UTC().Format("2006-01-02 15:04:05")).Set("ts_last_edit", s.Updated.UTC().Format("2006-01-02 15:04:05")).
		Set("deleted", 0)
}

func (a *API) segmentAdd(ctx context.Context, c *call) (any, error) {
	now := a.opts.Now().UTC()
	seg := store.Segment{Login: c.principal.User.Login, Created: now, Updated: now}
	if err := a.segmentInput(ctx, c, &seg); err != nil {
		return nil, err
	}
	id, err := a.opts.Meta.CreateSegment(ctx, seg)
	if err != nil {
		return nil, err
	}
	return value{id}, nil
}

func (a *API) segmentUpdate(ctx context.Context, c *call) (any, error) {
	seg, err := a.segmentOf(ctx, c)
	if err != nil {
		return nil, err
	}
	if seg.Login != c.principal.User.Login && !c.principal.IsSuperuser() {
		return nil, errorf(401, "You can't access this resource as it requires being the segment's owner or a superuser.")
	}
	if err := a.segmentInput(ctx, c, &seg); err != nil {
		return nil, err
	}
	seg.Updated = a.opts.Now().UTC()
	if err := a.opts.Meta.UpdateSegment(ctx, seg); err != nil {
		return nil, err
	}
	return success{}, nil
}

func (a *API) segmentDelete(ctx context.Context, c *call) (any, error) {
	seg, err := a.segmentOf(ctx, c)
	if err != nil {
		return nil, err
	}
	if seg.Login != c.principal.User.Login && !c.principal.IsSuperuser() {
		return nil, errorf(401, "You can't access this resource as it requires being the segment's owner or a superuser.")
	}
	if err := a.opts.Meta.DeleteSegment(ctx, seg.ID); err != nil {
		return nil, err
	}
	return success{}, nil
}

func (a *API) segmentGet(ctx context.Context, c *call) (any, error) {
	seg, err := a.segmentOf(ctx, c)
	if err != nil {
		return nil, err
	}
	return segmentRow(seg), nil
}

// segmentGetAll lists the segments the principal sees, of one site (with those for every
// site) or of all.
func (a *API) segmentGetAll(ctx context.Context, c *call) (any, error) {
	var site event.SiteID
	if raw := strings.TrimSpace(c.params.Get("idSite")); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 32)
		if err != nil || n < 0 {
			return nil, errorf(400, "The parameter idSite must be a site id.")
		}
		site = event.SiteID(n)
		if site != 0 && !c.principal.CanView(site) {
			return nil, noAccess()
		}
	}
	all, err := a.opts.Meta.Segments(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Row{}
	for _, s := range all {
		if segmentVisible(c, s) && (site == 0 || s.SiteID == 0 || s.SiteID == site) {
			out = append(out, segmentRow(s))
		}
	}
	return out, nil
}
