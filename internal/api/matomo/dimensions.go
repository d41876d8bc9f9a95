package matomo

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/report"
	"hearth/internal/store"
)

// CustomDimensions: configuring needs write access to the site (audited); listing and the
// reports need view access. The tracker sends dimension<idDimension>=value.

// dimensionOf finds the dimension idDimension names on the site.
func (a *API) dimensionOf(ctx context.Context, c *call, site event.SiteID) (store.CustomDimension, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(c.params.Get("idDimension")), 10, 64)
	if err != nil || id <= 0 {
		return store.CustomDimension{}, errorf(400, "Please specify a value for 'idDimension'.")
	}
	dims, err := a.opts.Meta.CustomDimensions(ctx, site)
	if err != nil {
		return store.CustomDimension{}, err
	}
	for _, d := range dims {
		if d.ID == id {
			return d, nil
		}
	}
	return store.CustomDimension{}, errorf(400, "The custom dimension %d does not exist for the website id = %d.", id, site)
}

// dimensionInput reads name, active and caseSensitive, and refuses extractions, which Hearth
// does not apply (values come from the tracker's dimension parameters).
func dimensionInput(c *call, d *store.CustomDimension) error {
	if v, ok := c.params["name"]; ok || d.ID == 0 {
		name := strings.TrimSpace(first(v))
		if name == "" || len(name) > 255 {
			return errorf(400, "Please specify a 'name' of 1 to 255 characters.")
		}
		d.Name = name
	}
	if v, ok := c.params["active"]; ok {
		d.Active = isTrue(first(v))
	}
	if v, ok := c.params["caseSensitive"]; ok {
		d.CaseSensitive = isTrue(first(v))
	}
	for k, v := range c.params {
		if strings.HasPrefix(k, "extractions") && strings.Join(v, "") != "" {
			return errorf(400, "Extractions are not supported: send the value with the tracking request's dimension%d parameter.", d.ID)
		}
	}
	return nil
}

func (a *API) writableSite(ctx context.Context, c *call) (event.SiteID, error) {
	site, err := a.oneSite(ctx, c)
	if err != nil {
		return 0, err
	}
	if !c.principal.CanWrite(site.ID) {
		return 0, errorf(401, "You can't access this resource as it requires 'write' access for the website id = %d.", site.ID)
	}
	return site.ID, nil
}

func (a *API) configureNewDimension(ctx context.Context, c *call) (any, error) {
	site, err := a.writableSite(ctx, c)
	if err != nil {
		return nil, err
	}
	d := store.CustomDimension{SiteID: site, Scope: strings.TrimSpace(c.params.Get("scope")), Active: true, Created: a.opts.Now().UTC()}
	if d.Scope != "visit" && d.Scope != "action" {
		return nil, errorf(400, "The parameter scope must be visit or action.")
	}
	if err := dimensionInput(c, &d); err != nil {
		return nil, err
	}
	if d, err = a.opts.Meta.CreateCustomDimension(ctx, d); err != nil {
		return nil, err
	}
	a.record(ctx, c, audit.ActionDimensionCreate, fmt.Sprintf("site:%d", site), audit.Success,
		map[string]string{"id": strconv.FormatInt(d.ID, 10), "name": d.Name, "scope": d.Scope, "active": strconv.FormatBool(d.Active)})
	return value{d.ID}, nil
}

func (a *API) configureExistingDimension(ctx context.Context, c *call) (any, error) {
	site, err := a.writableSite(ctx, c)
	if err != nil {
		return nil, err
	}
	d, err := a.dimensionOf(ctx, c, site)
	if err != nil {
		return nil, err
	}
	if err := dimensionInput(c, &d); err != nil {
		return nil, err
	}
	if err := a.opts.Meta.UpdateCustomDimension(ctx, d); err != nil {
		return nil, err
	}
	a.record(ctx, c, audit.ActionDimensionUpdate, fmt.Sprintf("site:%d", site), audit.Success,
		map[string]string{"id": strconv.FormatInt(d.ID, 10), "name": d.Name, "active": strconv.FormatBool(d.Active)})
	return success{}, nil
}

func dimensionRow(d store.CustomDimension) *Row {
	return NewRow().Set("idcustomdimension", d.ID).Set("idsite", int64(d.SiteID)).Set("name", d.Name).Set("index", d.Index).
		Set("scope", d.Scope).Set("active", d.Active).Set("extractions", []string{}).Set("case_sensitive", d.CaseSensitive)
}

func (a *API) configuredDimensions(ctx context.Context, c *call) (any, error) {
	site, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	dims, err := a.opts.Meta.CustomDimensions(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	out := []*Row{}
	for _, d := range dims {
		out = append(out, dimensionRow(d))
	}
	return out, nil
}

// customDimensionReport serves CustomDimensions.getCustomDimension: a visit-scope dimension's
// values with visit metrics, an action-scope one's with the actions carrying them.
func (a *API) customDimensionReport(ctx context.Context, c *call) (any, error) {
	site, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	d, err := a.dimensionOf(ctx, c, site.ID)
	if err != nil {
		return nil, err
	}
	opts, err := readTableOptions(c)
	if err != nil {
		return nil, err
	}
	label := func(k string) string {
		if k == "" {
			return "Value not defined"
		}
		return k
	}
	return a.tableReport(ctx, c, opts, func(ctx context.Context, sd siteDates) ([]*report.Table, error) {
		n := len(sd.dates.Periods)
		tables := make([]*report.Table, n)
		for i := range tables {
			tables[i] = &report.Table{Metrics: "hits"}
		}
		if d.Scope == "visit" {
			groups, err := a.opts.Events.VisitGroups(ctx, store.GroupQuery{ReportQuery: sd.query(), By: []store.Field{store.DimensionField("visit", d.ID)}})
			if err != nil {
				return nil, err
			}
			for _, g := range groups {
				if g.Range >= 0 && g.Range < n && len(g.Keys) == 1 {
					tables[g.Range].Rows = append(tables[g.Range].Rows, &report.Row{Key: g.Keys[0], Label: label(g.Keys[0]), Totals: g.VisitTotals})
				}
			}
			for _, t := range tables {
				t.Metrics = ""
				report.SortByVisits(t.Rows)
			}
			return tables, nil
		}
		rows, err := a.opts.Events.ActionGroups(ctx, store.ActionQuery{ReportQuery: sd.query(), By: store.DimensionField("action", d.ID),
			Types: []event.ActionType{event.ActionPageview, event.ActionDownload, event.ActionOutlink, event.ActionSearch, event.ActionEvent}})
		if err != nil {
			return nil, err
		}
		for _, r := range rows {
			if r.Range >= 0 && r.Range < n {
				tables[r.Range].Rows = append(tables[r.Range].Rows, &report.Row{Key: r.Key, Label: label(r.Key),
					Action: &report.ActionMetrics{Hits: r.Hits, Visits: r.Visits, UniqueVisitors: r.UniqueVisitors}})
			}
		}
		for _, t := range tables {
			sort.SliceStable(t.Rows, func(i, j int) bool {
				if a, b := t.Rows[i].Action.Visits, t.Rows[j].Action.Visits; a != b {
					return a > b
				}
				return t.Rows[i].Label < t.Rows[j].Label
			})
		}
		return tables, nil
	})
}
