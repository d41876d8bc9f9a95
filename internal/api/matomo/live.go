package matomo

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/report"
	"hearth/internal/requestid"
	"hearth/internal/store"
)

// liveRange resolves period and date of a Live request in the site's timezone, as every
// report does; without a date the whole history is listed, newest first.
func liveRange(c *call, tz *time.Location, now time.Time) (time.Time, time.Time, error) {
	date := strings.TrimSpace(c.params.Get("date"))
	if date == "" {
		return time.Time{}, time.Time{}, nil
	}
	period := strings.TrimSpace(c.params.Get("period"))
	if period == "" {
		period = "day"
	}
	d, err := report.ParseDates(period, date, tz, now)
	if err != nil {
		return time.Time{}, time.Time{}, errorf(400, "%s", err.Error())
	}
	return d.Periods[0].From, d.Periods[len(d.Periods)-1].To, nil
}

func (a *API) lastVisits(ctx context.Context, c *call) (any, error) {
	ids, err := a.siteIDs(ctx, c)
	if err != nil {
		return nil, err
	}
	all := strings.TrimSpace(c.params.Get("idSite")) == "all"
	raw := ids[:0:0]
	for _, id := range ids {
		switch {
		case c.principal.CanViewRaw(id):
			raw = append(raw, id)
		case !all:
			return nil, errorf(401, "You can't access this resource as it requires the 'view_raw' capability for the website id = %d.", id)
		}
	}
	ids = raw
	if len(ids) == 0 {
		return []*Row{}, nil
	}
	site, err := a.opts.Meta.Site(ctx, ids[0])
	if err != nil {
		return nil, err
	}
	tz, err := time.LoadLocation(site.Timezone)
	if err != nil {
		tz = time.UTC
	}
	from, to, err := liveRange(c, tz, a.opts.Now())
	if err != nil {
		return nil, err
	}
	seg, err := a.segment(c)
	if err != nil {
		return nil, err
	}
	limit := 100
	if s := c.params.Get("filter_limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < -1 {
			return nil, errorf(400, "filter_limit must be a number.")
		}
		if n == -1 || n > 10000 {
			n = 10000
		}
		limit = n
	}
	offset := 0
	if s := c.params.Get("filter_offset"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, errorf(400, "filter_offset must be a non-negative number.")
		}
		offset = n
	}
	if s := c.params.Get("minTimestamp"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, errorf(400, "minTimestamp must be a Unix timestamp.")
		}
		if t := time.Unix(n, 0); from.IsZero() || t.After(from) {
			from = t
		}
	}
	withActions := c.params.Get("doNotFetchActions") != "1" && c.params.Get("doNotFetchActions") != "true"
	if limit == 0 {
		return []*Row{}, nil
	}
	// The visits come at once (a page holds at most 10,000), their actions while the answer
	// is written: see visitLog.
	visits, err := a.opts.Events.Visits(ctx, store.VisitQuery{Sites: ids, From: from, To: to, Limit: limit, Offset: offset, CountActions: withActions, Segment: seg})
	if err != nil {
		return nil, err
	}
	// One entry per view of each site; a call continuing a view already recorded adds none
	// (rawviews.go).
	continued, now := isTrue(c.params.Get("continueView")), a.opts.Now()
	// Only the real-time page's shape continues a view: the latest few visits, no page past
	// the first, no period of the caller's choosing, under the segment the view was recorded
	// with. Anything else reads more than the view showed and is recorded as a view of its own.
	continuable := continued && limit <= maxContinuedVisits && offset == 0 && c.params.Get("period") == "" && c.params.Get("date") == ""
	segKey := c.params.Get("segment")
	for _, id := range ids {
		if continuable && a.views.continues(c.actor(), id, segKey, now) {
			continue
		}
		details := map[string]string{"method": "Live.getLastVisitsDetails", "visits": strconv.Itoa(len(visits))}
		if continued {
			details["view"] = "continued"
		}
		a.record(ctx, c, audit.ActionRawDataView, fmt.Sprintf("site:%d", id), audit.Success, details)
		a.views.recorded(c.actor(), id, segKey, now)
	}
	currency := map[event.SiteID]string{site.ID: site.Currency}
	goalNames := map[event.SiteID]map[int32]string{}
	for _, d := range visits {
		if _, ok := currency[d.Visit.SiteID]; !ok {
			cur := ""
			if s, err := a.opts.Meta.Site(ctx, d.Visit.SiteID); err == nil {
				cur = s.Currency
			}
			currency[d.Visit.SiteID] = cur
		}
		if _, ok := goalNames[d.Visit.SiteID]; !ok && withActions && d.Visit.Conversions > 0 {
			names := map[int32]string{}
			goals, err := a.opts.Meta.Goals(ctx, d.Visit.SiteID)
			if err != nil {
				return nil, err
			}
			for _, g := range goals {
				names[g.ID] = g.Name
			}
			goalNames[d.Visit.SiteID] = names
		}
	}
	maxActions := a.visitorLogMaxActions()
	l := &visitLog{
		visits: visits, withActions: withActions, maxActions: maxActions, budget: visitLogBudget,
		row: func(d store.VisitDetail) *Row {
			return visitRow(d, max(d.StoredActions-maxActions, 0), tz, currency[d.Visit.SiteID], goalNames[d.Visit.SiteID], a.opts.Names)
		},
		read: func(chunk []store.VisitDetail) error { return a.opts.Events.VisitActions(ctx, chunk, maxActions) },
		fail: func(err error) *apiError { return a.failure(ctx, "Live.getLastVisitsDetails", err) },
	}
	// The first visits' actions are read now: an answer that fits one read is complete before
	// it is written, and a failing store is answered with an error status.
	if err := l.readAhead(); err != nil {
		return nil, err
	}
	return l, nil
}

