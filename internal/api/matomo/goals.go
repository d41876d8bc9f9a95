package matomo

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/goal"
	"hearth/internal/store"
)

// Goals: managing goals needs write access to the site (audited) and takes effect for hits
// received from then on; conversions already recorded stay as they were, as in Matomo.

// goalOf finds the goal idGoal names on the site.
func (a *API) goalOf(ctx context.Context, c *call, site event.SiteID) (store.Goal, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(c.params.Get("idGoal")), 10, 32)
	if err != nil || id <= 0 {
		return store.Goal{}, errorf(400, "Please specify a value for 'idGoal'.")
	}
	goals, err := a.opts.Meta.Goals(ctx, site)
	if err != nil {
		return store.Goal{}, err
	}
	for _, g := range goals {
		if int64(g.ID) == id {
			return g, nil
		}
	}
	return store.Goal{}, errorf(400, "The goal id %d does not exist for the website id = %d.", id, site)
}

// goalInput reads a goal definition as addGoal and updateGoal take it.
func goalInput(c *call, g *store.Goal) error {
	g.Name = strings.TrimSpace(c.params.Get("name"))
	if g.Name == "" || len(g.Name) > 50 {
		return errorf(400, "Please specify a 'name' of 1 to 50 characters.")
	}
	g.Description = strings.TrimSpace(c.params.Get("description"))
	if len(g.Description) > 255 {
		return errorf(400, "The description can have at most 255 characters.")
	}
	g.MatchAttribute, g.Pattern, g.PatternType = c.params.Get("matchAttribute"), c.params.Get("pattern"), c.params.Get("patternType")
	g.CaseSensitive = isTrue(c.params.Get("caseSensitive"))
	g.AllowMultiple = isTrue(c.params.Get("allowMultipleConversionsPerVisit"))
	g.EventValueAsRevenue = isTrue(c.params.Get("useEventValueAsRevenue"))
	g.Revenue = 0
	if r := strings.TrimSpace(c.params.Get("revenue")); r != "" && r != "false" {
		v, err := strconv.ParseFloat(r, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return errorf(400, "The revenue must be a number.")
		}
		g.Revenue = v
	}
	if err := goal.Validate(g); err != nil {
		return errorf(400, "%s", err.Error())
	}
	if g.EventValueAsRevenue && !strings.HasPrefix(g.MatchAttribute, "event_") {
		return errorf(400, "useEventValueAsRevenue applies to event goals only.")
	}
	return nil
}

func goalDetails(g store.Goal) map[string]string {
	return map[string]string{"id": strconv.Itoa(int(g.ID)), "name": g.Name, "match_attribute": g.MatchAttribute,
		"pattern_type": g.PatternType, "allow_multiple": strconv.FormatBool(g.AllowMultiple)}
}

func (a *API) goalsChanged(site event.SiteID) {
	if a.opts.Sites != nil {
		a.opts.Sites.InvalidateSite(site)
	}
}

func (a *API) addGoal(ctx context.Context, c *call) (any, error) {
	site, err := a.writableSite(ctx, c)
	if err != nil {
		return nil, err
	}
	g := store.Goal{SiteID: site, Created: a.opts.Now().UTC()}
	if err := goalInput(c, &g); err != nil {
		return nil, err
	}
	if g, err = a.opts.Meta.CreateGoal(ctx, g); err != nil {
		return nil, err
	}
	a.goalsChanged(site)
	a.record(ctx, c, audit.ActionGoalCreate, fmt.Sprintf("site:%d", site), audit.Success, goalDetails(g))
	return value{int64(g.ID)}, nil
}

// writableGoal is the goal idGoal names on a site the caller may write to.
func (a *API) writableGoal(ctx context.Context, c *call) (event.SiteID, store.Goal, error) {
	site, err := a.writableSite(ctx, c)
	if err != nil {
		return 0, store.Goal{}, err
	}
	g, err := a.goalOf(ctx, c, site)
	return site, g, err
}

