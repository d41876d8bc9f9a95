// Package matomo serves the Matomo Reporting API (/index.php?module=API) on top of the
// stores and the auth service: request parsing, authentication, method dispatch and
// Matomo's output formats and error shapes.
package matomo

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/event"
	"hearth/internal/report"
	"hearth/internal/requestid"
	"hearth/internal/store"
)

// Version is the Matomo API version Hearth answers as.
const Version = "5.2.0"

// SiteObserver is told when a site's settings change (the ingest pipeline's cache).
type SiteObserver interface{ InvalidateSite(event.SiteID) }

// Recorder records audit events.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Options configure the API.
type Options struct {
	Audit            Recorder
	ClientIP         func(*http.Request) netip.Addr
	Meta             store.Meta
	Events           store.Events
	Auth             *auth.Service
	Sites            SiteObserver
	APITokenPostOnly bool
	// PublicURL is the address users reach Hearth at, for the tracking code.
	PublicURL string
	// Pseudonym turns a user ID into its stored pseudonym, for userId segments.
	Pseudonym func(string) string
	// Names supplies names the events do not store (regions, from the geolocation database).
	Names report.Names
	// QueryTimeout bounds one API request (a bulk request as a whole); 0 means 60 seconds.
	QueryTimeout time.Duration
	// VisitorLogMaxActions is the most actions a visit lists in Live.getLastVisitsDetails;
	// 0 means DefaultVisitorLogMaxActions.
	VisitorLogMaxActions int
	Now                  func() time.Time
	Logger               *slog.Logger
}

// API is the HTTP handler.
type API struct {
	opts    Options
	methods map[string]method
	views   rawViews // raw-data views that calls continue (rawviews.go)
}

type method struct {
	fn       func(ctx context.Context, c *call) (any, error)
	postOnly bool
	anon     bool // callable without a token
	write    bool // changes something: refused to read-only tokens
	password bool // checks a password: refused inside a bulk request
}

type call struct {
	params    url.Values
	principal *auth.Principal
	format    string
	post      bool
	ip        netip.Addr
	// passwordChecks counts the password checks of the whole HTTP request, shared by the
	// calls of a bulk request: each check costs an argon2 hash, so a request gets one.
	passwordChecks *int
}

// actor names the principal in the audit trail.
func (c *call) actor() string {
	if c.principal == nil {
		return "anonymous"
	}
	return c.principal.User.Login
}

// record writes an audit event; a failure to audit is logged, never hidden.
func (a *API) record(ctx context.Context, c *call, action, target, outcome string, details map[string]string) {
	if a.opts.Audit == nil {
		return
	}
	if err := a.opts.Audit.Record(ctx, audit.Event{Actor: c.actor(), IP: c.ip, Action: action, Target: target, Outcome: outcome, Details: details}); err != nil {
		a.opts.Logger.Error("audit: record", "action", action, "err", err)
	}
}