// visitorLogMaxActions is the most actions a visit shows in the visitor log.
func (a *API) visitorLogMaxActions() int {
	if a.opts.VisitorLogMaxActions > 0 {
		return a.opts.VisitorLogMaxActions
	}
	return DefaultVisitorLogMaxActions
}

// DefaultVisitorLogMaxActions is Matomo's visitor_log_maximum_actions_per_visit.
const DefaultVisitorLogMaxActions = 500

// failure logs an error that stopped a method after its answer began, and returns what the
// client may see, as dispatch does for errors returned.
func (a *API) failure(ctx context.Context, method string, err error) *apiError {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae
	}
	if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
		a.opts.Logger.Warn("api method stopped", "method", method, "request_id", requestid.From(ctx), "err", err)
		return errorf(503, "The request took longer than %s and was stopped: ask for a shorter period, fewer sites or a simpler segment.", a.opts.QueryTimeout)
	}
	a.opts.Logger.Error("api method failed", "method", method, "request_id", requestid.From(ctx), "err", err)
	return errorf(500, "An internal error occurred.")
}

// visitLogBudget bounds the actions one read of the visitor log holds: visits are read in
// runs whose actions (at most maxActions each) add up to no more, unless one visit alone does.
const visitLogBudget = 10_000

// visitLog is the answer of Live.getLastVisitsDetails, a rowStream: the page's visits are in
// memory, their actions are read a run of visits at a time as the rows are written and let
// go once written, so memory stays bounded by visitLogBudget actions however long the page.
type visitLog struct {
	visits      []store.VisitDetail // with StoredActions when withActions
	withActions bool
	maxActions  int
	budget      int
	read        func([]store.VisitDetail) error // fills the actions of a run of visits
	row         func(store.VisitDetail) *Row
	fail        func(error) *apiError
	ahead       int // visits whose actions readAhead read
}

// runEnd is where the run of visits starting at from ends.
func (l *visitLog) runEnd(from int) int {
	if !l.withActions {
		return len(l.visits)
	}
	n, end := 0, from
	for end < len(l.visits) {
		k := min(l.visits[end].StoredActions, l.maxActions)
		if end > from && n+k > l.budget {
			break
		}
		n += k
		end++
	}
	return end
}