func (a *API) updateGoal(ctx context.Context, c *call) (any, error) {
	site, g, err := a.writableGoal(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := goalInput(c, &g); err != nil {
		return nil, err
	}
	if err := a.opts.Meta.UpdateGoal(ctx, g); err != nil {
		return nil, err
	}
	a.goalsChanged(site)
	a.record(ctx, c, audit.ActionGoalUpdate, fmt.Sprintf("site:%d", site), audit.Success, goalDetails(g))
	return success{}, nil
}

func (a *API) deleteGoal(ctx context.Context, c *call) (any, error) {
	site, g, err := a.writableGoal(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := a.opts.Meta.DeleteGoal(ctx, site, g.ID); err != nil {
		return nil, err
	}
	a.goalsChanged(site)
	a.record(ctx, c, audit.ActionGoalDelete, fmt.Sprintf("site:%d", site), audit.Success, goalDetails(g))
	return success{}, nil
}

func goalRow(g store.Goal) *Row {
	return NewRow().Set("idsite", int64(g.SiteID)).Set("idgoal", int64(g.ID)).Set("name", g.Name).Set("description", g.Description).
		Set("match_attribute", g.MatchAttribute).Set("pattern", g.Pattern).Set("pattern_type", g.PatternType).
		Set("case_sensitive", b01(g.CaseSensitive)).Set("allow_multiple", b01(g.AllowMultiple)).Set("revenue", g.Revenue).
		Set("deleted", 0).Set("event_value_as_revenue", b01(g.EventValueAsRevenue))
}

func b01(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// getGoals lists the site's goals keyed by id, as Matomo does (orderByName=1 sorts by name).
func (a *API) getGoals(ctx context.Context, c *call) (any, error) {
	site, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	goals, err := a.opts.Meta.Goals(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	if isTrue(c.params.Get("orderByName")) {
		sort.SliceStable(goals, func(i, j int) bool { return strings.ToLower(goals[i].Name) < strings.ToLower(goals[j].Name) })
	}
	out := &keyed{attr: "idgoal"}
	for _, g := range goals {
		out.keys = append(out.keys, strconv.Itoa(int(g.ID)))
		out.vals = append(out.vals, goalRow(g))
	}
	if len(out.keys) == 0 {
		return []*Row{}, nil
	}
	return out, nil
}

// siteGoal is the goal idGoal names on the request's single site.
func (a *API) siteGoal(ctx context.Context, c *call) (store.Goal, error) {
	site, err := a.oneSite(ctx, c)
	if err != nil {
		return store.Goal{}, err
	}
	return a.goalOf(ctx, c, site.ID)
}

func (a *API) getGoal(ctx context.Context, c *call) (any, error) {
	g, err := a.siteGoal(ctx, c)
	if err != nil {
		return nil, err
	}
	return goalRow(g), nil
}

// goalsGet serves Goals.get: conversions, converted visits, revenue and conversion rate of
// every goal and order together, of one goal (idGoal), of orders (ecommerceOrder) or of
// abandoned carts (ecommerceAbandonedCart), also for new and returning visits.
func (a *API) goalsGet(ctx context.Context, c *call) (any, error) {
	mode := metricFormat(c)
	which := store.GoalAll
	switch strings.TrimSpace(c.params.Get("idGoal")) {
	case "", "false":
	case "ecommerceOrder", "0":
		which = store.GoalEcommerceOrder
	case "ecommerceAbandonedCart", "-1":
		which = store.GoalAbandonedCart
	default:
		g, err := a.siteGoal(ctx, c)
		if err != nil {
			return nil, err
		}
		which = g.ID
	}
	ecommerce := which == store.GoalEcommerceOrder || which == store.GoalAbandonedCart
	result, err := a.perSitePeriod(ctx, c, func(ctx context.Context, sd siteDates) ([]any, error) {
		q := sd.query()
		rows, err := a.opts.Events.Conversions(ctx, q)
		if err != nil {
			return nil, err
		}
		groups, err := a.opts.Events.VisitGroups(ctx, store.GroupQuery{ReportQuery: q, By: []store.Field{store.FieldReturning}})
		if err != nil {
			return nil, err
		}
		n := len(sd.dates.Periods)
		visits := make([][3]int64, n) // all, new, returning
		for _, g := range groups {
			if g.Range >= 0 && g.Range < n && len(g.Keys) == 1 {
				visits[g.Range][1+atoiKey(g.Keys[0])] = g.Visits
				visits[g.Range][0] += g.Visits
			}
		}
		conv := make([][3]store.ConversionRow, n)
		for _, r := range rows {
			if r.Goal != which || r.Range < 0 || r.Range >= n {
				continue
			}
			switch r.Visitor {
			case "":
				conv[r.Range][0] = r
			case "new":
				conv[r.Range][1] = r
			case "returning":
				conv[r.Range][2] = r
			}
		}
		out := make([]any, n)
		for i := range out {
			row := NewRow()
			for j, suffix := range []string{"", "_new_visit", "_returning_visit"} {
				r := conv[i][j]
				row.Set("nb_conversions"+suffix, r.Conversions).Set("nb_visits_converted"+suffix, r.Visits).
					Set("revenue"+suffix, round2(r.Revenue)).Set("conversion_rate"+suffix, rate(r.Visits, visits[i][j], mode))
				if j == 0 && ecommerce {
					row.Set("items", r.Items).Set("revenue_subtotal", round2(r.Subtotal)).Set("revenue_tax", round2(r.Tax)).
						Set("revenue_shipping", round2(r.Shipping)).Set("revenue_discount", round2(r.Discount)).
						Set("avg_order_revenue", round2(r.Revenue/math.Max(float64(r.Conversions), 1)))
				}
			}
			out[i] = row
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return selectColumns(result, c), nil
}

// rate is a conversion rate: a percentage with up to two decimals ("2.35%"), or with
// format_metrics=0 the quotient to four decimals, as Matomo writes it.
func rate(part, whole int64, mode string) any {
	q := 0.0
	if whole > 0 {
		q = math.Round(float64(part)/float64(whole)*10000) / 10000
	}
	if mode == "0" {
		return q
	}
	return strconv.FormatFloat(math.Round(q*10000)/100, 'f', -1, 64) + "%"
}
