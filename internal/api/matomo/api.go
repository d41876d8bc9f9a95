// Package matomo serves the Matomo Reporting API (/index.php?module=API) on top of the
// stores and the auth service: request parsing, authentication, method dispatch and
// Matomo's output formats and error shapes.
package matomo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	"hearth/internal/privacy"
	"hearth/internal/report"
	"hearth/internal/store"
	"hearth/internal/tracker"
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

// maxPasswordChecks bounds the password checks one HTTP request may cause.
const maxPasswordChecks = 1

// checkPassword checks a login's password, at most maxPasswordChecks times per request.
func (a *API) checkPassword(ctx context.Context, c *call, login, password string) (*auth.Principal, error) {
	if c.passwordChecks == nil {
		c.passwordChecks = new(int)
	}
	if *c.passwordChecks >= maxPasswordChecks {
		return nil, errorf(400, "A request may check a password only once: send each call that takes a password in a request of its own.")
	}
	*c.passwordChecks++
	return a.opts.Auth.Password(ctx, login, password, c.ip)
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
	}
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

func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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
	if token != "" && token != "anonymous" {
		p, err := a.opts.Auth.Token(r.Context(), token, fromBody, c.ip)
		if err != nil {
			if !errors.Is(err, auth.ErrBadCredentials) {
				a.opts.Logger.Error("token check failed", "err", err)
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
			a.opts.Logger.Warn("api method stopped", "method", name, "err", err)
			return errorf(503, "The request took longer than %s and was stopped: ask for a shorter period, fewer sites or a simpler segment.", a.opts.QueryTimeout), http.StatusServiceUnavailable
		}
		a.opts.Logger.Error("api method failed", "method", name, "err", err)
		return errorf(500, "An internal error occurred."), http.StatusInternalServerError
	}
	return result, http.StatusOK
}

// maxBulk bounds the requests of one API.getBulkRequest.
const maxBulk = 100

// bulk is the answer of API.getBulkRequest: one answer per request, in order.
type bulk []any

// MarshalJSON writes the answers as an array, errors in Matomo's error shape.
func (b bulk) MarshalJSON() ([]byte, error) {
	out := make([]any, len(b))
	for i, v := range b {
		out[i] = jsonShape(v)
	}
	return json.Marshal(out)
}

// bulkRequest serves API.getBulkRequest: urls[0], urls[1], … each hold a URL-encoded query
// string of one call, run as the caller with the caller's rights and checks. A request for
// another bulk request is refused.
func (a *API) bulkRequest(ctx context.Context, c *call) (any, error) {
	var reqs []string
	for i := 0; ; i++ {
		v, ok := c.params[fmt.Sprintf("urls[%d]", i)]
		if !ok {
			break
		}
		if i == maxBulk {
			return nil, errorf(400, "API.getBulkRequest takes at most %d requests.", maxBulk)
		}
		reqs = append(reqs, v[0])
	}
	if len(reqs) == 0 {
		return nil, errorf(400, "Please specify a value for 'urls'.")
	}
	out := make(bulk, len(reqs))
	for i, raw := range reqs {
		q, err := url.ParseQuery(strings.TrimPrefix(raw, "?"))
		if err != nil {
			out[i] = errorf(400, "Request %d of the bulk request is not a valid query string.", i)
			continue
		}
		q.Del("token_auth")
		name := q.Get("method")
		if name == "API.getBulkRequest" {
			out[i] = errorf(400, "A bulk request cannot contain another bulk request.")
			continue
		}
		if a.methods[name].password {
			// Each password check costs an argon2 hash and counts towards a lockout: one
			// request must not run a hundred of them.
			out[i] = errorf(400, "%s takes a password and cannot be called inside a bulk request: send it in a request of its own.", name)
			continue
		}
		sub := &call{params: q, principal: c.principal, format: "json", post: c.post, ip: c.ip, passwordChecks: c.passwordChecks}
		out[i], _ = a.dispatch(ctx, sub, name)
	}
	return out, nil
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

func siteRow(s store.Site) *Row {
	main := ""
	if len(s.URLs) > 0 {
		main = s.URLs[0]
	}
	return NewRow().
		Set("idsite", int64(s.ID)).Set("name", s.Name).Set("main_url", main).
		Set("ts_created", s.Created.UTC().Format("2006-01-02 15:04:05")).
		Set("ecommerce", boolInt(s.Ecommerce)).Set("sitesearch", boolInt(s.SiteSearch)).
		Set("sitesearch_keyword_parameters", strings.Join(s.SearchKeywordParams, ",")).
		Set("sitesearch_category_parameters", strings.Join(s.SearchCategoryParams, ",")).
		Set("timezone", s.Timezone).Set("currency", s.Currency).
		Set("exclude_unknown_urls", boolInt(s.ExcludeUnknownURLs)).
		Set("excluded_ips", strings.Join(s.ExcludedIPs, ",")).
		Set("excluded_parameters", strings.Join(s.ExcludedQueryParams, ",")).
		Set("excluded_user_agents", strings.Join(s.ExcludedUserAgents, ",")).
		Set("excluded_referrers", strings.Join(s.ExcludedReferrers, ",")).
		Set("group", s.Group).Set("type", s.Type).
		Set("keep_url_fragment", boolInt(s.KeepURLFragment)).
		Set("keep_email_addresses", boolInt(s.KeepEmails)).
		Set("creator_login", s.CreatorLogin)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// list reads an array parameter given as name[]=a&name[]=b, name[0]=a, or "a,b".
func list(p url.Values, name string) ([]string, bool) {
	var out []string
	found := false
	if v, ok := p[name+"[]"]; ok {
		out, found = append(out, v...), true
	}
	var idx []string
	for k := range p {
		if strings.HasPrefix(k, name+"[") && strings.HasSuffix(k, "]") && k != name+"[]" {
			idx = append(idx, k)
		}
	}
	sort.Slice(idx, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(idx[i], name+"["), "]"))
		b, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(idx[j], name+"["), "]"))
		return a < b
	})
	for _, k := range idx {
		out, found = append(out, p.Get(k)), true
	}
	if v, ok := p[name]; ok {
		found = true
		for _, s := range v {
			out = append(out, strings.Split(s, ",")...)
		}
	}
	var clean []string
	for _, s := range out {
		if s = strings.TrimSpace(s); s != "" {
			clean = append(clean, s)
		}
	}
	return clean, found
}