func (l *visitLog) readAhead() error {
	if !l.withActions || len(l.visits) == 0 {
		return nil
	}
	end := l.runEnd(0)
	if err := l.read(l.visits[:end]); err != nil {
		return err
	}
	l.ahead = end
	return nil
}

func (l *visitLog) each(fn func(*Row) error) error {
	for from := 0; from < len(l.visits); {
		end := l.runEnd(from)
		run := l.visits[from:end]
		if l.withActions && from >= l.ahead {
			if err := l.read(run); err != nil {
				return err
			}
		}
		for i := range run {
			if err := fn(l.row(run[i])); err != nil {
				return err
			}
			run[i].Actions = nil // written: let them go
		}
		from = end
	}
	return nil
}

// columns are the rows' fields: a visit's row has the same fields with or without its actions.
func (l *visitLog) columns() []string {
	var cols []string
	seen := map[string]bool{}
	for _, d := range l.visits {
		d.Actions = nil
		for _, k := range l.row(d).keys {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
	}
	return cols
}

func (l *visitLog) failed(err error) *apiError { return l.fail(err) }

// rows is how many visits and actions the answer holds once collected whole.
func (l *visitLog) rows() int {
	n := len(l.visits)
	if l.withActions {
		for _, d := range l.visits {
			n += min(d.StoredActions, l.maxActions)
		}
	}
	return n
}

var referrerTypeNames = map[event.ReferrerType]string{
	event.ReferrerDirect: "Direct Entry", event.ReferrerSearch: "Search Engines", event.ReferrerWebsite: "Websites",
	event.ReferrerCampaign: "Campaigns", event.ReferrerSocial: "Social Networks",
}

// visitRow is a visit of the visitor log; truncated is how many of its actions d leaves out
// (Matomo's truncatedActionsCount), goals names the site's goals (a deleted goal's
// conversions keep their id, without a name).
func visitRow(d store.VisitDetail, truncated int, tz *time.Location, currency string, goals map[int32]string, places report.Names) *Row {
	v := d.Visit
	visitorType := "new"
	if v.Returning {
		visitorType = "returning"
	}
	first := v.First.In(tz)
	continentCode, continentName := report.Continent(v.Location.Country)
	r := NewRow().
		Set("idSite", int64(v.SiteID)).
		Set("idVisit", int64(v.ID)).
		Set("visitIp", v.IP).
		Set("visitorId", v.VisitorID.String()).
		Set("fingerprint", v.VisitorID.String()).
		Set("userId", nilIfEmpty(v.UserID)).
		Set("visitorType", visitorType).
		Set("visitorTypeIcon", nil).
		Set("visitConverted", boolInt(v.Conversions > 0)).
		Set("visitCount", v.VisitCount).
		Set("firstActionTimestamp", v.First.Unix()).
		Set("lastActionTimestamp", v.Last.Unix()).
		Set("lastActionDateTime", v.Last.UTC().Format("2006-01-02 15:04:05")).
		Set("serverDate", first.Format("2006-01-02")).
		Set("serverTimestamp", v.Last.Unix()).
		Set("visitServerHour", strconv.Itoa(first.Hour())).
		Set("daysSinceFirstVisit", v.DaysSinceFirst).
		Set("daysSinceLastVisit", v.DaysSinceLast).
		Set("visitDuration", v.Duration()).
		Set("visitDurationPretty", prettyDuration(v.Duration())).
		Set("actions", v.Actions).
		Set("interactions", v.Interactions).
		Set("searches", v.Searches).
		Set("events", v.Events).
		Set("referrerType", v.Referrer.Type.String()).
		Set("referrerTypeName", referrerTypeNames[v.Referrer.Type]).
		Set("referrerName", v.Referrer.Name).
		Set("referrerKeyword", v.Referrer.Keyword).
		Set("referrerUrl", nilIfEmpty(v.Referrer.URL)).
		Set("campaignName", v.Campaign.Name).
		Set("campaignKeyword", v.Campaign.Keyword).
		Set("campaignSource", v.Campaign.Source).
		Set("campaignMedium", v.Campaign.Medium).
		Set("campaignContent", v.Campaign.Content).
		Set("campaignId", v.Campaign.ID).
		Set("deviceType", titleCase(v.Device.Type)).
		Set("deviceBrand", orUnknown(v.Device.Brand)).
		Set("deviceModel", orGeneric(v.Device.Model)).
		Set("operatingSystem", strings.TrimSpace(v.Device.OS+" "+v.Device.OSVersion)).
		Set("operatingSystemName", v.Device.OS).
		Set("operatingSystemVersion", v.Device.OSVersion).
		Set("browser", strings.TrimSpace(v.Device.Browser+" "+v.Device.BrowserVersion)).
		Set("browserName", v.Device.Browser).
		Set("browserVersion", v.Device.BrowserVersion).
		Set("browserEngine", v.Device.Engine).
		Set("languageCode", v.Language).
		Set("resolution", v.Resolution).
		Set("plugins", v.Plugins).
		Set("continent", continentName).
		Set("continentCode", continentCode).
		Set("countryCode", v.Location.Country).
		Set("country", report.CountryName(v.Location.Country)).
		Set("region", places.RegionName(v.Location.Country, v.Location.Region)).
		Set("regionCode", v.Location.Region).
		Set("city", nilIfEmpty(v.Location.City)).
		Set("location", prettyLocation(v.Location, places)).
		Set("latitude", latLon(v.Location.Lat, v.Location.City)).
		Set("longitude", latLon(v.Location.Lon, v.Location.City)).
		Set("visitLocalTime", localTime(v.LocalTime)).
		Set("visitLocalHour", localHour(v.LocalTime)).
		Set("visitEcommerceStatus", v.Ecommerce.String()).
		Set("totalEcommerceRevenue", v.Revenue).
		Set("siteCurrency", currency).
		Set("goalConversions", v.Conversions)
	for _, k := range slices.Sorted(maps.Keys(v.Dimensions)) {
		r.Set("dimension"+strconv.Itoa(k), v.Dimensions[k])
	}
	if truncated > 0 {
		r.Set("truncatedActionsCount", truncated)
	}
	actions := make([]*Row, 0, len(d.Actions))
	for i, a := range d.Actions {
		spent := int32(0)
		if i+1 < len(d.Actions) {
			spent = d.Actions[i+1].RefTimeSpent
		} else if a.Type == event.ActionPageview {
			spent = event.Seconds32(v.Last.Sub(a.Time))
		}
		actions = append(actions, actionRow(a, tz, spent, goals))
	}
	r.Set("actionDetails", actions)
	return r
}

func actionRow(a event.Action, tz *time.Location, spent int32, goals map[int32]string) *Row {
	r := NewRow().
		Set("type", a.Type.String()).
		Set("url", nilIfEmpty(a.URL)).
		Set("pageTitle", nilIfEmpty(a.Title)).
		Set("idpageview", nilIfEmpty(a.PageViewID)).
		Set("serverTimePretty", a.Time.In(tz).Format("Jan 2, 2006 15:04:05")).
		Set("timestamp", a.Time.Unix()).
		Set("timeSpent", spent).
		Set("pageViewPosition", a.Index)
	switch a.Type {
	case event.ActionSearch:
		r.Set("siteSearchKeyword", a.SearchKeyword).Set("siteSearchCategory", nilIfEmpty(a.SearchCategory))
		if a.SearchCount >= 0 {
			r.Set("siteSearchCount", a.SearchCount)
		}
	case event.ActionEvent:
		r.Set("eventCategory", a.EventCategory).Set("eventAction", a.EventAction).Set("eventName", nilIfEmpty(a.EventName))
		if a.HasEventValue {
			r.Set("eventValue", a.EventValue)
		}
	case event.ActionContent:
		r.Set("contentName", a.ContentName).Set("contentPiece", a.ContentPiece).Set("contentTarget", a.ContentTarget).
			Set("contentInteraction", nilIfEmpty(a.ContentInteraction))
	case event.ActionGoal:
		r.Set("goalId", a.GoalID)
		if name, ok := goals[a.GoalID]; ok {
			r.Set("goalName", name)
		}
		r.Set("revenue", a.Revenue)
	case event.ActionOrder, event.ActionCartUpdate:
		if a.Type == event.ActionOrder {
			r.Set("orderId", a.OrderID)
		}
		r.Set("revenue", a.Revenue).Set("revenueSubTotal", a.Subtotal).Set("revenueTax", a.Tax).
			Set("revenueShipping", a.Shipping).Set("revenueDiscount", a.Discount)
		items := make([]*Row, 0, len(a.Items))
		for _, it := range a.Items {
			cat := ""
			if len(it.Categories) > 0 {
				cat = it.Categories[0]
			}
			items = append(items, NewRow().Set("itemSKU", it.SKU).Set("itemName", it.Name).Set("itemCategory", cat).
				Set("price", it.Price).Set("quantity", it.Quantity))
		}
		r.Set("items", len(a.Items)).Set("itemDetails", items)
	case event.ActionPageview:
		if a.ProductSKU != "" {
			r.Set("productViewSku", a.ProductSKU).Set("productViewName", a.ProductName).Set("productViewPrice", a.ProductPrice)
		}
		if a.PerfNetwork >= 0 || a.PerfOnLoad >= 0 {
			perf := NewRow()
			for _, p := range []struct {
				k string
				v int32
			}{{"network", a.PerfNetwork}, {"server", a.PerfServer}, {"transfer", a.PerfTransfer}, {"domProcessing", a.PerfDOMProc}, {"domCompletion", a.PerfDOMDone}, {"onload", a.PerfOnLoad}} {
				if p.v >= 0 {
					perf.Set(p.k, p.v)
				}
			}
			r.Set("performance", perf)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(a.Dimensions)) {
		r.Set("dimension"+strconv.Itoa(k), a.Dimensions[k])
	}
	return r
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func orUnknown(s string) string {
	if s == "" {
		return "Unknown"
	}
	return s
}

func orGeneric(s string) string {
	if s == "" {
		return "Generic"
	}
	return s
}

func titleCase(s string) string {
	if s == "" {
		return "Unknown"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func latLon(f float64, city string) any {
	if city == "" && f == 0 {
		return nil
	}
	return strconv.FormatFloat(f, 'f', 4, 64)
}

func localTime(secs int32) any {
	if secs < 0 {
		return nil
	}
	return fmt.Sprintf("%02d:%02d:%02d", secs/3600, secs/60%60, secs%60)
}

func localHour(secs int32) any {
	if secs < 0 {
		return nil
	}
	return strconv.Itoa(int(secs / 3600))
}

func prettyDuration(s int64) string {
	if s < 60 {
		return fmt.Sprintf("%ds", s)
	}
	if s < 3600 {
		return fmt.Sprintf("%d min %ds", s/60, s%60)
	}
	return fmt.Sprintf("%d hours %d min", s/3600, s/60%60)
}

func (a *API) counters(ctx context.Context, c *call) (any, error) {
	ids, err := a.siteIDs(ctx, c)
	if err != nil {
		return nil, err
	}
	minutes, err := strconv.Atoi(c.params.Get("lastMinutes"))
	if err != nil || minutes <= 0 || minutes > 2880 {
		return nil, errorf(400, "lastMinutes must be a number between 1 and 2880.")
	}
	seg, err := a.segmentOn(c, ids)
	if err != nil {
		return nil, err
	}
	cnt, err := a.opts.Events.Counters(ctx, ids, a.opts.Now().Add(-time.Duration(minutes)*time.Minute), seg)
	if err != nil {
		return nil, err
	}
	return []*Row{NewRow().Set("visits", cnt.Visits).Set("actions", cnt.Actions).Set("visitors", cnt.Visitors).Set("visitsConverted", cnt.VisitsConverted)}, nil
}

// prettyLocation is a visit's place as Matomo's Live shows it: city, region and country,
// the known ones, "Unknown" when none is.
func prettyLocation(l event.Location, places report.Names) string {
	var parts []string
	for _, p := range []string{l.City, places.RegionName(l.Country, l.Region)} {
		if p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(append(parts, report.CountryName(l.Country)), ", ")
}
