package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"hearth/internal/auth"
	"hearth/internal/event"
	"hearth/internal/report"
	"hearth/internal/store"
)

// Reporter answers Reporting API requests as a signed-in user (api/matomo's ServeAs): every
// number the dashboard shows and every change it makes goes through it, so a page shows what
// the API answers for the same state and passes the same checks and audit records.
type Reporter interface {
	ServeAs(rw http.ResponseWriter, r *http.Request, p *auth.Principal)
}

// capture is the response of an in-process API call.
type capture struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (c *capture) Header() http.Header { return c.header }
func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	return c.body.Write(b)
}
func (c *capture) WriteHeader(status int) {
	if c.status == 0 {
		c.status = status
	}
}

// apiRequest is r turned into a Reporting API request with params: the client's address and
// headers stay (the API's audit records and client-IP rules see the same client), the method,
// path and body are the call's.
func apiRequest(r *http.Request, params url.Values, post bool) *http.Request {
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("module", "API")
	q.Del("token_auth")
	req := r.Clone(r.Context())
	req.URL = &url.URL{Path: "/index.php"}
	req.RequestURI, req.Form, req.PostForm, req.MultipartForm = "", nil, nil, nil
	req.Header = r.Header.Clone()
	req.Header.Del("Content-Type")
	if post {
		body := q.Encode()
		req.Method = http.MethodPost
		req.Body = io.NopCloser(strings.NewReader(body))
		req.ContentLength = int64(len(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Method = http.MethodGet
		req.URL.RawQuery = q.Encode()
		req.Body, req.ContentLength = http.NoBody, 0
	}
	return req
}

// apiFailure is an API answer other than success, as a page shows it.
func apiFailure(status int, body []byte) error {
	var e struct {
		Result  string `json:"result"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	switch {
	case status == http.StatusBadRequest && e.Message != "":
		return pageError(http.StatusBadRequest, e.Message)
	case status == http.StatusUnauthorized:
		return pageErrorT(http.StatusForbidden, "dash.err.forbidden")
	case status == http.StatusServiceUnavailable && e.Message != "":
		return pageError(http.StatusServiceUnavailable, e.Message)
	}
	return fmt.Errorf("api answered %d: %s", status, e.Message)
}

// call runs one Reporting API method as p and decodes its JSON answer (numbers as
// json.Number, so nothing is rounded on the way).
func (w *Web) call(r *http.Request, p *auth.Principal, params url.Values) (any, error) {
	return w.callMethod(r, p, params, false)
}

// change runs a method that changes something, as a POST, the way the API's own clients do.
func (w *Web) change(r *http.Request, p *auth.Principal, params url.Values) (any, error) {
	return w.callMethod(r, p, params, true)
}

// serveAs runs one Reporting API request as p in JSON and captures the answer: the one way
// the pages reach the API.
func (w *Web) serveAs(r *http.Request, p *auth.Principal, params url.Values, post bool) (*capture, error) {
	if w.reports == nil {
		return nil, errors.New("the pages have no Reporting API")
	}
	q := url.Values{}
	for k, v := range params {
		q[k] = v
	}
	q.Set("format", "json")
	rec := &capture{header: http.Header{}}
	w.reports.ServeAs(rec, apiRequest(r, q, post), p)
	return rec, nil
}

func (w *Web) callMethod(r *http.Request, p *auth.Principal, params url.Values, post bool) (any, error) {
	if params.Has(noFigures) {
		return nil, nil // a period with no figures (state.params): no answer
	}
	rec, err := w.serveAs(r, p, params, post)
	if err != nil {
		return nil, err
	}
	if rec.status != http.StatusOK {
		return nil, apiFailure(rec.status, rec.body.Bytes())
	}
	dec := json.NewDecoder(&rec.body)
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", params.Get("method"), err)
	}
	if m, ok := v.(map[string]any); ok && m["result"] == "error" {
		return nil, apiFailure(http.StatusBadRequest, rec.body.Bytes())
	}
	return v, nil
}

// CallsAtOnce bounds the API calls one page has running at the same time: a page's blocks
// are independent and run side by side, but one request (an overview compared with the
// previous period makes 49 calls) must not start dozens of queries at once. The page
// benchmark makes its baseline's calls the same way.
const CallsAtOnce = 4

// callAll runs calls side by side (CallsAtOnce at a time) and returns their answers in order,
// or the first error.
func (w *Web) callAll(r *http.Request, p *auth.Principal, calls []url.Values) ([]any, error) {
	out, errs := w.callEach(r, p, calls)
	return out, errors.Join(errs...)
}

// callEach runs calls as callAll does and returns each answer and each error, for a page that
// can do without some of them.
func (w *Web) callEach(r *http.Request, p *auth.Principal, calls []url.Values) ([]any, []error) {
	out := make([]any, len(calls))
	errs := make([]error, len(calls))
	slots := make(chan struct{}, CallsAtOnce)
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		slots <- struct{}{}
		go func() {
			defer func() { <-slots; wg.Done() }()
			out[i], errs[i] = w.call(r, p, c)
		}()
	}
	wg.Wait()
	return out, errs
}

// state is what a dashboard view shows, all of it in the query string so every view is a
// link: period, date, segment and comparison, read in the site's timezone.
type state struct {
	Period, Date, Segment string
	Compare               bool
	// First and Last are the calendar days shown; Kind the period type they make.
	First, Last time.Time
	Kind        report.Kind
	// multi: the date named several periods (day with last7): they are shown as one range.
	multi bool
	site  event.SiteID
	// none: the period before the first day the API knows (the previous period of its first
	// day): it has no figures, and its calls are made as none.
	none bool
}

// Default view: the last 30 days up to today.
const (
	defaultPeriod = "range"
	defaultDate   = "last30"
)

// readState reads a view's state for site, refusing a bad period, date or segment with the
// Reporting API's own message.
func readState(r *http.Request, site store.Site, now time.Time) (state, error) {
	q := r.URL.Query()
	s := state{Period: strings.TrimSpace(q.Get("period")), Date: strings.TrimSpace(q.Get("date")), Segment: q.Get("segment"),
		Compare: q.Get("compare") == "previous", site: site.ID}
	if s.Period == "" {
		s.Period = defaultPeriod
		if s.Date == "" {
			s.Date = defaultDate
		}
	}
	if s.Date == "" {
		s.Date = "today"
	}
	// The custom range form sends its two days apart.
	if from, to := q.Get("from"), q.Get("to"); from != "" || to != "" {
		s.Period, s.Date = "range", strings.TrimSpace(from)+","+strings.TrimSpace(to)
	}
	// The segment editor sends one condition to add to the segment.
	if dim := strings.TrimSpace(q.Get("seg_dim")); dim != "" {
		op := q.Get("seg_op")
		if !knownSegmentOp(op) {
			return s, pageErrorT(http.StatusBadRequest, "dash.err.segop")
		}
		cond := dim + op + url.QueryEscape(q.Get("seg_val"))
		switch {
		case s.Segment == "":
			s.Segment = cond
		case q.Get("seg_join") == "or":
			s.Segment += "," + cond
		default:
			s.Segment += ";" + cond
		}
	}
	if len(s.Segment) > 4096 {
		return s, pageErrorT(http.StatusBadRequest, "dash.err.seglong")
	}
	loc, err := time.LoadLocation(site.Timezone)
	if err != nil {
		loc = time.UTC
	}
	d, err := report.ParseDates(s.Period, s.Date, loc, now)
	if err != nil {
		return s, pageError(http.StatusBadRequest, err.Error())
	}
	if len(d.Periods) > 0 {
		s.First, s.Last, s.Kind = d.Periods[0].First, d.Periods[len(d.Periods)-1].Last, d.Periods[0].Kind
	}
	if d.Multi || len(d.Periods) > 1 {
		s.multi, s.Kind = true, report.Range
	}
	if s.Segment != "" {
		if _, err := report.ParseSegment(s.Segment); err != nil {
			return s, pageErrorT(http.StatusBadRequest, "dash.err.segment", err.Error())
		}
	}
	return s, nil
}

// noFigures marks the parameters of a call for a period before the API's first day: callEach
// answers it with no figures instead of asking the API (which refuses the date).
const noFigures = "hearth_no_figures"

// params are the API parameters of the state's one period (several are asked as one range).
func (s state) params(method string) url.Values {
	if s.none {
		return url.Values{noFigures: {"1"}, "method": {method}}
	}
	v := url.Values{"method": {method}, "idSite": {strconv.FormatInt(int64(s.site), 10)}}
	if s.multi {
		v.Set("period", "range")
		v.Set("date", s.First.Format(time.DateOnly)+","+s.Last.Format(time.DateOnly))
	} else {
		v.Set("period", s.Period)
		v.Set("date", s.Date)
	}
	if s.Segment != "" {
		v.Set("segment", s.Segment)
	}
	return v
}

// previous is the state of the period before this one, of the same kind and length.
func (s state) previous() state {
	p := s
	p.multi = false
	switch s.Kind {
	case report.Day:
		p.First = s.First.AddDate(0, 0, -1)
	case report.Week:
		p.First = s.First.AddDate(0, 0, -7)
	case report.Month:
		p.First = s.First.AddDate(0, -1, 0)
	case report.Year:
		p.First = s.First.AddDate(-1, 0, 0)
	default:
		days := int(s.Last.Sub(s.First).Hours()/24) + 1
		p.Last = s.First.AddDate(0, 0, -1)
		p.First = p.Last.AddDate(0, 0, -(days - 1))
		p.Period, p.Date = "range", p.First.Format(time.DateOnly)+","+p.Last.Format(time.DateOnly)
		p.none = p.First.Before(report.Earliest())
		return p
	}
	p.none = p.First.Before(report.Earliest())
	p.Period, p.Date = string(s.Kind), p.First.Format(time.DateOnly)
	p.Last = s.Last // not used for single periods beyond display
	switch s.Kind {
	case report.Day:
		p.Last = p.First
	case report.Week:
		p.Last = p.First.AddDate(0, 0, 6)
	case report.Month:
		p.Last = p.First.AddDate(0, 1, -1)
	case report.Year:
		p.Last = p.First.AddDate(1, 0, -1)
	}
	return p
}

// evolution are the API parameters of the chart over time: the days of a range (months past
// half a year), else the last periods of the state's kind up to its own.
func (s state) evolution(method string) url.Values {
	v := s.params(method)
	if v.Has(noFigures) {
		return v
	}
	kind, from := string(s.Kind), s.First
	switch s.Kind {
	case report.Day:
		from = s.Last.AddDate(0, 0, -29)
	case report.Week:
		from = s.First.AddDate(0, 0, -7*15)
	case report.Month:
		from = s.First.AddDate(0, -11, 0)
	case report.Year:
		from = s.First.AddDate(-4, 0, 0)
	default:
		kind = "day"
		if s.Last.Sub(s.First) > 183*24*time.Hour {
			kind = "month"
		}
	}
	if from.Before(report.Earliest()) {
		from = report.Earliest() // the chart starts at the API's first day
	}
	v.Set("period", kind)
	v.Set("date", from.Format(time.DateOnly)+","+s.Last.Format(time.DateOnly))
	return v
}

// query is the state as a query string, with overrides (a key set to "" is dropped).
func (s state) query(over ...string) url.Values {
	v := url.Values{}
	v.Set("period", s.Period)
	v.Set("date", s.Date)
	if s.Segment != "" {
		v.Set("segment", s.Segment)
	}
	if s.Compare {
		v.Set("compare", "previous")
	}
	for i := 0; i+1 < len(over); i += 2 {
		if over[i+1] == "" {
			v.Del(over[i])
		} else {
			v.Set(over[i], over[i+1])
		}
	}
	return v
}

// Link is path with the state's query string (and overrides as key, value pairs), for hrefs.
func (s state) Link(path string, over ...string) template.URL {
	// #nosec G203 -- built from url.Values.Encode: every value percent-encoded.
	return template.URL(path + "?" + s.query(over...).Encode())
}

// SiteLink is a page of the state's site with the state kept.
func (s state) SiteLink(sub string, over ...string) template.URL {
	return s.Link(fmt.Sprintf("/site/%d%s", s.site, sub), over...)
}

// SegmentText is the segment as a person reads it: its values decoded.
func (s state) SegmentText() string {
	if t, err := url.QueryUnescape(s.Segment); err == nil {
		return t
	}
	return s.Segment
}

// For is the overview of another site with the state kept (the sites list).
func (s state) For(id event.SiteID) template.URL { return s.Link(fmt.Sprintf("/site/%d", id)) }

// Is tells the date picker which preset is on.
func (s state) Is(period, date string) bool { return s.Period == period && s.Date == date }

// siteOf reads the {idSite} of a path: a site p can view, or 404 for any other id, existing or
// not, so the answer leaves no trace of a site p has no right to.
func (w *Web) siteOf(r *http.Request, p *auth.Principal) (store.Site, error) {
	missing := pageErrorT(http.StatusNotFound, "dash.err.nosite")
	n, err := strconv.ParseInt(r.PathValue("idSite"), 10, 32)
	if err != nil || n <= 0 || !p.CanView(event.SiteID(n)) {
		return store.Site{}, missing
	}
	site, err := w.meta.Site(r.Context(), event.SiteID(n))
	if errors.Is(err, store.ErrNotFound) {
		return store.Site{}, missing
	}
	if err != nil {
		return store.Site{}, fmt.Errorf("load site %d: %w", n, err)
	}
	return site, nil
}

// segmentOp is an operator of Matomo's segment syntax, as the editor offers it.
type segmentOp struct{ Op, Key string }

var segmentOps = []segmentOp{{"==", "seg.op.eq"}, {"!=", "seg.op.ne"}, {"=@", "seg.op.contains"}, {"!@", "seg.op.notcontains"},
	{"=^", "seg.op.starts"}, {"=$", "seg.op.ends"}, {">", "seg.op.gt"}, {">=", "seg.op.ge"}, {"<", "seg.op.lt"}, {"<=", "seg.op.le"}}

func knownSegmentOp(op string) bool {
	for _, o := range segmentOps {
		if o.Op == op {
			return true
		}
	}
	return false
}

// andSegment adds a condition (a report row's segment) to a segment with AND.
func andSegment(cur, add string) string {
	if cur == "" {
		return add
	}
	if add == "" {
		return cur
	}
	return cur + ";" + add
}

// siteChange is the start of a page's POST that changes a site's definitions (goals,
// funnels): the signed-in user, who must have write access to the site (else 403 with denied),
// the view's state to return to, and the parsed form. denied is the catalogue key of the
// refusal.
func (w *Web) siteChange(rw http.ResponseWriter, r *http.Request, denied string) (*auth.Principal, store.Site, state, error) {
	p, err := w.signedIn(r)
	if err != nil {
		return nil, store.Site{}, state{}, err
	}
	site, err := w.siteOf(r, p)
	if err != nil {
		return nil, store.Site{}, state{}, err
	}
	if !p.CanWrite(site.ID) {
		return nil, store.Site{}, state{}, pageErrorT(http.StatusForbidden, denied)
	}
	s, err := readState(r, site, w.now())
	if err != nil {
		return nil, store.Site{}, state{}, err
	}
	if err := readForm(rw, r); err != nil {
		return nil, store.Site{}, state{}, err
	}
	return p, site, s, nil
}