// New builds the API.
func New(opts Options) *API {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.QueryTimeout <= 0 {
		opts.QueryTimeout = time.Minute
	}
	a := &API{opts: opts}
	a.methods = map[string]method{
		"API.getMatomoVersion":                              {fn: a.version},
		"API.getPiwikVersion":                               {fn: a.version},
		"SitesManager.addSite":                              {fn: a.addSite, write: true},
		"SitesManager.updateSite":                           {fn: a.updateSite, write: true},
		"SitesManager.getSiteFromId":                        {fn: a.getSiteFromID},
		"SitesManager.getJavascriptTag":                     {fn: a.javascriptTag},
		"SitesManager.getSitesWithAtLeastViewAccess":        {fn: a.sitesWithView},
		"SitesManager.getAllSites":                          {fn: a.allSites},
		"SitesManager.getSitesIdFromSiteUrl":                {fn: a.sitesFromURL},
		"UsersManager.createAppSpecificTokenAuth":           {fn: a.createToken, postOnly: true, anon: true, password: true},
		"UsersManager.addUser":                              {fn: a.addUser, write: true, password: true},
		"UsersManager.getUser":                              {fn: a.getUser},
		"UsersManager.getUsers":                             {fn: a.getUsers},
		"UsersManager.getUsersPlusRole":                     {fn: a.getUsersPlusRole},
		"UsersManager.setUserAccess":                        {fn: a.setUserAccess, write: true, password: true},
		"UsersManager.addCapabilities":                      {fn: a.addCapabilities, write: true},
		"UsersManager.removeCapabilities":                   {fn: a.removeCapabilities, write: true},
		"UsersManager.setSuperUserAccess":                   {fn: a.setSuperUserAccess, write: true, password: true},
		"UsersManager.deleteUser":                           {fn: a.deleteUser, write: true, password: true},
		"UsersManager.updateUser":                           {fn: a.updateUser, write: true, password: true},
		"Live.getLastVisitsDetails":                         {fn: a.lastVisits},
		"Live.getCounters":                                  {fn: a.counters},
		"Live.getVisitorProfile":                            {fn: a.visitorProfile},
		"VisitsSummary.get":                                 {fn: a.visitsSummary},
		"VisitsSummary.getVisits":                           {fn: a.visitsSummaryValue(func(t store.VisitTotals) int64 { return t.Visits })},
		"VisitsSummary.getUniqueVisitors":                   {fn: a.visitsSummaryValue(func(t store.VisitTotals) int64 { return t.UniqueVisitors })},
		"VisitsSummary.getUsers":                            {fn: a.visitsSummaryValue(func(t store.VisitTotals) int64 { return t.Users })},
		"VisitsSummary.getActions":                          {fn: a.visitsSummaryValue(func(t store.VisitTotals) int64 { return t.Actions })},
		"VisitsSummary.getMaxActions":                       {fn: a.visitsSummaryValue(func(t store.VisitTotals) int64 { return t.MaxActions })},
		"VisitsSummary.getBounceCount":                      {fn: a.visitsSummaryValue(func(t store.VisitTotals) int64 { return t.Bounces })},
		"VisitsSummary.getVisitsConverted":                  {fn: a.visitsSummaryValue(func(t store.VisitTotals) int64 { return t.Converted })},
		"VisitsSummary.getSumVisitsLength":                  {fn: a.visitsSummaryValue(func(t store.VisitTotals) int64 { return t.VisitLength })},
		"VisitFrequency.get":                                {fn: a.visitFrequency},
		"API.getBulkRequest":                                {fn: a.bulkRequest, anon: true},
		"API.getReportMetadata":                             {fn: a.reportMetadata},
		"API.getSegmentsMetadata":                           {fn: a.segmentsMetadata},
		"API.getProcessedReport":                            {fn: a.processedReport},
		"Hearth.getBotCounts":                               {fn: a.botCounts},
		"CustomDimensions.configureNewCustomDimension":      {fn: a.configureNewDimension, write: true},
		"CustomDimensions.configureExistingCustomDimension": {fn: a.configureExistingDimension, write: true},
		"CustomDimensions.getConfiguredCustomDimensions":    {fn: a.configuredDimensions},
		"CustomDimensions.getCustomDimension":               {fn: a.customDimensionReport},
		"Goals.get":                                         {fn: a.goalsGet},
		"Goals.getGoals":                                    {fn: a.getGoals},
		"Goals.getGoal":                                     {fn: a.getGoal},
		"Goals.addGoal":                                     {fn: a.addGoal, write: true},
		"Goals.updateGoal":                                  {fn: a.updateGoal, write: true},
		"Goals.deleteGoal":                                  {fn: a.deleteGoal, write: true},
		"Goals.getItemsSku":                                 {fn: a.itemsReport(store.ItemSKU)},
		"Goals.getItemsName":                                {fn: a.itemsReport(store.ItemName)},
		"Goals.getItemsCategory":                            {fn: a.itemsReport(store.ItemCategory)},
		"SegmentEditor.add":                                 {fn: a.segmentAdd, write: true},
		"SegmentEditor.update":                              {fn: a.segmentUpdate, write: true},
		"SegmentEditor.delete":                              {fn: a.segmentDelete, write: true},
		"SegmentEditor.get":                                 {fn: a.segmentGet},
		"SegmentEditor.getAll":                              {fn: a.segmentGetAll},
		"Actions.get":                                       {fn: a.actionsSummary},
		"Funnels.saveNonGoalFunnel":                         {fn: a.saveNonGoalFunnel, write: true},
		"Funnels.deleteNonGoalFunnel":                       {fn: a.deleteNonGoalFunnel, write: true},
		"Funnels.getFunnel":                                 {fn: a.getFunnel},
		"Funnels.getAllActivatedFunnelsForSite":             {fn: a.allFunnels},
		"Funnels.getFunnelFlow":                             {fn: a.funnelFlow},
		"Funnels.getMetrics":                                {fn: a.funnelMetrics},
	}
	a.userAdminMethods() // useradmin.go
	for _, d := range report.VisitReports {
		a.methods[d.Method()] = method{fn: a.visitReport(d)}
	}
	for _, d := range report.ActionReports {
		a.methods[d.Method()] = method{fn: a.actionReport(d)}
	}
	for _, d := range report.EventReports {
		a.methods[d.Method()] = method{fn: a.eventReport(d)}
	}
	return a
}

