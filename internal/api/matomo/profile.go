package matomo

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/report"
	"hearth/internal/store"
)

// Matomo's visitor profile limits: the visits summed up (live_visitor_profile_max_visits_to_
// aggregate) and, by default, the visits listed (VISITOR_PROFILE_MAX_VISITS_TO_SHOW).
const (
	profileMaxVisits  = 100
	profileShowVisits = 10
)

// visitorProfile serves Live.getVisitorProfile: one visitor's latest visits on a site (at most
// profileMaxVisits, under the segment) summed up as Matomo's profile does — totals, first and
// last visit, devices, countries, site searches, conversions — with the newest limitVisits of
// them listed as Live.getLastVisitsDetails lists visits. Without visitorId it is the profile of
// the most recent visitor. It is raw data: view_raw on the site, and each answer is recorded in
// the audit trail with the visitor it showed.
func (a *API) visitorProfile(ctx context.Context, c *call) (any, error) {
	site, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	if !c.principal.CanViewRaw(site.ID) {
		return nil, errorf(401, "You can't access this resource as it requires the 'view_raw' capability for the website id = %d.", site.ID)
	}
	show := profileShowVisits
	if s := strings.TrimSpace(c.params.Get("limitVisits")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return nil, errorf(400, "limitVisits must be a positive number.")
		}
		show = min(n, profileMaxVisits)
	}
	segment := c.params.Get("segment")
	visitor := strings.TrimSpace(c.params.Get("visitorId"))
	if visitor == "" {
		// As Matomo: the visitor of the most recent visit (under the segment).
		f, err := a.segment(c)
		if err != nil {
			return nil, err
		}
		latest, err := a.opts.Events.Visits(ctx, store.VisitQuery{Sites: []event.SiteID{site.ID}, Limit: 1, Segment: f})
		if err != nil {
			return nil, err
		}
		if len(latest) == 0 {
			return []*Row{}, nil
		}
		visitor = latest[0].Visit.VisitorID.String()
	} else {
		id, err := event.ParseVisitorID(visitor)
		if err != nil {
			return nil, errorf(400, "The visitorId must be 16 hexadecimal characters.")
		}
		visitor = id.String()
	}
	// The visitor's condition comes first: AND binds weaker than OR, so it holds for the
	// whole of the caller's segment.
	def := "visitorId==" + visitor
	if segment != "" {
		def += ";" + segment
	}
	params := maps.Clone(c.params)
	params.Set("segment", def)
	f, err := a.segment(&call{params: params})
	if err != nil {
		return nil, err
	}
	visits, err := a.opts.Events.Visits(ctx, store.VisitQuery{Sites: []event.SiteID{site.ID}, Limit: profileMaxVisits + 1, CountActions: true, Segment: f})
	if err != nil {
		return nil, err
	}
	more := len(visits) > profileMaxVisits
	if more {
		visits = visits[:profileMaxVisits]
	}
	a.record(ctx, c, audit.ActionRawDataView, fmt.Sprintf("site:%d", site.ID), audit.Success,
		map[string]string{"method": "Live.getVisitorProfile", "visitor": visitor, "visits": strconv.Itoa(len(visits))})
	if len(visits) == 0 {
		return []*Row{}, nil
	}
	tz, err := time.LoadLocation(site.Timezone)
	if err != nil {
		tz = time.UTC
	}
	goals := map[int32]string{}
	if slices.ContainsFunc(visits, func(d store.VisitDetail) bool { return d.Visit.Conversions > 0 }) {
		list, err := a.opts.Meta.Goals(ctx, site.ID)
		if err != nil {
			return nil, err
		}
		for _, g := range list {
			goals[g.ID] = g.Name
		}
	}
	p := newProfile(site.Ecommerce)
	listed := make([]*Row, 0, min(show, len(visits)))
	// The actions are read a run of visits at a time, as the visitor log reads them, and let go
	// once summed up unless the visit is listed.
	maxActions := a.visitorLogMaxActions()
	runs := &visitLog{visits: visits, withActions: true, maxActions: maxActions, budget: visitLogBudget}
	for from := 0; from < len(visits); {
		end := runs.runEnd(from)
		run := visits[from:end]
		if err := a.opts.Events.VisitActions(ctx, run, maxActions); err != nil {
			return nil, err
		}
		for i := range run {
			p.add(run[i])
			if from+i < show {
				listed = append(listed, visitRow(run[i], max(run[i].StoredActions-maxActions, 0), tz, site.Currency, goals, a.opts.Names))
			}
			run[i].Actions = nil
		}
		from = end
	}
	return p.row(visitor, visits, listed, more, a.opts.Now(), tz), nil
}

