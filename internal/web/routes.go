package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// siteRoutes mounts the dashboard: the pages of one site and the administration. Each page
// file adds its routes here.
func (w *Web) siteRoutes(mux *http.ServeMux) {
	mux.Handle("GET /site", w.serve(w.switchSite))
	mux.Handle("GET /site/{idSite}", w.serve(w.overview))
	mux.Handle("POST /site/{idSite}/segments", w.serve(w.saveSegment))
	mux.Handle("GET /site/{idSite}/realtime", w.serve(w.realtime))
	mux.Handle("GET /site/{idSite}/realtime/data", w.serve(w.realtimeData))
	mux.Handle("GET /site/{idSite}/visitors", w.serve(w.visitors))
	mux.Handle("GET /site/{idSite}/visitors/{visitorId}", w.serve(w.profile))
	w.adminRoutes(mux) // admin.go
	mux.Handle("GET /site/{idSite}/reports", w.serve(w.reportIndex))
	mux.Handle("GET /site/{idSite}/report/{method}", w.serve(w.report))
	mux.Handle("GET /site/{idSite}/report/{method}/evolution", w.serve(w.reportEvolution))
	mux.Handle("GET /site/{idSite}/report/{method}/export", w.serve(w.reportExport))
	mux.Handle("GET /site/{idSite}/goals", w.serve(w.goals))
	mux.Handle("POST /site/{idSite}/goals", w.serve(w.changeGoal))
	mux.Handle("GET /site/{idSite}/goals/{idGoal}", w.serve(w.goal))
	mux.Handle("GET /site/{idSite}/ecommerce", w.serve(w.ecommerce))
	mux.Handle("GET /site/{idSite}/funnels", w.serve(w.funnels))
	mux.Handle("POST /site/{idSite}/funnels", w.serve(w.changeFunnel))
	mux.Handle("GET /site/{idSite}/funnels/{idFunnel}", w.serve(w.funnel))
}

// switchSite serves the site switcher's form: /site?idSite=N goes to that site's overview with
// the period kept.
func (w *Web) switchSite(rw http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	n, err := strconv.ParseInt(q.Get("idSite"), 10, 32)
	if err != nil || n <= 0 {
		return pageErrorT(http.StatusBadRequest, "dash.err.choosesite")
	}
	keep := url.Values{}
	for _, k := range []string{"period", "date"} {
		if v := q.Get(k); v != "" {
			keep.Set(k, v)
		}
	}
	return &redirect{fmt.Sprintf("/site/%d?%s", n, keep.Encode())}
}

// saveSegment serves the segment bar's save form: the applied segment stored under a name
// with SegmentEditor.add (write access to the site, as the API requires), then back to the
// page it came from.
func (w *Web) saveSegment(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.signedIn(r)
	if err != nil {
		return err
	}
	site, err := w.siteOf(r, p)
	if err != nil {
		return err
	}
	if err := readForm(rw, r); err != nil {
		return err
	}
	def := r.PostForm.Get("definition")
	if _, err := w.change(r, p, url.Values{"method": {"SegmentEditor.add"}, "idSite": {strconv.FormatInt(int64(site.ID), 10)},
		"name": {r.PostForm.Get("name")}, "definition": {def}}); err != nil {
		return err
	}
	return &redirect{localBack(r.PostForm.Get("back"), fmt.Sprintf("/site/%d?segment=%s", site.ID, url.QueryEscape(def)))}
}

// localBack is a form's return address when it is a path on this server, else fallback: a
// form cannot send the browser to another site.
func localBack(back, fallback string) string {
	if strings.HasPrefix(back, "/") && !strings.HasPrefix(back, "//") && !strings.ContainsAny(back, "\\\r\n") {
		if u, err := url.Parse(back); err == nil && u.Host == "" && u.Scheme == "" {
			return back
		}
	}
	return fallback
}