// Methods lists the method names, for the authorization matrix and docs.
func (a *API) Methods() []string {
	out := make([]string, 0, len(a.methods))
	for m := range a.methods {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.serve(w, r, nil) }

// ServeAs answers a Reporting API request made by a signed-in user of the dashboard: the same
// parsing, checks, dispatch, audit records and output as ServeHTTP, with the session's
// principal in place of a token (a token_auth in the request is ignored). The dashboard reads
// every number it shows and writes every change it makes through here, so a page and the API
// cannot disagree and no page bypasses a check.
func (a *API) ServeAs(w http.ResponseWriter, r *http.Request, p *auth.Principal) {
	if p == nil {
		write(w, "xml", http.StatusUnauthorized, errorf(401, "You must be logged in to access this functionality."))
		return
	}
	a.serve(w, r, p)
}

func (a *API) serve(w http.ResponseWriter, r *http.Request, session *auth.Principal) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	query := r.URL.Query()
	body := url.Values{}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			write(w, query.Get("format"), http.StatusBadRequest, errorf(400, "could not read the request body"))
			return
		}
		body = r.PostForm
	}
	params := url.Values{}
	for k, v := range query {
		params[k] = v
	}
	for k, v := range body {
		if k == "token_auth" {
			continue
		}
		params[k] = v
	}
	params.Del("token_auth")
	format := strings.ToLower(params.Get("format"))
	if format == "" {
		format = "xml"
	}
	switch format {
	case "xml", "json":
	case "csv", "tsv":
		if params.Get("convertToUnicode") == "0" {
			format += "8" // UTF-8 rather than Matomo's default UTF-16LE
		}
	default:
		write(w, "xml", http.StatusBadRequest, errorf(400, "The format '%s' is not supported: use xml, json, csv or tsv.", truncate(format, 20)))
		return
	}
	c := &call{params: params, format: format, post: r.Method == http.MethodPost, passwordChecks: new(int)}
	if a.opts.ClientIP != nil {
		c.ip = a.opts.ClientIP(r)
	}
	name := params.Get("method")
	if m, ok := a.methods[name]; !ok || m.postOnly && !c.post {
		// Refused before any token is checked (and counted as a failure).
		result, status := a.dispatch(r.Context(), c, name)
		write(w, format, status, result)
		return
	}
	token := body.Get("token_auth")
	fromBody := token != ""
	if token == "" && !a.opts.APITokenPostOnly {
		token = query.Get("token_auth")
	}
	if session != nil {
		c.principal, token = session, ""
	}
	if token != "" && token != "anonymous" {
		p, err := a.opts.Auth.Token(r.Context(), token, fromBody, c.ip)
		if err != nil {
			if !errors.Is(err, auth.ErrBadCredentials) {
				a.opts.Logger.Error("token check failed", "request_id", requestid.From(r.Context()), "err", err)
			}
			write(w, format, http.StatusUnauthorized, errorf(401, "You must be logged in to access this functionality: the token_auth is invalid or expired."))
			return
		}
		c.principal = p
	}
	ctx, cancel := context.WithTimeout(r.Context(), a.opts.QueryTimeout)
	defer cancel()
	result, status := a.dispatch(ctx, c, name)
	write(w, format, status, result)
}