// applySiteParams copies the Matomo parameters present in p onto s and validates them.
func applySiteParams(s *store.Site, p url.Values) error {
	if _, ok := p["siteName"]; ok {
		s.Name = strings.TrimSpace(p.Get("siteName"))
	}
	if urls, ok := list(p, "urls"); ok {
		for _, u := range urls {
			pu, err := url.Parse(u)
			if err != nil || (pu.Scheme != "http" && pu.Scheme != "https" && pu.Scheme != "") {
				return errorf(400, "The URL %q is not valid.", truncate(u, 200))
			}
			if pu.Scheme == "" {
				u = "http://" + u
			}
			_ = u
		}
		s.URLs = urls
	}
	setList := func(name string, dst *[]string) {
		if v, ok := list(p, name); ok {
			*dst = v
		}
	}
	setList("excludedIps", &s.ExcludedIPs)
	setList("excludedQueryParameters", &s.ExcludedQueryParams)
	setList("excludedUserAgents", &s.ExcludedUserAgents)
	setList("excludedReferrers", &s.ExcludedReferrers)
	setList("searchKeywordParameters", &s.SearchKeywordParams)
	setList("searchCategoryParameters", &s.SearchCategoryParams)
	setBool := func(name string, dst *bool) {
		if _, ok := p[name]; ok {
			v := strings.ToLower(p.Get(name))
			*dst = v == "1" || v == "true"
		}
	}
	setBool("ecommerce", &s.Ecommerce)
	setBool("siteSearch", &s.SiteSearch)
	setBool("keepURLFragments", &s.KeepURLFragment)
	setBool("excludeUnknownUrls", &s.ExcludeUnknownURLs)
	setBool("keepEmailAddresses", &s.KeepEmails)
	if _, ok := p["timezone"]; ok {
		s.Timezone = strings.TrimSpace(p.Get("timezone"))
	}
	if _, ok := p["currency"]; ok {
		s.Currency = strings.ToUpper(strings.TrimSpace(p.Get("currency")))
	}
	if _, ok := p["group"]; ok {
		s.Group = p.Get("group")
	}
	if _, ok := p["type"]; ok {
		s.Type = p.Get("type")
	}
	if _, ok := p["startDate"]; ok {
		s.StartDate = p.Get("startDate")
	}
	if _, ok := p["geoPrecision"]; ok {
		s.GeoPrecision = p.Get("geoPrecision")
	}

	if s.Name == "" {
		return errorf(400, "Please specify a value for 'siteName'.")
	}
	if len(s.Name) > 90 {
		return errorf(400, "The site name must be at most 90 characters.")
	}
	if s.Timezone == "" {
		s.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(s.Timezone); err != nil {
		return errorf(400, "The timezone %q is not valid.", truncate(s.Timezone, 64))
	}
	if s.Currency == "" {
		s.Currency = "USD"
	}
	if len(s.Currency) != 3 {
		return errorf(400, "The currency must be a three-letter ISO 4217 code.")
	}
	if _, err := privacy.NewIPMatcher(s.ExcludedIPs); err != nil {
		return errorf(400, "%s", err.Error())
	}
	if s.StartDate != "" {
		if _, err := time.Parse("2006-01-02", s.StartDate); err != nil {
			return errorf(400, "startDate must be YYYY-MM-DD.")
		}
	}
	switch s.GeoPrecision {
	case "":
		s.GeoPrecision = "city"
	case "city", "region", "country", "none":
	default:
		return errorf(400, "geoPrecision must be city, region, country or none.")
	}
	if s.Type == "" {
		s.Type = "website"
	}
	return nil
}

func (a *API) addSite(ctx context.Context, c *call) (any, error) {
	if !c.principal.IsSuperuser() {
		return nil, errorf(401, "You can't access this resource as it requires 'superuser' access.")
	}
	s := store.Site{SiteSearch: true, Created: a.opts.Now().UTC(), CreatorLogin: c.principal.User.Login}
	if err := applySiteParams(&s, c.params); err != nil {
		return nil, err
	}
	id, err := a.opts.Meta.CreateSite(ctx, s)
	if err != nil {
		return nil, err
	}
	a.record(ctx, c, audit.ActionSiteCreate, fmt.Sprintf("site:%d", id), audit.Success, map[string]string{"name": s.Name})
	if s.KeepEmails {
		a.recordKeepEmails(ctx, c, id, true)
	}
	return value{int64(id)}, nil
}

func (a *API) updateSite(ctx context.Context, c *call) (any, error) {
	s, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	if !c.principal.CanAdmin(s.ID) {
		return nil, errorf(401, "You can't access this resource as it requires 'admin' access for the website id = %d.", s.ID)
	}
	keptEmails := s.KeepEmails
	if err := applySiteParams(&s, c.params); err != nil {
		return nil, err
	}
	if err := a.opts.Meta.UpdateSite(ctx, s); err != nil {
		return nil, err
	}
	if s.KeepEmails != keptEmails {
		a.recordKeepEmails(ctx, c, s.ID, s.KeepEmails)
	}
	changed := map[string]string{}
	for k := range c.params {
		switch k {
		case "module", "method", "format", "idSite", "idsite":
		default:
			changed[k] = "changed"
		}
	}
	a.record(ctx, c, audit.ActionSiteUpdate, fmt.Sprintf("site:%d", s.ID), audit.Success, changed)
	if a.opts.Sites != nil {
		a.opts.Sites.InvalidateSite(s.ID)
	}
	return success{}, nil
}

// recordKeepEmails audits a change of a site's e-mail redaction: keeping addresses loosens a
// privacy default, so it is recorded on its own, beside the site update.
func (a *API) recordKeepEmails(ctx context.Context, c *call, site event.SiteID, keep bool) {
	state := "redacted"
	if keep {
		state = "kept"
	}
	a.record(ctx, c, audit.ActionSettingChange, fmt.Sprintf("site:%d", site), audit.Success,
		map[string]string{"setting": "email_addresses", "value": state})
}

func (a *API) getSiteFromID(ctx context.Context, c *call) (any, error) {
	s, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	return siteRow(s), nil
}

func (a *API) sitesWithView(ctx context.Context, c *call) (any, error) {
	sites, err := a.opts.Meta.Sites(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Row{}
	for _, s := range sites {
		if c.principal.CanView(s.ID) {
			out = append(out, siteRow(s))
		}
	}
	return out, nil
}

func (a *API) allSites(ctx context.Context, c *call) (any, error) {
	if !c.principal.IsSuperuser() {
		return nil, errorf(401, "You can't access this resource as it requires 'superuser' access.")
	}
	return a.sitesWithView(ctx, c)
}

func hostOf(raw string) string {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
}

func (a *API) sitesFromURL(ctx context.Context, c *call) (any, error) {
	want := hostOf(c.params.Get("url"))
	if want == "" {
		return nil, errorf(400, "Please specify a valid 'url'.")
	}
	sites, err := a.opts.Meta.Sites(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Row{}
	for _, s := range sites {
		if !c.principal.CanView(s.ID) {
			continue
		}
		for _, u := range s.URLs {
			if hostOf(u) == want {
				out = append(out, NewRow().Set("idsite", int64(s.ID)))
				break
			}
		}
	}
	return out, nil
}

func (a *API) createToken(ctx context.Context, c *call) (any, error) {
	login := c.params.Get("userLogin")
	pass := c.params.Get("passwordConfirmation")
	desc := strings.TrimSpace(c.params.Get("description"))
	if login == "" || pass == "" {
		return nil, errorf(400, "userLogin and passwordConfirmation are required.")
	}
	if desc == "" {
		return nil, errorf(400, "Please specify a value for 'description'.")
	}
	if len(desc) > 100 {
		return nil, errorf(400, "The description must be at most 100 characters.")
	}
	p, err := a.checkPassword(ctx, c, login, pass)
	if err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			return nil, errorf(401, "The login or password is not correct.")
		}
		return nil, err
	}
	// With two-factor authentication on, a password alone does not make a token.
	if need, err := a.opts.Auth.Needs2FASetup(ctx, p.User.Login); err != nil {
		return nil, err
	} else if need {
		return nil, errorf(403, "Two-factor authentication is required on this Hearth: set it up at /account/2fa before creating tokens.")
	}
	if on, err := a.opts.Auth.Has2FA(ctx, p.User.Login); err != nil {
		return nil, err
	} else if on {
		code := c.params.Get("authCode")
		if code == "" {
			return nil, errorf(401, "Two-factor authentication is on for this user: add the 'authCode' parameter with a code from the authenticator app.")
		}
		if err := a.opts.Auth.VerifySecondFactor(ctx, p.User.Login, code, c.ip); err != nil {
			if errors.Is(err, auth.ErrBadCode) {
				return nil, errorf(401, "The authentication code is wrong or was already used.")
			}
			return nil, err
		}
	}
	var expires time.Time
	if d := c.params.Get("expireDate"); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			t, err = time.Parse("2006-01-02 15:04:05", d)
		}
		if err != nil {
			return nil, errorf(400, "expireDate must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS.")
		}
		expires = t.UTC()
	} else if h := c.params.Get("expireHours"); h != "" {
		n, err := strconv.ParseFloat(h, 64)
		if err != nil || n <= 0 || n > 24*365*10 {
			return nil, errorf(400, "expireHours must be a positive number of hours.")
		}
		expires = a.opts.Now().Add(time.Duration(n * float64(time.Hour))).UTC()
	}
	if !expires.IsZero() && !expires.After(a.opts.Now()) {
		return nil, errorf(400, "The expiry date must be in the future.")
	}
	var flags []auth.TokenFlag
	if isTrue(c.params.Get("readOnly")) {
		flags = append(flags, auth.ReadOnly)
	}
	if isTrue(c.params.Get("postOnly")) || isTrue(c.params.Get("secureOnly")) {
		flags = append(flags, auth.PostOnly)
	}
	tok, id, err := a.opts.Auth.NewToken(ctx, p.User.Login, desc, expires, flags...)
	if err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	c.principal = p
	details := map[string]string{"description": desc}
	if !expires.IsZero() {
		details["expires"] = expires.Format(time.RFC3339)
	}
	for _, f := range flags {
		details[map[auth.TokenFlag]string{auth.ReadOnly: "read_only", auth.PostOnly: "post_only"}[f]] = "true"
	}
	a.record(ctx, c, audit.ActionTokenCreate, fmt.Sprintf("token:%d", id), audit.Success, details)
	return value{tok}, nil
}

