package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"hearth/internal/auth"
	"hearth/internal/goal"
	"hearth/internal/store"
)

// goalDef is one goal as Goals.getGoals answers it.
type goalDef struct {
	ID                                                      int
	Name, Description, MatchAttribute, Pattern, PatternType string
	CaseSensitive, AllowMultiple, EventValueAsRevenue       bool
	Revenue                                                 any
}

// goalDefs reads Goals.getGoals: an object keyed by goal id (a list when there is none), in
// the order of the ids.
func goalDefs(v any) []goalDef {
	var recs []map[string]any
	switch x := v.(type) {
	case map[string]any:
		for _, g := range x {
			recs = append(recs, object(g))
		}
	default:
		recs = rows(v)
	}
	out := make([]goalDef, 0, len(recs))
	for _, rec := range recs {
		id, _ := toFloat(rec["idgoal"])
		out = append(out, goalDef{ID: int(id), Name: goalStr(rec["name"]), Description: goalStr(rec["description"]),
			MatchAttribute: goalStr(rec["match_attribute"]), Pattern: goalStr(rec["pattern"]), PatternType: goalStr(rec["pattern_type"]),
			CaseSensitive: num(rec, "case_sensitive") == 1, AllowMultiple: num(rec, "allow_multiple") == 1,
			EventValueAsRevenue: num(rec, "event_value_as_revenue") == 1, Revenue: rec["revenue"]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// goalStr is an API string value ("" when absent).
func goalStr(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// In pairs the goal with a language, for the template that describes its rule.
func (g goalDef) In(l *locale) goalRule { return goalRule{L: l, G: g} }

type goalRule struct {
	L *locale
	G goalDef
}

// goalForm is the goal editor's input: a goal's definition, or what the user sent when the API
// refused it (shown again with the API's message).
type goalForm struct {
	Action string // "add" or "update"
	ID     int

	Name, Description, MatchAttribute, Pattern, PatternType, Revenue string
	CaseSensitive, AllowMultiple, EventValueAsRevenue                bool

	// Error is the API's refusal of the input.
	Error string
}

// Attributes are the match attributes the API takes, for the editor's choice.
func (goalForm) Attributes() []string { return goal.Attributes }

// PatternTypes are the pattern types the API takes; greater_than is visit duration's only one.
func (goalForm) PatternTypes() []string {
	return append(append([]string{}, goal.PatternTypes...), "greater_than")
}

func (g goalDef) form() goalForm {
	return goalForm{Action: "update", ID: g.ID, Name: g.Name, Description: g.Description, MatchAttribute: g.MatchAttribute,
		Pattern: g.Pattern, PatternType: g.PatternType, Revenue: goalStr(g.Revenue), CaseSensitive: g.CaseSensitive,
		AllowMultiple: g.AllowMultiple, EventValueAsRevenue: g.EventValueAsRevenue}
}

// newGoalForm is the empty editor: a goal on a URL that contains the pattern.
func newGoalForm() goalForm {
	return goalForm{Action: "add", MatchAttribute: "url", PatternType: "contains"}
}

func readGoalForm(r *http.Request) goalForm {
	f := r.PostForm
	return goalForm{Action: f.Get("action"), Name: f.Get("name"), Description: f.Get("description"),
		MatchAttribute: f.Get("matchAttribute"), Pattern: f.Get("pattern"), PatternType: f.Get("patternType"),
		Revenue: strings.TrimSpace(f.Get("revenue")), CaseSensitive: f.Get("caseSensitive") == "1",
		AllowMultiple: f.Get("allowMultipleConversionsPerVisit") == "1", EventValueAsRevenue: f.Get("useEventValueAsRevenue") == "1"}
}

// params are the form as Goals.addGoal or updateGoal take it. A visit-duration goal has one
// pattern type, so the editor's choice is not asked of the user.
func (f goalForm) params(site string) url.Values {
	b := func(v bool) string {
		if v {
			return "1"
		}
		return "0"
	}
	pt := f.PatternType
	if f.MatchAttribute == "visit_duration" {
		pt = "greater_than"
	}
	v := url.Values{"idSite": {site}, "name": {f.Name}, "description": {f.Description}, "matchAttribute": {f.MatchAttribute},
		"pattern": {f.Pattern}, "patternType": {pt}, "caseSensitive": {b(f.CaseSensitive)}, "revenue": {f.Revenue},
		"allowMultipleConversionsPerVisit": {b(f.AllowMultiple)}, "useEventValueAsRevenue": {b(f.EventValueAsRevenue)}}
	if f.Action == "update" {
		v.Set("method", "Goals.updateGoal")
		v.Set("idGoal", strconv.Itoa(f.ID))
	} else {
		v.Set("method", "Goals.addGoal")
	}
	return v
}

// goalKPIs are the tiles of the goals pages, all from Goals.get.
var goalKPIs = []struct{ key, column string }{
	{"goals.kpi.conversions", "nb_conversions"},
	{"goals.kpi.visits", "nb_visits_converted"},
	{"goals.kpi.rate", "conversion_rate"},
	{"goals.kpi.revenue", "revenue"},
}

// goalPeriod is one period of a chart, for the table of its figures.
type goalPeriod struct {
	Label  string
	Record map[string]any
}

// goalEvolution reads an evolution answer: its periods and, for each column, a chart of it.
func goalEvolution(l *locale, v any, charts ...goalChartSpec) ([]goalPeriod, []chart) {
	labels, recs := series(v)
	out := make([]goalPeriod, len(recs))
	for i, rec := range recs {
		out[i] = goalPeriod{Label: labels[i], Record: rec}
	}
	var cs []chart
	for _, c := range charts {
		vals := make([]float64, len(recs))
		for i, rec := range recs {
			vals[i], _ = kpiNum(rec[c.column])
		}
		name := l.Or(c.key, c.column)
		format := func(v float64) string { return l.Num(v) }
		if strings.HasSuffix(c.column, "_rate") {
			format = func(v float64) string { return l.pct(v) }
		}
		cs = append(cs, lineChart(name, labels, []string{name}, [][]float64{vals}, format))
	}
	return out, cs
}

type goalChartSpec struct{ key, column string }

// goalRowView is a goal in the list with its figures for the period (and the previous one).
type goalRowView struct {
	goalDef
	Now, Prev map[string]any
	Delta     kpi
}

type goalsPage struct {
	frame
	KPIs   []kpi
	Charts []chart
	Over   []goalPeriod
	Goals  []goalRowView
	// Form is the editor of a new goal, for users who may write.
	Form goalForm
}

// goals serves /site/{idSite}/goals: the site's goals and, for the state's period and
// segment, the conversions, converted visits, conversion rate and revenue of all goals
// together (against the previous period) and of each goal, and conversions and conversion rate
// over time. The calls: Goals.getGoals, Goals.get now, before and over time at once, then
// Goals.get of each goal (and of its previous period when comparing).
func (w *Web) goals(rw http.ResponseWriter, r *http.Request) error {
	return w.goalsList(rw, r, http.StatusOK, nil)
}

func (w *Web) goalsList(rw http.ResponseWriter, r *http.Request, status int, form *goalForm) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	prev := s.previous()
	got, err := w.callAll(r, p, []url.Values{siteGoals(site), s.params("Goals.get"), prev.params("Goals.get"), s.evolution("Goals.get")})
	if err != nil {
		return err
	}
	defs := goalDefs(got[0])
	var calls []url.Values
	for _, g := range defs {
		calls = append(calls, goalParams(s, g.ID))
		if s.Compare {
			calls = append(calls, goalParams(prev, g.ID))
		}
	}
	each, err := w.callAll(r, p, calls)
	if err != nil {
		return err
	}
	f, err := w.newFrame(r, p, w.msgs.locale(r).Or("nav.goals", "Goals"), "goals", site, s)
	if err != nil {
		return err
	}
	page := goalsPage{frame: f, Form: newGoalForm()}
	if form != nil {
		page.Form = *form
	}
	now, before := object(got[1]), object(got[2])
	for _, d := range goalKPIs {
		page.KPIs = append(page.KPIs, newKPI(d.key, d.column, now, before))
	}
	page.Over, page.Charts = goalEvolution(f.L, got[3], goalChartSpec{"goals.chart.conversions", "nb_conversions"}, goalChartSpec{"goals.chart.rate", "conversion_rate"})
	i := 0
	for _, g := range defs {
		v := goalRowView{goalDef: g, Now: object(each[i])}
		i++
		if s.Compare {
			v.Prev = object(each[i])
			v.Delta = newKPI("", "nb_conversions", v.Now, v.Prev)
			i++
		}
		page.Goals = append(page.Goals, v)
	}
	return w.renderPage(rw, status, "goals.html", page)
}

func siteGoals(site store.Site) url.Values {
	return url.Values{"method": {"Goals.getGoals"}, "idSite": {strconv.FormatInt(int64(site.ID), 10)}}
}

func goalParams(s state, id int) url.Values {
	v := s.params("Goals.get")
	v.Set("idGoal", strconv.Itoa(id))
	return v
}

// goalTable is a report of the visits that converted a goal beside all visits, by one
// dimension.
type goalTable struct {
	Key, Caption, Method string
	Rows                 []goalTableRow
}

type goalTableRow struct {
	Label            string
	Converted, Total any
	// Share is Converted of Total, computed here from the two.
	Share    float64
	HasShare bool
}

// goalTables are the reports of one goal's page, each asked twice: under the segment of the
// visits that converted the goal, and without it.
var goalTables = []struct{ key, caption, method string }{
	{"goals.by.referrer", "goals.by.referrer.caption", "Referrers.getReferrerType"},
	{"goals.by.device", "goals.by.device.caption", "DevicesDetection.getType"},
}

type goalPage struct {
	frame
	Goal   goalDef
	KPIs   []kpi
	Charts []chart
	Over   []goalPeriod
	Tables []goalTable
	Form   goalForm
	// Converted is the segment of the visits that converted the goal, for a link applying it.
	Converted string
}

// goal serves /site/{idSite}/goals/{idGoal}: one goal's definition, its figures against the
// previous period, conversions and conversion rate over time, and the visits that converted it
// by referrer type and device type beside all visits; with the editor for users who may write.
// Calls: Goals.getGoals, then seven at once.
func (w *Web) goal(rw http.ResponseWriter, r *http.Request) error {
	return w.goalDetail(rw, r, http.StatusOK, nil)
}

var errNoGoal = pageErrorT(http.StatusNotFound, "goals.err.no_goal")

// goalNamed is the goal the path's {idGoal} names among the site's goals, or a 404.
func (w *Web) goalNamed(r *http.Request, p *auth.Principal, site store.Site, id string) (goalDef, error) {
	n, err := strconv.Atoi(id)
	if err != nil || n <= 0 {
		return goalDef{}, errNoGoal
	}
	got, err := w.call(r, p, siteGoals(site))
	if err != nil {
		return goalDef{}, err
	}
	for _, g := range goalDefs(got) {
		if g.ID == n {
			return g, nil
		}
	}
	return goalDef{}, errNoGoal
}

func (w *Web) goalDetail(rw http.ResponseWriter, r *http.Request, status int, form *goalForm) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	g, err := w.goalNamed(r, p, site, r.PathValue("idGoal"))
	if err != nil {
		return err
	}
	prev := s.previous()
	converted := "visitConvertedGoalId==" + strconv.Itoa(g.ID)
	evo := s.evolution("Goals.get")
	evo.Set("idGoal", strconv.Itoa(g.ID))
	calls := []url.Values{goalParams(s, g.ID), goalParams(prev, g.ID), evo}
	for _, t := range goalTables {
		all := s.params(t.method)
		all.Set("filter_limit", "-1")
		conv := s.params(t.method)
		conv.Set("filter_limit", "-1")
		conv.Set("segment", andSegment(s.Segment, converted))
		calls = append(calls, conv, all)
	}
	got, err := w.callAll(r, p, calls)
	if err != nil {
		return err
	}
	f, err := w.newFrame(r, p, g.Name, "goals", site, s)
	if err != nil {
		return err
	}
	page := goalPage{frame: f, Goal: g, Form: g.form(), Converted: converted}
	if form != nil {
		page.Form = *form
	}
	now, before := object(got[0]), object(got[1])
	for _, d := range goalKPIs {
		page.KPIs = append(page.KPIs, newKPI(d.key, d.column, now, before))
	}
	page.Over, page.Charts = goalEvolution(f.L, got[2], goalChartSpec{"goals.chart.conversions", "nb_conversions"}, goalChartSpec{"goals.chart.rate", "conversion_rate"})
	for i, t := range goalTables {
		gt := goalTable{Key: t.key, Caption: t.caption, Method: t.method}
		totals := map[string]any{}
		for _, row := range rows(got[4+2*i]) {
			totals[goalStr(row["label"])] = row["nb_visits"]
		}
		for _, row := range rows(got[3+2*i]) {
			tr := goalTableRow{Label: goalStr(row["label"]), Converted: row["nb_visits"], Total: totals[goalStr(row["label"])]}
			c, _ := toFloat(tr.Converted)
			if all, ok := toFloat(tr.Total); ok && all > 0 {
				tr.Share, tr.HasShare = c/all, true
			}
			gt.Rows = append(gt.Rows, tr)
		}
		page.Tables = append(page.Tables, gt)
	}
	return w.renderPage(rw, status, "goal.html", page)
}

// changeGoal serves the goal editor's POST to /site/{idSite}/goals: action add, update or
// delete, through Goals.addGoal, updateGoal and deleteGoal (write access, audited by the API).
// A refusal of the input shows the form again with the API's message and what the user typed;
// success goes back to the list (the goal's page after an update) with the state kept.
func (w *Web) changeGoal(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.siteChange(rw, r, "goals.err.denied")
	if err != nil {
		return err
	}
	id := strconv.FormatInt(int64(site.ID), 10)
	form := readGoalForm(r)
	switch form.Action {
	case "add":
	case "update", "delete":
		g, err := w.goalNamed(r, p, site, r.PostForm.Get("idGoal"))
		if err != nil {
			return err
		}
		form.ID = g.ID
		if form.Action == "delete" {
			if _, err := w.change(r, p, url.Values{"method": {"Goals.deleteGoal"}, "idSite": {id}, "idGoal": {strconv.Itoa(g.ID)}}); err != nil {
				return err
			}
			return &redirect{string(s.SiteLink("/goals"))}
		}
	default:
		return pageErrorT(http.StatusBadRequest, "errorpage.unknown_action")
	}
	if _, err := w.change(r, p, form.params(id)); err != nil {
		var pe *PageError
		if !errors.As(err, &pe) || pe.Status != http.StatusBadRequest {
			return err
		}
		form.Error = pe.Message
		// The form is shown again on the page it was sent from, as a GET of it would show it.
		if form.Action == "update" {
			r.SetPathValue("idGoal", strconv.Itoa(form.ID))
			return w.goalDetail(rw, r, http.StatusBadRequest, &form)
		}
		return w.goalsList(rw, r, http.StatusBadRequest, &form)
	}
	if form.Action == "update" {
		return &redirect{string(s.SiteLink("/goals/" + strconv.Itoa(form.ID)))}
	}
	return &redirect{string(s.SiteLink("/goals"))}
}
