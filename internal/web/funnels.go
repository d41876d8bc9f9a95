package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"hearth/internal/auth"
	"hearth/internal/store"
)

// The funnels pages: a site's funnels with their entries and conversions, one funnel's visits
// per step with the drop-off between steps, and the editor. Every figure comes from the
// Funnels API for the page's period and segment, every change goes through
// Funnels.saveNonGoalFunnel and deleteNonGoalFunnel (write access, audited by the API).

// Bounds of the editor: the API takes 1 to funnelMaxSteps steps; a new funnel's form offers
// funnelDefaultRows rows, and "add a step" (or ?steps=N) one more up to the maximum.
const (
	funnelMaxSteps    = 20
	funnelDefaultRows = 5
	// funnelBarWidth is the width of a step's bar in the SVG's own units: the first step's
	// visits (the most any step has) fill it.
	funnelBarWidth = 1000.0
)

// The step kinds and matches the Funnels API takes, in the editor's order.
var (
	funnelKinds   = []string{"url", "title", "event_category", "event_action", "event_name", "download", "outlink"}
	funnelMatches = []string{"contains", "exact", "starts_with", "regex"}
)

// funnelStep is one step of a funnel, as the Funnels API answers and takes it.
type funnelStep struct {
	Name, Kind, Match, Pattern string
	CaseSensitive              bool
}

// In pairs the step with a language, for the template that describes its rule.
func (st funnelStep) In(l *locale) funnelRule { return funnelRule{L: l, St: st} }

type funnelRule struct {
	L  *locale
	St funnelStep
}

// blank tells an editor row left empty: it is not a step.
func (st funnelStep) blank() bool {
	return strings.TrimSpace(st.Name) == "" && strings.TrimSpace(st.Pattern) == ""
}

// funnelDef is a funnel's definition, as Funnels.getAllActivatedFunnelsForSite answers it.
type funnelDef struct {
	ID    int64
	Name  string
	Steps []funnelStep
}