// dispatch runs one method call after the checks every call passes: the method exists,
// read-only tokens do not change anything, anonymous callers reach only anonymous methods.
// It returns the answer and its HTTP status.
func (a *API) dispatch(ctx context.Context, c *call, name string) (any, int) {
	m, ok := a.methods[name]
	if !ok {
		return errorf(400, "The method '%s' does not exist or is not available in the module.", truncate(name, 100)), http.StatusBadRequest
	}
	if m.postOnly && !c.post {
		return errorf(400, "%s must be called with POST", name), http.StatusBadRequest
	}
	if m.write && c.principal != nil && c.principal.ReadOnly {
		return errorf(401, "This token is read-only: %s changes data.", name), http.StatusUnauthorized
	}
	if c.principal == nil && !m.anon {
		return errorf(401, "You must be logged in to access this functionality."), http.StatusUnauthorized
	}
	result, err := m.fn(ctx, c)
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			return ae, ae.status
		}
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			a.opts.Logger.Warn("api method stopped", "method", name, "request_id", requestid.From(ctx), "err", err)
			return errorf(503, "The request took longer than %s and was stopped: ask for a shorter period, fewer sites or a simpler segment.", a.opts.QueryTimeout), http.StatusServiceUnavailable
		}
		a.opts.Logger.Error("api method failed", "method", name, "request_id", requestid.From(ctx), "err", err)
		return errorf(500, "An internal error occurred."), http.StatusInternalServerError
	}
	return result, http.StatusOK
}

func isTrue(s string) bool { return s == "1" || strings.EqualFold(s, "true") }

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

func noAccess() error {
	return errorf(http.StatusUnauthorized, "You can't access this resource as it requires 'view' access for the website id = %s.", "the requested site")
}

func (a *API) version(ctx context.Context, c *call) (any, error) { return value{Version}, nil }

// siteIDs parses idSite: one id, a comma list or "all", keeping only sites the principal can view.
func (a *API) siteIDs(ctx context.Context, c *call) ([]event.SiteID, error) {
	raw := strings.TrimSpace(c.params.Get("idSite"))
	if raw == "" {
		raw = c.params.Get("idsite")
	}
	if raw == "" {
		return nil, errorf(400, "Please specify a value for 'idSite'.")
	}
	if raw == "all" {
		sites, err := a.opts.Meta.Sites(ctx)
		if err != nil {
			return nil, err
		}
		var out []event.SiteID
		for _, s := range sites {
			if c.principal.CanView(s.ID) {
				out = append(out, s.ID)
			}
		}
		return out, nil
	}
	var out []event.SiteID
	for _, part := range strings.Split(raw, ",") {
		n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 32)
		if err != nil || n <= 0 {
			return nil, errorf(400, "The parameter idSite must be a site id, a comma-separated list of ids, or 'all'.")
		}
		id := event.SiteID(n)
		if !c.principal.CanView(id) {
			return nil, noAccess()
		}
		if _, err := a.opts.Meta.Site(ctx, id); errors.Is(err, store.ErrNotFound) {
			return nil, errorf(400, "The website id = %d couldn't be found", n)
		} else if err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, nil
}

func (a *API) oneSite(ctx context.Context, c *call) (store.Site, error) {
	ids, err := a.siteIDs(ctx, c)
	if err != nil {
		return store.Site{}, err
	}
	if len(ids) != 1 {
		return store.Site{}, errorf(400, "This method takes a single idSite.")
	}
	return a.opts.Meta.Site(ctx, ids[0])
}
