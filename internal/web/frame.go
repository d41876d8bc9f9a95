package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"hearth/internal/auth"
	"hearth/internal/store"
)

// frame is what every dashboard page shows around its content: who is signed in, the site
// and the switcher to the others, the sections of the site, the date picker and the segment.
type frame struct {
	L                   *locale
	Title               string
	Login               string
	Superuser, CanAudit bool
	// AdminAny: the user administers at least one site (the admin pages).
	AdminAny bool
	// Site is the site shown (ID 0 on pages of no site).
	Site store.Site
	// Sites are the sites the user can view, for the switcher.
	Sites []store.Site
	// Section names the active part of the site ("overview", "report", "realtime", ...).
	Section string
	S       state
	// CanRaw, CanWrite, CanAdmin are the user's rights on Site.
	CanRaw, CanWrite, CanAdmin bool
	// Assets are the content-hashed addresses of the stylesheet and script.
	CSS, JS string
	// Path is the page's path, for forms that come back to it.
	Path string
	// Segments are the saved segments the user can apply on Site; Dims the dimensions the
	// segment editor offers.
	Segments []savedSegment
	Dims     []segmentDim
}

type savedSegment struct{ Name, Definition string }

type segmentDim struct{ Segment, Name, Category string }

// newFrame builds a page's frame for p; site may be the zero Site on pages of no site.
func (w *Web) newFrame(r *http.Request, p *auth.Principal, title, section string, site store.Site, s state) (frame, error) {
	sites, err := w.meta.Sites(r.Context())
	if err != nil {
		return frame{}, err
	}
	f := frame{L: w.msgs.locale(r), Title: title, Login: p.User.Login, Superuser: p.IsSuperuser(), Site: site, Section: section, S: s,
		CSS: w.asset("hearth.css"), JS: w.asset("dash.js")}
	for _, st := range sites {
		if p.CanView(st.ID) {
			f.Sites = append(f.Sites, st)
		}
		if p.CanAdmin(st.ID) {
			f.AdminAny = true
		}
	}
	f.CanAudit = f.Superuser || f.AdminAny
	f.Path = r.URL.Path
	if site.ID != 0 {
		f.CanRaw, f.CanWrite, f.CanAdmin = p.CanViewRaw(site.ID), p.CanWrite(site.ID), p.CanAdmin(site.ID)
		got, err := w.callAll(r, p, []url.Values{
			{"method": {"SegmentEditor.getAll"}, "idSite": {f.SiteID()}},
			{"method": {"API.getSegmentsMetadata"}, "idSites": {f.SiteID()}},
		})
		if err != nil {
			return frame{}, err
		}
		for _, row := range rows(got[0]) {
			f.Segments = append(f.Segments, savedSegment{Name: fmt.Sprint(row["name"]), Definition: fmt.Sprint(row["definition"])})
		}
		for _, row := range rows(got[1]) {
			f.Dims = append(f.Dims, segmentDim{Segment: fmt.Sprint(row["segment"]), Name: fmt.Sprint(row["name"]), Category: fmt.Sprint(row["category"])})
		}
	}
	return f, nil
}

// SiteID is the shown site's number as text, for forms.
func (f frame) SiteID() string { return strconv.FormatInt(int64(f.Site.ID), 10) }
