package matomo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/goal"
	"hearth/internal/store"
)

// Funnels, with the names of Matomo's Funnels plugin for funnels not tied to a goal: defining
// one needs write access to the site (audited as a setting change of the site); reading the
// definitions and the reports needs view access. A funnel counts the visits that took its
// steps in order within the visit, computed from the stored actions, so a new or changed
// funnel covers every visit already stored.

// Bounds of a funnel definition.
const (
	maxFunnelSteps   = 20
	maxFunnelName    = 100 // characters, for the funnel's name and each step's
	maxFunnelPattern = 255 // bytes, as goal patterns
)

var (
	funnelKinds = []store.FunnelKind{store.FunnelURL, store.FunnelTitle, store.FunnelEventCategory, store.FunnelEventAction,
		store.FunnelEventName, store.FunnelDownload, store.FunnelOutlink}
	funnelMatches = []store.FunnelMatch{store.FunnelContains, store.FunnelExact, store.FunnelStartsWith, store.FunnelRegex}
	stepFields    = []string{"name", "kind", "match", "pattern", "case_sensitive"}
)

func joinNames[T ~string](names []T) string {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = string(n)
	}
	return strings.Join(parts, ", ")
}

// funnelSteps reads the steps of a definition, given as Matomo takes arrays:
// steps[0][name]=…&steps[0][kind]=…&steps[0][match]=…&steps[0][pattern]=…, in the order of
// their numbers. The error is fit to show to the user who sent them.
func funnelSteps(c *call) ([]store.FunnelStep, error) {
	byIndex := map[int]map[string]string{}
	for k, v := range c.params {
		rest, ok := strings.CutPrefix(k, "steps[")
		if !ok {
			if k == "steps" {
				return nil, errorf(400, "Give the steps as steps[0][name]=…&steps[0][kind]=…&steps[0][match]=…&steps[0][pattern]=…, one number per step.")
			}
			continue
		}
		num, field, ok := strings.Cut(rest, "][")
		n, err := strconv.Atoi(num)
		if !ok || err != nil || n < 0 || n > 1000 || !strings.HasSuffix(field, "]") {
			return nil, errorf(400, "The parameter %s is not a step field: give steps[N][field], N a step number from 0.", truncate(k, 40))
		}
		field = strings.TrimSuffix(field, "]")
		known := false
		for _, f := range stepFields {
			known = known || f == field
		}
		if !known {
			return nil, errorf(400, "The parameter %s is not a step field: a step has %s.", truncate(k, 40), strings.Join(stepFields, ", "))
		}
		if byIndex[n] == nil {
			byIndex[n] = map[string]string{}
		}
		byIndex[n][field] = first(v)
	}
	if len(byIndex) == 0 || len(byIndex) > maxFunnelSteps {
		return nil, errorf(400, "A funnel has 1 to %d steps: give them as steps[0][name]=…&steps[0][kind]=…&steps[0][match]=…&steps[0][pattern]=….", maxFunnelSteps)
	}
	nums := make([]int, 0, len(byIndex))
	for n := range byIndex {
		nums = append(nums, n)
	}
	sort.Ints(nums)
	steps := make([]store.FunnelStep, len(nums))
	for i, n := range nums {
		f := byIndex[n]
		st := store.FunnelStep{Name: strings.TrimSpace(f["name"]), Kind: store.FunnelKind(strings.ToLower(strings.TrimSpace(f["kind"]))),
			Match: store.FunnelMatch(strings.ToLower(strings.TrimSpace(f["match"]))), Pattern: f["pattern"], CaseSensitive: isTrue(f["case_sensitive"])}
		if err := validateStep(&st); err != nil {
			return nil, errorf(400, "Step %d: %s", i+1, err.Error())
		}
		steps[i] = st
	}
	return steps, nil
}

// validateStep checks one step; the error names what is wrong with it.
func validateStep(st *store.FunnelStep) error {
	if st.Name == "" || utf8.RuneCountInString(st.Name) > maxFunnelName {
		return fmt.Errorf("the name must have 1 to %d characters", maxFunnelName)
	}
	if !containsName(funnelKinds, st.Kind) {
		return fmt.Errorf("the kind must be one of %s", joinNames(funnelKinds))
	}
	if !containsName(funnelMatches, st.Match) {
		return fmt.Errorf("the match must be one of %s", joinNames(funnelMatches))
	}
	if st.Pattern == "" || len(st.Pattern) > maxFunnelPattern {
		return fmt.Errorf("the pattern must have 1 to %d characters", maxFunnelPattern)
	}
	if st.Match == store.FunnelRegex {
		// Goals check their regular expressions so; the event store runs RE2 as Go does.
		g := store.Goal{MatchAttribute: "url", PatternType: "regex", Pattern: st.Pattern, CaseSensitive: st.CaseSensitive}
		if err := goal.Validate(&g); err != nil {
			return err
		}
	}
	return nil
}