// profile sums up a visitor's visits.
type profile struct {
	ecommerce bool
	// The visits' own counters, summed.
	visits, actions, pageviews, searches, events, downloads, outlinks, conversions, duration int64

	// From the actions: conversions and revenue per goal, orders and abandoned carts.
	byGoal                               map[int32]int64
	revenueByGoal                        map[int32]float64
	orders, orderItems, carts, cartItems int64
	orderRevenue, cartRevenue            float64

	keywords       map[string]int64 // site searches
	countries      map[string]*placeCount
	continents     map[string]int64
	continentNames map[string]string
	devices        map[string]map[string]int64 // type, then brand and model
}

type placeCount struct {
	visits int64
	cities []string
}

func newProfile(ecommerce bool) *profile {
	return &profile{ecommerce: ecommerce, byGoal: map[int32]int64{}, revenueByGoal: map[int32]float64{}, keywords: map[string]int64{},
		countries: map[string]*placeCount{}, continents: map[string]int64{}, continentNames: map[string]string{}, devices: map[string]map[string]int64{}}
}

// add counts one visit with its actions.
func (p *profile) add(d store.VisitDetail) {
	v := d.Visit
	p.visits++
	p.actions += int64(v.Actions)
	p.pageviews += int64(v.Pageviews)
	p.searches += int64(v.Searches)
	p.events += int64(v.Events)
	p.downloads += int64(v.Downloads)
	p.outlinks += int64(v.Outlinks)
	p.conversions += int64(v.Conversions)
	p.duration += v.Duration()
	var lastCart *event.Action
	for i, a := range d.Actions {
		switch a.Type {
		case event.ActionGoal:
			p.byGoal[a.GoalID]++
			if a.Revenue != 0 {
				p.revenueByGoal[a.GoalID] += a.Revenue
			}
		case event.ActionOrder:
			p.orders++
			p.orderRevenue += a.Revenue
			p.orderItems += int64(len(a.Items))
		case event.ActionCartUpdate:
			lastCart = &d.Actions[i]
		case event.ActionSearch:
			p.keywords[a.SearchKeyword]++
		}
	}
	// A visit has one abandoned cart at most: its cart as last updated.
	if (v.Ecommerce == event.EcommerceAbandonedCart || v.Ecommerce == event.EcommerceOrderedThenAbandonedCart) && lastCart != nil {
		p.carts++
		p.cartRevenue += lastCart.Revenue
		p.cartItems += int64(len(lastCart.Items))
	}
	pc := p.countries[v.Location.Country]
	if pc == nil {
		pc = &placeCount{}
		p.countries[v.Location.Country] = pc
	}
	pc.visits++
	if v.Location.City != "" && !slices.Contains(pc.cities, v.Location.City) {
		pc.cities = append(pc.cities, v.Location.City)
	}
	cont, name := report.Continent(v.Location.Country)
	p.continents[cont]++
	p.continentNames[cont] = name
	kind := titleCase(v.Device.Type)
	if p.devices[kind] == nil {
		p.devices[kind] = map[string]int64{}
	}
	p.devices[kind][strings.TrimSpace(orUnknown(v.Device.Brand)+" "+orGeneric(v.Device.Model))]++
}

