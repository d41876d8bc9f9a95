package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"hearth/internal/auth"
	"hearth/internal/store"
)

// realtimeVisits is how many of the latest visits the real-time page lists.
const realtimeVisits = 10

// realtimeEvery is how often, in milliseconds, the real-time script asks for new figures.
const realtimeEvery = 5000

// liveCounter is one of the real-time figures: Live.getCounters' column over the last minutes.
type liveCounter struct {
	Key, ID string // message key; the element's data-counter, which the script updates
	Value   any
}

// liveView is what the real-time page shows and its script fetches again: the counters and,
// for users with view_raw, the latest visits.
type liveView struct {
	L        *locale
	CanRaw   bool
	Counters []liveCounter
	Visits   []liveVisit
	Updated  time.Time
	// Log links to the visitor log.
	Log template.URL
}

type realtimePage struct {
	frame
	Live liveView
	// Src is the address of the figures alone, which the script fetches every Every ms.
	Src   template.URL
	Every int
}

// realtime serves /site/{idSite}/realtime: visits and actions of the last 30 minutes and 24
// hours (Live.getCounters) and, for users with view_raw, the latest visits, newest first. The
// page is complete as served; realtime.js refreshes the figures from /realtime/data without a
// reload. Loading the page is one raw-data view in the audit trail; its refreshes continue
// that view (see realtimeData).
func (w *Web) realtime(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	live, err := w.liveFigures(r, p, site, s, false)
	if err != nil {
		return err
	}
	f, err := w.newFrame(r, p, live.L.Or("nav.realtime", "Real-time"), "realtime", site, s)
	if err != nil {
		return err
	}
	return w.renderPage(rw, http.StatusOK, "realtime.html", realtimePage{frame: f, Live: live, Src: s.SiteLink("/realtime/data"), Every: realtimeEvery})
}

// realtimeData serves /site/{idSite}/realtime/data: the real-time figures alone, as the HTML
// the page shows them in, for realtime.js. Its visitor log call says continueView=1: the API
// counts it as part of the user's view already recorded (the page load), so a page polling
// every five seconds adds no audit entry per poll, only one per half hour it stays open.
func (w *Web) realtimeData(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	live, err := w.liveFigures(r, p, site, s, true)
	if err != nil {
		return err
	}
	return w.renderPage(rw, http.StatusOK, "live_figures", live)
}

// liveFigures asks the API for the real-time figures as p, at once: the counters of the last
// 30 minutes and 24 hours and, with view_raw, the latest visits (continuing the page's
// recorded view when poll is set).
func (w *Web) liveFigures(r *http.Request, p *auth.Principal, site store.Site, s state, poll bool) (liveView, error) {
	id := strconv.FormatInt(int64(site.ID), 10)
	counters := func(minutes string) url.Values {
		v := url.Values{"method": {"Live.getCounters"}, "idSite": {id}, "lastMinutes": {minutes}}
		if s.Segment != "" {
			v.Set("segment", s.Segment)
		}
		return v
	}
	calls := []url.Values{counters("30"), counters("1440")}
	raw := p.CanViewRaw(site.ID)
	if raw {
		v := url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {id}, "filter_limit": {strconv.Itoa(realtimeVisits)}}
		if s.Segment != "" {
			v.Set("segment", s.Segment)
		}
		if poll {
			v.Set("continueView", "1")
		}
		calls = append(calls, v)
	}
	got, err := w.callAll(r, p, calls)
	if err != nil {
		return liveView{}, err
	}
	loc := siteZone(site)
	live := liveView{L: w.msgs.locale(r), CanRaw: raw, Updated: w.now().In(loc), Log: s.SiteLink("/visitors")}
	last30, last24 := liveFirst(got[0]), liveFirst(got[1])
	live.Counters = []liveCounter{
		{"live.visits30", "visits30", last30["visits"]},
		{"live.actions30", "actions30", last30["actions"]},
		{"live.visits24", "visits24", last24["visits"]},
		{"live.actions24", "actions24", last24["actions"]},
	}
	for i := range live.Counters {
		if live.Counters[i].Value == nil {
			live.Counters[i].Value = 0
		}
	}
	if raw {
		live.Visits = liveVisits(live.L, rows(got[2]), loc, func(v string) template.URL { return s.SiteLink("/visitors/" + v) })
	}
	return live, nil
}

// liveFirst is the one row of a Live.getCounters answer.
func liveFirst(v any) map[string]any {
	if list := rows(v); len(list) > 0 {
		return list[0]
	}
	return map[string]any{}
}