// javascriptTag serves SitesManager.getJavascriptTag: the tracking code of a site, in
// Matomo's standard form or (form=hearth) Hearth's short one, for the Hearth address given as
// piwikUrl or configured as public-url.
func (a *API) javascriptTag(ctx context.Context, c *call) (any, error) {
	site, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	base := strings.TrimSpace(c.params.Get("piwikUrl"))
	if base == "" {
		base = strings.TrimSpace(c.params.Get("matomoUrl"))
	}
	if base == "" {
		base = a.opts.PublicURL
	}
	if base == "" {
		return nil, errorf(400, "Please specify piwikUrl, the address your pages reach Hearth at, or configure public-url.")
	}
	if !strings.Contains(base, "://") {
		base = "https://" + strings.TrimPrefix(base, "//")
	}
	form := c.params.Get("form")
	if form == "" {
		form = tracker.FormMatomo
	}
	code, err := tracker.Snippet(form, base, int64(site.ID), tracker.SnippetOptions{
		DoNotTrack: isTrue(c.params.Get("doNotTrack")), DisableCookies: isTrue(c.params.Get("disableCookies")),
		NoScript: isTrue(c.params.Get("trackNoScript"))})
	if err != nil {
		return nil, errorf(400, "%s", err.Error())
	}
	return value{code}, nil
}