// row is the profile as Matomo answers it; visits are newest first.
func (p *profile) row(visitor string, visits []store.VisitDetail, listed []*Row, more bool, now time.Time, tz *time.Location) *Row {
	newest, oldest := visits[0].Visit, visits[len(visits)-1].Visit
	r := NewRow().
		Set("visitorId", visitor).
		Set("hasMoreVisits", boolInt(more)).
		Set("totalVisits", p.visits).
		Set("totalVisitDuration", p.duration).
		Set("totalVisitDurationPretty", prettyDuration(p.duration)).
		Set("totalActions", p.actions).
		Set("totalPageViews", p.pageviews).
		Set("totalSearches", p.searches).
		Set("totalEvents", p.events).
		Set("totalDownloads", p.downloads).
		Set("totalOutlinks", p.outlinks).
		Set("totalGoalConversions", p.conversions)
	byGoal, revenueByGoal := NewRow(), NewRow()
	for _, g := range slices.Sorted(maps.Keys(p.byGoal)) {
		byGoal.Set("idgoal="+strconv.Itoa(int(g)), p.byGoal[g])
	}
	for _, g := range slices.Sorted(maps.Keys(p.revenueByGoal)) {
		revenueByGoal.Set("idgoal="+strconv.Itoa(int(g)), p.revenueByGoal[g])
	}
	r.Set("totalConversionsByGoal", byGoal).Set("totalRevenueByGoal", revenueByGoal)
	if p.ecommerce {
		r.Set("totalEcommerceConversions", p.orders).Set("totalEcommerceRevenue", p.orderRevenue).Set("totalEcommerceItems", p.orderItems).
			Set("totalAbandonedCarts", p.carts).Set("totalAbandonedCartsRevenue", p.cartRevenue).Set("totalAbandonedCartsItems", p.cartItems)
	}
	r.Set("firstVisit", visitSummary(oldest, now, tz)).
		Set("lastVisit", visitSummary(newest, now, tz)).
		Set("visitsAggregated", len(visits)).
		Set("userId", nilIfEmpty(newest.UserID))

	type count struct {
		key string
		n   int64
	}
	byCount := func(m map[string]int64) []count {
		out := make([]count, 0, len(m))
		for k, n := range m {
			out = append(out, count{k, n})
		}
		slices.SortFunc(out, func(a, b count) int { return cmp.Or(cmp.Compare(b.n, a.n), strings.Compare(a.key, b.key)) })
		return out
	}
	countryVisits := map[string]int64{}
	for code, pc := range p.countries {
		countryVisits[code] = pc.visits
	}
	countries := []*Row{}
	for _, c := range byCount(countryVisits) {
		row := NewRow().Set("country", c.key).Set("nb_visits", c.n).Set("prettyName", report.CountryName(c.key))
		if cities := p.countries[c.key].cities; len(cities) > 0 {
			row.Set("cities", cities)
		}
		countries = append(countries, row)
	}
	continents := []*Row{}
	for _, c := range byCount(p.continents) {
		continents = append(continents, NewRow().Set("continent", c.key).Set("nb_visits", c.n).Set("prettyName", p.continentNames[c.key]))
	}
	devices := []*Row{}
	kinds := map[string]int64{}
	for kind, names := range p.devices {
		for _, n := range names {
			kinds[kind] += n
		}
	}
	for _, k := range byCount(kinds) {
		names := []*Row{}
		for _, d := range byCount(p.devices[k.key]) {
			names = append(names, NewRow().Set("name", d.key).Set("count", d.n))
		}
		devices = append(devices, NewRow().Set("type", k.key).Set("count", k.n).Set("devices", names))
	}
	searches := []*Row{}
	for _, s := range byCount(p.keywords) {
		searches = append(searches, NewRow().Set("keyword", s.key).Set("searches", s.n))
	}
	return r.Set("countries", countries).Set("continents", continents).Set("devices", devices).Set("searches", searches).
		Set("lastVisits", listed)
}

// visitSummary describes the first or last visit of a profile, as Matomo does.
func visitSummary(v event.Visit, now time.Time, tz *time.Location) *Row {
	first := v.First.In(tz)
	days := int64(now.Sub(v.First) / (24 * time.Hour))
	return NewRow().
		Set("date", v.First.Unix()).
		Set("prettyDate", first.Format("Monday, January 2, 2006")).
		Set("daysAgo", max(days, 0)).
		Set("referrerType", v.Referrer.Type.String()).
		Set("referralSummary", referralSummary(v))
}

// referralSummary is Matomo's one-line description of where a visit came from.
func referralSummary(v event.Visit) string {
	ref := v.Referrer
	switch ref.Type {
	case event.ReferrerSearch:
		if ref.Keyword != "" {
			return ref.Name + " (" + ref.Keyword + ")"
		}
		return ref.Name
	case event.ReferrerCampaign:
		s := "Campaign: " + ref.Name
		if ref.Keyword != "" {
			s += " - " + ref.Keyword
		}
		return s
	case event.ReferrerWebsite, event.ReferrerSocial:
		return ref.Name
	}
	return "Direct Entry"
}