func containsName[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// funnelInput reads the name and steps of saveNonGoalFunnel.
func funnelInput(c *call, f *store.Funnel) error {
	f.Name = strings.TrimSpace(c.params.Get("funnelName"))
	if f.Name == "" || utf8.RuneCountInString(f.Name) > maxFunnelName {
		return errorf(400, "Please specify a 'funnelName' of 1 to %d characters.", maxFunnelName)
	}
	steps, err := funnelSteps(c)
	if err != nil {
		return err
	}
	f.Steps = steps
	return nil
}

// funnelID reads idFunnel: a positive id, or (when zeroOK) 0 or nothing for a new funnel.
func funnelID(c *call, zeroOK bool) (int64, error) {
	raw := strings.TrimSpace(c.params.Get("idFunnel"))
	if raw == "" && zeroOK {
		return 0, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 0 || id == 0 && !zeroOK {
		return 0, errorf(400, "Please specify a value for 'idFunnel'.")
	}
	return id, nil
}

// funnelOf is the funnel id names on the site; another site's funnel is not found.
func (a *API) funnelOf(ctx context.Context, site event.SiteID, id int64) (store.Funnel, error) {
	f, err := a.opts.Meta.Funnel(ctx, site, id)
	if errors.Is(err, store.ErrNotFound) {
		return f, errorf(400, "The funnel id %d does not exist for the website id = %d.", id, site)
	}
	return f, err
}

func (a *API) recordFunnel(ctx context.Context, c *call, change string, f store.Funnel) {
	a.record(ctx, c, audit.ActionSettingChange, fmt.Sprintf("site:%d", f.SiteID), audit.Success, map[string]string{
		"setting": "funnel", "change": change, "id": strconv.FormatInt(f.ID, 10), "name": f.Name, "steps": strconv.Itoa(len(f.Steps))})
}

// saveNonGoalFunnel creates a funnel (idFunnel 0 or absent) or replaces the name and steps of
// one of the site's, and answers its id.
func (a *API) saveNonGoalFunnel(ctx context.Context, c *call) (any, error) {
	site, err := a.writableSite(ctx, c)
	if err != nil {
		return nil, err
	}
	id, err := funnelID(c, true)
	if err != nil {
		return nil, err
	}
	f := store.Funnel{SiteID: site, Created: a.opts.Now().UTC()}
	if id > 0 {
		if f, err = a.funnelOf(ctx, site, id); err != nil {
			return nil, err
		}
	}
	if err := funnelInput(c, &f); err != nil {
		return nil, err
	}
	change := "update"
	if id == 0 {
		change = "create"
		if f, err = a.opts.Meta.CreateFunnel(ctx, f); err != nil {
			return nil, err
		}
	} else if err := a.opts.Meta.UpdateFunnel(ctx, f); err != nil {
		return nil, err
	}
	a.recordFunnel(ctx, c, change, f)
	return value{f.ID}, nil
}

func (a *API) deleteNonGoalFunnel(ctx context.Context, c *call) (any, error) {
	site, err := a.writableSite(ctx, c)
	if err != nil {
		return nil, err
	}
	id, err := funnelID(c, false)
	if err != nil {
		return nil, err
	}
	f, err := a.funnelOf(ctx, site, id)
	if err != nil {
		return nil, err
	}
	if err := a.opts.Meta.DeleteFunnel(ctx, site, id); err != nil {
		return nil, err
	}
	a.recordFunnel(ctx, c, "delete", f)
	return success{}, nil
}

// funnelRow is a funnel's definition, its steps numbered from 1.
func funnelRow(f store.Funnel) *Row {
	steps := make([]*Row, len(f.Steps))
	for i, st := range f.Steps {
		steps[i] = NewRow().Set("position", int64(i+1)).Set("name", st.Name).Set("kind", string(st.Kind)).Set("match", string(st.Match)).
			Set("pattern", st.Pattern).Set("case_sensitive", b01(st.CaseSensitive))
	}
	return NewRow().Set("idfunnel", f.ID).Set("idsite", int64(f.SiteID)).Set("name", f.Name).
		Set("created_date", f.Created.UTC().Format("2006-01-02 15:04:05")).Set("steps", steps)
}

// siteFunnel is the funnel idFunnel names on the request's single site, which the caller
// may view.
func (a *API) siteFunnel(ctx context.Context, c *call) (store.Funnel, error) {
	ids, err := a.siteIDs(ctx, c)
	if err != nil {
		return store.Funnel{}, err
	}
	// Reports too take one site: a funnel's id means nothing on another.
	if raw := strings.TrimSpace(c.params.Get("idSite")); len(ids) != 1 || raw == "all" || strings.Contains(raw, ",") {
		return store.Funnel{}, errorf(400, "Funnels belong to one site: give a single idSite.")
	}
	id, err := funnelID(c, false)
	if err != nil {
		return store.Funnel{}, err
	}
	return a.funnelOf(ctx, ids[0], id)
}

func (a *API) getFunnel(ctx context.Context, c *call) (any, error) {
	f, err := a.siteFunnel(ctx, c)
	if err != nil {
		return nil, err
	}
	return selectColumns(funnelRow(f), c), nil
}

// allFunnels lists the site's funnels by id (every funnel of Hearth's is active).
func (a *API) allFunnels(ctx context.Context, c *call) (any, error) {
	site, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	list, err := a.opts.Meta.Funnels(ctx, site.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*Row, len(list))
	for i, f := range list {
		out[i] = funnelRow(f)
	}
	return selectColumns(out, c), nil
}

// funnelReport answers a funnel report: the funnel idFunnel names, computed for each period
// under the segment, each period's answer made by shape.
func (a *API) funnelReport(ctx context.Context, c *call, shape func(store.Funnel, store.FunnelResult, string) any) (any, error) {
	f, err := a.siteFunnel(ctx, c)
	if err != nil {
		return nil, err
	}
	mode := metricFormat(c)
	result, err := a.perSitePeriod(ctx, c, func(ctx context.Context, sd siteDates) ([]any, error) {
		res, err := a.opts.Events.Funnel(ctx, store.FunnelQuery{ReportQuery: sd.query(), Steps: f.Steps})
		if err != nil {
			return nil, err
		}
		out := make([]any, len(res))
		for i, r := range res {
			out[i] = shape(f, r, mode)
		}
		return out, nil
	})
	if err != nil {
		return nil, err
	}
	return selectColumns(result, c), nil
}

// funnelFlow serves Funnels.getFunnelFlow: a row per step, in order, with the visits that
// reached it (having done every earlier step in order), those that went on to the next step
// and those that dropped off there, and the rates of each.
func (a *API) funnelFlow(ctx context.Context, c *call) (any, error) {
	opts, err := readTableOptions(c)
	if err != nil {
		return nil, err
	}
	var filterErr error
	result, err := a.funnelReport(ctx, c, func(f store.Funnel, r store.FunnelResult, mode string) any {
		rows, err := opts.filter(flowRows(f, r, mode), true)
		if err != nil {
			filterErr = err
		}
		return rows
	})
	if err == nil {
		err = filterErr
	}
	return result, err
}

// flowRows are a funnel's steps with their figures for one period.
func flowRows(f store.Funnel, r store.FunnelResult, mode string) []*Row {
	rows := make([]*Row, len(f.Steps))
	var entries int64
	if len(r.Reached) > 0 {
		entries = r.Reached[0]
	}
	for i, st := range f.Steps {
		reached := reachedAt(r, i)
		// The last step has no next one: its visits completed the funnel, neither going on
		// nor dropping off.
		var proceeded, exits int64
		if i < len(f.Steps)-1 {
			proceeded = reachedAt(r, i+1)
			exits = reached - proceeded
		}
		previous := reached
		if i > 0 {
			previous = reachedAt(r, i-1)
		}
		rows[i] = NewRow().Set("label", st.Name).Set("step_position", int64(i+1)).Set("step_nb_visits", reached).
			Set("step_nb_proceeded", proceeded).Set("step_nb_exits", exits).
			Set("step_proceeded_rate", rate(proceeded, reached, mode)).Set("step_exited_rate", rate(exits, reached, mode)).
			Set("step_reached_rate", rate(reached, previous, mode)).Set("step_conversion_rate", rate(reached, entries, mode))
	}
	return rows
}

func reachedAt(r store.FunnelResult, i int) int64 {
	if i < len(r.Reached) {
		return r.Reached[i]
	}
	return 0
}

// funnelMetrics serves Funnels.getMetrics: the visits that entered the funnel (did its first
// step), converted (did its last), and left in between, with the rates.
func (a *API) funnelMetrics(ctx context.Context, c *call) (any, error) {
	return a.funnelReport(ctx, c, func(f store.Funnel, r store.FunnelResult, mode string) any {
		entries, conversions := reachedAt(r, 0), reachedAt(r, len(f.Steps)-1)
		return NewRow().Set("funnel_sum_entries", entries).Set("funnel_nb_conversions", conversions).
			Set("funnel_sum_exits", entries-conversions).Set("funnel_conversion_rate", rate(conversions, entries, mode)).
			Set("funnel_abandoned_rate", rate(entries-conversions, entries, mode))
	})
}