// funnelDefs reads the site's funnels, in the order of their ids.
func funnelDefs(v any) []funnelDef {
	var out []funnelDef
	for _, rec := range rows(v) {
		id, _ := toFloat(rec["idfunnel"])
		f := funnelDef{ID: int64(id), Name: funnelStr(rec["name"])}
		for _, st := range rows(rec["steps"]) {
			f.Steps = append(f.Steps, funnelStep{Name: funnelStr(st["name"]), Kind: funnelStr(st["kind"]), Match: funnelStr(st["match"]),
				Pattern: funnelStr(st["pattern"]), CaseSensitive: num(st, "case_sensitive") == 1})
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// funnelForm is the funnel editor's input: a funnel's definition, or what the user sent when
// the API refused it (shown again with the API's message). Rows are the editor's rows, blank
// ones included.
type funnelForm struct {
	Action string // "add" or "update"
	ID     int64
	Name   string
	Rows   []funnelStep
	Error  string
}

// Kinds and Matches are the choices of a step's row.
func (funnelForm) Kinds() []string   { return funnelKinds }
func (funnelForm) Matches() []string { return funnelMatches }

// More tells whether the editor may offer another row.
func (f funnelForm) More() bool { return len(f.Rows) < funnelMaxSteps }

// Max is the most steps a funnel has, for the editor's help.
func (funnelForm) Max() int { return funnelMaxSteps }

// withRows is the form with blank rows added up to n (at most funnelMaxSteps).
func (f funnelForm) withRows(n int) funnelForm {
	n = min(n, funnelMaxSteps)
	rows := append([]funnelStep{}, f.Rows...)
	for len(rows) < n {
		rows = append(rows, funnelStep{Kind: "url", Match: "contains"})
	}
	f.Rows = rows
	return f
}

// steps are the rows that are steps, in order.
func (f funnelForm) steps() []funnelStep {
	var out []funnelStep
	for _, st := range f.Rows {
		if !st.blank() {
			out = append(out, st)
		}
	}
	return out
}

// form is the editor of an existing funnel: its steps and one row more.
func (d funnelDef) form() funnelForm {
	f := funnelForm{Action: "update", ID: d.ID, Name: d.Name, Rows: append([]funnelStep{}, d.Steps...)}
	return f.withRows(len(d.Steps) + 1)
}

// newFunnelForm is the empty editor with rows rows.
func newFunnelForm(rows int) funnelForm { return funnelForm{Action: "add"}.withRows(rows) }

// readFunnelForm reads the editor's POST: the name and the rows it showed (its field "rows"),
// each row's fields named as the API names a step's (steps[N][name]…).
func readFunnelForm(r *http.Request) funnelForm {
	p := r.PostForm
	f := funnelForm{Action: p.Get("action"), Name: p.Get("funnelName")}
	n, err := strconv.Atoi(p.Get("rows"))
	if err != nil || n < 1 || n > funnelMaxSteps {
		n = funnelMaxSteps
	}
	for i := 0; i < n; i++ {
		key := func(field string) string { return fmt.Sprintf("steps[%d][%s]", i, field) }
		st := funnelStep{Name: p.Get(key("name")), Kind: p.Get(key("kind")), Match: p.Get(key("match")), Pattern: p.Get(key("pattern")),
			CaseSensitive: p.Get(key("case_sensitive")) == "1"}
		if st.Kind == "" {
			st.Kind = "url"
		}
		if st.Match == "" {
			st.Match = "contains"
		}
		f.Rows = append(f.Rows, st)
	}
	// Trailing rows the form never had (no "rows" field) are not kept.
	for len(f.Rows) > 1 && p.Get("rows") == "" && f.Rows[len(f.Rows)-1].blank() {
		f.Rows = f.Rows[:len(f.Rows)-1]
	}
	return f
}

// params are the form as Funnels.saveNonGoalFunnel takes it: the rows that are steps,
// numbered from 0.
func (f funnelForm) params(site string) url.Values {
	v := url.Values{"method": {"Funnels.saveNonGoalFunnel"}, "idSite": {site}, "funnelName": {f.Name}}
	if f.Action == "update" {
		v.Set("idFunnel", strconv.FormatInt(f.ID, 10))
	}
	for i, st := range f.steps() {
		key := func(field string) string { return fmt.Sprintf("steps[%d][%s]", i, field) }
		cs := "0"
		if st.CaseSensitive {
			cs = "1"
		}
		v.Set(key("name"), st.Name)
		v.Set(key("kind"), st.Kind)
		v.Set(key("match"), st.Match)
		v.Set(key("pattern"), st.Pattern)
		v.Set(key("case_sensitive"), cs)
	}
	return v
}

// funnelRows reads ?steps=N, the number of rows a new funnel's editor offers (or at least
// fallback).
func funnelRows(r *http.Request, fallback int) (int, error) {
	raw := r.URL.Query().Get("steps")
	if raw == "" {
		return fallback, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		return 0, pageErrorT(http.StatusBadRequest, "funnels.err.rows", funnelMaxSteps)
	}
	return max(fallback, min(max(n, 1), funnelMaxSteps)), nil
}

func siteFunnels(site store.Site) url.Values {
	return url.Values{"method": {"Funnels.getAllActivatedFunnelsForSite"}, "idSite": {strconv.FormatInt(int64(site.ID), 10)}}
}

func funnelParams(s state, method string, id int64) url.Values {
	v := s.params(method)
	v.Set("idFunnel", strconv.FormatInt(id, 10))
	return v
}

var errNoFunnel = pageErrorT(http.StatusNotFound, "funnels.err.no_funnel")

// funnelNamed is the funnel id names among the site's funnels, or a 404 (another site's
// funnel is not found on this one).
func (w *Web) funnelNamed(r *http.Request, p *auth.Principal, site store.Site, id string) (funnelDef, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return funnelDef{}, errNoFunnel
	}
	got, err := w.call(r, p, siteFunnels(site))
	if err != nil {
		return funnelDef{}, err
	}
	for _, f := range funnelDefs(got) {
		if f.ID == n {
			return f, nil
		}
	}
	return funnelDef{}, errNoFunnel
}

// funnelRowView is a funnel in the list with its figures for the period (and the previous
// one when comparing).
type funnelRowView struct {
	funnelDef
	Now, Prev map[string]any
}

type funnelsPage struct {
	frame
	Funnels []funnelRowView
	// Form is the editor of a new funnel, for users who may write.
	Form funnelForm
}

// funnels serves /site/{idSite}/funnels: the site's funnels, each with its entries,
// conversions and conversion rate for the state's period and segment (Funnels.getMetrics of
// every funnel at once, and of the previous period when comparing), and the editor of a new
// funnel for users who may write.
func (w *Web) funnels(rw http.ResponseWriter, r *http.Request) error {
	return w.funnelsList(rw, r, http.StatusOK, nil)
}

func (w *Web) funnelsList(rw http.ResponseWriter, r *http.Request, status int, form *funnelForm) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	n, err := funnelRows(r, funnelDefaultRows)
	if err != nil {
		return err
	}
	got, err := w.call(r, p, siteFunnels(site))
	if err != nil {
		return err
	}
	defs := funnelDefs(got)
	prev := s.previous()
	var calls []url.Values
	for _, d := range defs {
		calls = append(calls, funnelParams(s, "Funnels.getMetrics", d.ID))
		if s.Compare {
			calls = append(calls, funnelParams(prev, "Funnels.getMetrics", d.ID))
		}
	}
	each, err := w.callAll(r, p, calls)
	if err != nil {
		return err
	}
	f, err := w.newFrame(r, p, w.msgs.locale(r).Or("funnels.title", "Funnels"), "funnels", site, s)
	if err != nil {
		return err
	}
	page := funnelsPage{frame: f, Form: newFunnelForm(n)}
	if form != nil {
		page.Form = *form
	}
	i := 0
	for _, d := range defs {
		v := funnelRowView{funnelDef: d, Now: object(each[i])}
		i++
		if s.Compare {
			v.Prev = object(each[i])
			i++
		}
		page.Funnels = append(page.Funnels, v)
	}
	return w.renderPage(rw, status, "funnels.html", page)
}

// funnelStepView is one step of the flow: its definition, its row of Funnels.getFunnelFlow
// now and before, and the widths of its bars.
type funnelStepView struct {
	funnelStep
	Pos              int
	Last             bool
	Now, Prev        map[string]any
	Width, PrevWidth float64
}

// funnelPeriod is one period of the conversions over time.
type funnelPeriod struct {
	Label  string
	Record map[string]any
}

type funnelPage struct {
	frame
	Funnel funnelDef
	KPIs   []kpi
	Steps  []funnelStepView
	Chart  chart
	Over   []funnelPeriod
	Form   funnelForm
	// BarWidth is the full width of a bar, in the SVG's units.
	BarWidth float64
}

// funnelKPIs are the tiles of a funnel's page, from Funnels.getMetrics.
var funnelKPIs = []struct{ key, column string }{
	{"funnels.kpi.entries", "funnel_sum_entries"},
	{"funnels.kpi.conversions", "funnel_nb_conversions"},
	{"funnels.kpi.rate", "funnel_conversion_rate"},
	{"funnels.kpi.exits", "funnel_sum_exits"},
	{"funnels.kpi.abandoned", "funnel_abandoned_rate"},
}

// funnel serves /site/{idSite}/funnels/{idFunnel}: one funnel's entries and conversions (against
// the previous period), its visits per step with the drop-off, as bars and as a table (the
// previous period's beside with compare=previous), entries and conversions over time, and the
// editor for users who may write. Calls: Funnels.getAllActivatedFunnelsForSite, then
// getFunnelFlow and getMetrics now and before and getMetrics over the chart's periods (one
// call: the API answers a multi-period date per period) at once.
func (w *Web) funnel(rw http.ResponseWriter, r *http.Request) error {
	return w.funnelDetail(rw, r, http.StatusOK, nil)
}

func (w *Web) funnelDetail(rw http.ResponseWriter, r *http.Request, status int, form *funnelForm) error {
	p, site, s, err := w.sitePage(r)
	if err != nil {
		return err
	}
	d, err := w.funnelNamed(r, p, site, r.PathValue("idFunnel"))
	if err != nil {
		return err
	}
	n, err := funnelRows(r, len(d.Steps)+1)
	if err != nil {
		return err
	}
	prev := s.previous()
	evo := s.evolution("Funnels.getMetrics")
	evo.Set("idFunnel", strconv.FormatInt(d.ID, 10))
	calls := []url.Values{funnelParams(s, "Funnels.getFunnelFlow", d.ID), funnelParams(s, "Funnels.getMetrics", d.ID),
		funnelParams(prev, "Funnels.getMetrics", d.ID), evo}
	if s.Compare {
		prevEvo := prev.evolution("Funnels.getMetrics")
		prevEvo.Set("idFunnel", strconv.FormatInt(d.ID, 10))
		calls = append(calls, funnelParams(prev, "Funnels.getFunnelFlow", d.ID), prevEvo)
	}
	got, err := w.callAll(r, p, calls)
	if err != nil {
		return err
	}
	f, err := w.newFrame(r, p, d.Name, "funnels", site, s)
	if err != nil {
		return err
	}
	page := funnelPage{frame: f, Funnel: d, Form: d.form().withRows(n), BarWidth: funnelBarWidth}
	if form != nil {
		page.Form = *form
	}
	now, before := object(got[1]), object(got[2])
	for _, k := range funnelKPIs {
		page.KPIs = append(page.KPIs, newKPI(k.key, k.column, now, before))
	}
	flow, prevFlow := rows(got[0]), []map[string]any(nil)
	if s.Compare {
		prevFlow = rows(got[4])
	}
	page.Steps = funnelFlow(d, flow, prevFlow)
	l := f.L
	labels, recs := series(got[3])
	for i, rec := range recs {
		page.Over = append(page.Over, funnelPeriod{Label: labels[i], Record: rec})
	}
	name := l.Or("funnels.kpi.conversions", "Conversions")
	names, values := []string{name}, [][]float64{columnOf(recs, "funnel_nb_conversions")}
	if s.Compare {
		_, old := series(got[5])
		names, values = append(names, l.Or("kpi.previous", "Previous period")), append(values, columnOf(old, "funnel_nb_conversions"))
	}
	page.Chart = lineChart(l.Or("funnels.chart", "Conversions over time"), labels, names, values, func(v float64) string { return l.Num(v) })
	return w.renderPage(rw, status, "funnel.html", page)
}

// funnelFlow pairs the funnel's steps with their rows of Funnels.getFunnelFlow (the API
// answers one per step, in order) and sizes their bars against the largest figure shown.
func funnelFlow(d funnelDef, now, before []map[string]any) []funnelStepView {
	top := 0.0
	for _, list := range [][]map[string]any{now, before} {
		for _, row := range list {
			top = math.Max(top, num(row, "step_nb_visits"))
		}
	}
	width := func(row map[string]any) float64 {
		if top == 0 {
			return 0
		}
		return round1(num(row, "step_nb_visits") / top * funnelBarWidth)
	}
	out := make([]funnelStepView, len(d.Steps))
	for i, st := range d.Steps {
		v := funnelStepView{funnelStep: st, Pos: i + 1, Last: i == len(d.Steps)-1, Now: map[string]any{}}
		if i < len(now) {
			v.Now = now[i]
		}
		v.Width = width(v.Now)
		if before != nil {
			v.Prev = map[string]any{}
			if i < len(before) {
				v.Prev = before[i]
			}
			v.PrevWidth = width(v.Prev)
		}
		out[i] = v
	}
	return out
}

func columnOf(recs []map[string]any, column string) []float64 {
	out := make([]float64, len(recs))
	for i, rec := range recs {
		out[i] = num(rec, column)
	}
	return out
}

// changeFunnel serves the editor's POST to /site/{idSite}/funnels: action add, update or
// delete through Funnels.saveNonGoalFunnel and deleteNonGoalFunnel (write access, audited by
// the API); "more" (the add-a-step button) shows the form again with one more row. A refusal
// of the input shows the form again with the API's message and what the user typed; success
// goes to the funnel's page (the list after a delete) with the state kept.
func (w *Web) changeFunnel(rw http.ResponseWriter, r *http.Request) error {
	p, site, s, err := w.siteChange(rw, r, "funnels.err.denied")
	if err != nil {
		return err
	}
	id := strconv.FormatInt(int64(site.ID), 10)
	form := readFunnelForm(r)
	switch form.Action {
	case "add":
	case "update", "delete":
		d, err := w.funnelNamed(r, p, site, r.PostForm.Get("idFunnel"))
		if err != nil {
			return err
		}
		form.ID = d.ID
		if form.Action == "delete" {
			if _, err := w.change(r, p, url.Values{"method": {"Funnels.deleteNonGoalFunnel"}, "idSite": {id},
				"idFunnel": {strconv.FormatInt(d.ID, 10)}}); err != nil {
				return err
			}
			return &redirect{string(s.SiteLink("/funnels"))}
		}
	default:
		return pageErrorT(http.StatusBadRequest, "errorpage.unknown_action")
	}
	// The form again, on the page it was sent from, as a GET of it would show it.
	again := func(status int) error {
		if form.Action == "update" {
			r.SetPathValue("idFunnel", strconv.FormatInt(form.ID, 10))
			return w.funnelDetail(rw, r, status, &form)
		}
		return w.funnelsList(rw, r, status, &form)
	}
	if r.PostForm.Get("more") != "" {
		form = form.withRows(len(form.Rows) + 1)
		return again(http.StatusOK)
	}
	got, err := w.change(r, p, form.params(id))
	if err != nil {
		var pe *PageError
		if !errors.As(err, &pe) || pe.Status != http.StatusBadRequest {
			return err
		}
		// The API numbers the steps it was sent: the rows that are steps, shown so.
		form.Error = pe.Message
		form.Rows = form.steps()
		form = form.withRows(max(len(form.Rows)+1, funnelDefaultRows))
		return again(http.StatusBadRequest)
	}
	saved := form.ID
	if form.Action == "add" {
		n, ok := toFloat(object(got)["value"])
		if !ok || n <= 0 {
			return fmt.Errorf("saveNonGoalFunnel answered no funnel id")
		}
		saved = int64(n)
	}
	return &redirect{string(s.SiteLink("/funnels/" + strconv.FormatInt(saved, 10)))}
}

// funnelStr is an API string value ("" when absent).
func funnelStr(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// funnelCells are one row of the flow table: a step's figures of one period.
type funnelCells struct {
	L   *locale
	Row map[string]any
}

// Cells are the step's figures now, or in the previous period, for the table.
func (v funnelStepView) Cells(l *locale, previous bool) funnelCells {
	if previous {
		return funnelCells{L: l, Row: v.Prev}
	}
	return funnelCells{L: l, Row: v.Now}
}
