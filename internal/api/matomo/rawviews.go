package matomo

import (
	"sync"
	"time"

	"hearth/internal/event"
)

// A view of the visitor log that goes on. The dashboard's real-time page shows the latest
// visits and asks again every few seconds while it is open: the audit trail should say once
// that this user looked at the site's raw data, not every five seconds. So a
// Live.getLastVisitsDetails call with continueView=1 is part of the view the same user last
// had recorded for the same site, if that was recorded less than viewWindow ago, and is not
// recorded again, provided it asks what the real-time page asks: at most maxContinuedVisits of
// the latest visits, from the first, with no period or date of its own, under the same segment
// as the recorded view. Any other call is recorded as a view of its own, and so is a continuation
// with no such view to continue (another site, the window over, the server restarted): a page
// left open for hours leaves one entry per window, so the trail still shows the watching go
// on, and a client cannot use the parameter to read raw data unrecorded for longer than that.
const viewWindow = 30 * time.Minute

// maxOpenViews bounds what rawViews remembers; past it, views are still recorded but no longer
// continued, which only adds entries.
const maxOpenViews = 10_000

// maxContinuedVisits is the most visits a continuing call may ask for: the real-time page's
// list of latest visits.
const maxContinuedVisits = 10

type viewKey struct {
	actor   string
	site    event.SiteID
	segment string
}

// rawViews remembers when each user's last raw-data view of a site was recorded. The zero
// value is ready to use.
type rawViews struct {
	mu   sync.Mutex
	last map[viewKey]time.Time
}

// continues reports whether a continuation by actor on site at now belongs to a view already
// recorded.
func (v *rawViews) continues(actor string, site event.SiteID, segment string, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	t, ok := v.last[viewKey{actor, site, segment}]
	return ok && !now.Before(t) && now.Sub(t) < viewWindow
}

// recorded notes that a view by actor of site was recorded at now.
func (v *rawViews) recorded(actor string, site event.SiteID, segment string, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.last == nil {
		v.last = map[viewKey]time.Time{}
	}
	k := viewKey{actor, site, segment}
	if _, ok := v.last[k]; !ok && len(v.last) >= maxOpenViews {
		for old, t := range v.last {
			if now.Sub(t) >= viewWindow || now.Before(t) {
				delete(v.last, old)
			}
		}
		if len(v.last) >= maxOpenViews {
			return
		}
	}
	v.last[k] = now
}
