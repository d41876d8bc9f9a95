package matomo

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"hearth/internal/auth"
	"hearth/internal/event"
	"hearth/internal/fuzzseed"
	"hearth/internal/store"
)

// addVisit stores a visit of site 1 with n page views, a second apart from start.
func addVisit(t *testing.T, r *apiRig, seq uint64, id event.VisitID, start time.Time, n int) {
	t.Helper()
	v := event.Visit{SiteID: 1, ID: id, VisitorID: event.VisitorID{byte(id), byte(id >> 8), 1}, First: start,
		Last: start.Add(time.Duration(n-1) * time.Second), VisitCount: 1, LocalTime: -1,
		Actions: int32(n), Pageviews: int32(n), Dimensions: map[int]string{2: "b", 1: "a"}} // #nosec G115 -- test sizes
	acts := make([]event.Action, n)
	for i := range acts {
		acts[i] = event.Action{SiteID: 1, VisitID: id, VisitorID: v.VisitorID, Time: start.Add(time.Duration(i) * time.Second),
			Index: int32(i + 1), Type: event.ActionPageview, URL: fmt.Sprintf("https://clinic.example/p%d?<&>", i+1), // #nosec G115 -- test sizes
			Title: "Page \u00e9\U0001F600", RefTimeSpent: 1, SearchCount: -1, PerfNetwork: -1, PerfServer: -1, PerfTransfer: -1,
			PerfDOMProc: -1, PerfDOMDone: -1, PerfOnLoad: -1}
	}
	if err := r.api.opts.Events.Apply(context.Background(), store.Batch{Seq: seq, Visits: []event.Visit{v}, Actions: acts}); err != nil {
		t.Fatal(err)
	}
}

// TestVisitorLogMaxActions: a visit with 1,200 actions lists its first 500 in the visitor log,
// or as many as the setting says, with Matomo's truncatedActionsCount; its own counters stay
// what they are.
func TestVisitorLogMaxActions(t *testing.T) {
	r := newAPIRig(t, false)
	r.json(t, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Clinic"}, "urls[0]": {"https://clinic.example"}})
	t0 := r.now.Add(-2 * time.Hour)
	addVisit(t, r, 1, 1, t0, 1200)
	addVisit(t, r, 2, 2, t0.Add(-time.Hour), 3)
	visits := func(extra url.Values) []map[string]any {
		t.Helper()
		p := url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"1"}}
		for k, v := range extra {
			p[k] = v
		}
		code, v := r.json(t, p)
		list, ok := v.([]any)
		if code != 200 || !ok || len(list) != 2 {
			t.Fatalf("visitor log: %d %.300v", code, v)
		}
		out := make([]map[string]any, len(list))
		for i, e := range list {
			out[i] = e.(map[string]any)
		}
		return out
	}
	for _, tc := range []struct {
		setting, want int
	}{{0, 500}, {7, 7}, {2000, 1200}} {
		r.api.opts.VisitorLogMaxActions = tc.setting
		got := visits(nil)
		long, short := got[0], got[1]
		acts, _ := long["actionDetails"].([]any)
		if len(acts) != tc.want || long["actions"] != 1200.0 {
			t.Fatalf("setting %d: %d actions listed (want %d), actions %v", tc.setting, len(acts), tc.want, long["actions"])
		}
		for i, a := range acts {
			if a.(map[string]any)["url"] != fmt.Sprintf("https://clinic.example/p%d?<&>", i+1) {
				t.Fatalf("setting %d: action %d is %v: the first actions must be listed in order", tc.setting, i, a)
			}
		}
		if want := 1200 - tc.want; want > 0 && long["truncatedActionsCount"] != float64(want) || want == 0 && long["truncatedActionsCount"] != nil {
			t.Fatalf("setting %d: truncatedActionsCount %v", tc.setting, long["truncatedActionsCount"])
		}
		if acts, _ := short["actionDetails"].([]any); len(acts) != 3 || short["truncatedActionsCount"] != nil {
			t.Fatalf("setting %d: short visit: %d actions, truncated %v", tc.setting, len(acts), short["truncatedActionsCount"])
		}
	}
	r.api.opts.VisitorLogMaxActions = 0
	got := visits(url.Values{"doNotFetchActions": {"1"}})
	if acts, _ := got[0]["actionDetails"].([]any); len(acts) != 0 || got[0]["truncatedActionsCount"] != nil || got[0]["actions"] != 1200.0 {
		t.Fatalf("without actions: %d listed, truncated %v", len(acts), got[0]["truncatedActionsCount"])
	}
}

// longVisitLog is a site with 26 visits of the last hours: one of 1,200 actions (listed with
// 500) and 25 of 400, 10,500 listed actions in all.
func longVisitLog(t *testing.T) *apiRig {
	r := newAPIRig(t, false)
	r.json(t, url.Values{"method": {"SitesManager.addSite"}, "siteName": {"Clinic"}, "urls[0]": {"https://clinic.example"}})
	t0 := r.now.Add(-3 * time.Hour)
	addVisit(t, r, 1, 1, t0, 1200)
	for i := range 25 {
		addVisit(t, r, uint64(i+2), event.VisitID(i+2), t0.Add(-time.Duration(i+1)*time.Minute), 400) // #nosec G115 -- test sizes
	}
	return r
}

// TestVisitLogStreams: a visitor log longer than one read is written as it is read, in the
// bytes the whole answer written at once gives, in every format, and no read holds more than
// the budget of actions.
func TestVisitLogStreams(t *testing.T) {
	r := longVisitLog(t)

	// The reads, seen from inside.
	ctx := context.Background()
	c := &call{params: url.Values{"idSite": {"1"}, "filter_limit": {"-1"}}, principal: r.root(t), format: "json"}
	res, err := r.api.lastVisits(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	l, ok := res.(*visitLog)
	if !ok {
		t.Fatalf("answer is %T, want a stream", res)
	}
	var reads []int
	read := l.read
	l.read = func(run []store.VisitDetail) error {
		err := read(run)
		n := 0
		for _, d := range run {
			n += len(d.Actions)
		}
		reads = append(reads, n)
		return err
	}
	rows, held := 0, 0
	if err := l.each(func(row *Row) error {
		rows++
		held = 0
		for _, d := range l.visits {
			held += len(d.Actions)
		}
		if held > visitLogBudget {
			return fmt.Errorf("%d actions held at row %d", held, rows)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if rows != 26 || len(reads) != 1 || reads[0] != 2*400 {
		// The first run (500 + 23 × 400 actions) was read ahead; the second holds the rest.
		t.Fatalf("%d rows, reads after the first: %v", rows, reads)
	}

	for _, format := range []string{"json", "xml", "csv", "tsv", "csv8", "tsv8"} {
		p := url.Values{"method": {"Live.getLastVisitsDetails"}, "idSite": {"1"}, "filter_limit": {"-1"}, "token_auth": {r.token}}
		switch format {
		case "csv8", "tsv8":
			p.Set("format", format[:3])
			p.Set("convertToUnicode", "0")
		default:
			p.Set("format", format)
		}
		code, streamed := r.call(t, false, p)
		if code != 200 {
			t.Fatalf("%s: %d %.300s", format, code, streamed)
		}
		res, err := r.api.lastVisits(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		whole := httptest.NewRecorder()
		write(whole, format, 200, collectRows(res.(rowStream)))
		if streamed != whole.Body.String() {
			t.Fatalf("%s: the streamed answer differs from the whole one (%d and %d bytes)", format, len(streamed), whole.Body.Len())
		}
		if !strings.Contains(streamed, "truncatedActionsCount") && !strings.Contains(streamed, "t\x00r\x00u\x00n\x00c\x00") {
			t.Fatalf("%s: no truncatedActionsCount", format)
		}
	}

	// Inside a bulk request the log is one answer among others.
	code, v := r.json(t, url.Values{"method": {"API.getBulkRequest"}, "urls[0]": {"method=Live.getLastVisitsDetails&idSite=1&filter_limit=3"},
		"urls[1]": {"method=API.getMatomoVersion"}})
	list, _ := v.([]any)
	if code != 200 || len(list) != 2 {
		t.Fatalf("bulk: %d %.300v", code, v)
	}
	if log, _ := list[0].([]any); len(log) != 3 || len(log[0].(map[string]any)["actionDetails"].([]any)) != 500 {
		t.Fatalf("bulk visitor log: %.300v", list[0])
	}
}

// root is the rig's superuser as the API sees it.
func (r *apiRig) root(t *testing.T) *auth.Principal {
	t.Helper()
	p, err := r.api.opts.Auth.Token(context.Background(), r.token, true, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// failingStream fails after its first row.
type failingStream struct{ logged error }

func (s *failingStream) columns() []string { return []string{"a"} }
func (s *failingStream) each(fn func(*Row) error) error {
	if err := fn(NewRow().Set("a", 1)); err != nil {
		return err
	}
	return errors.New("store went away")
}
func (s *failingStream) failed(err error) *apiError {
	s.logged = err
	return errorf(500, "An internal error occurred.")
}

// TestStreamFailureAborts: an error after the answer began cannot become an error answer; the
// response is aborted, so the client does not take a cut answer for a whole one.
func TestStreamFailureAborts(t *testing.T) {
	for _, format := range []string{"json", "xml", "csv", "tsv8"} {
		s := &failingStream{}
		func() {
			defer func() {
				if v := recover(); v != http.ErrAbortHandler {
					t.Errorf("%s: recovered %v, want http.ErrAbortHandler", format, v)
				}
			}()
			write(httptest.NewRecorder(), format, 200, s)
		}()
		if s.logged == nil || s.logged.Error() != "store went away" {
			t.Errorf("%s: failure reported as %v", format, s.logged)
		}
	}
	// Collected for a bulk answer, the failure is the answer.
	if got, ok := collectRows(&failingStream{}).(*apiError); !ok || got.status != 500 {
		t.Fatalf("collected: %v", got)
	}
}

// toUTF16LE is how the whole text was encoded before answers streamed: the streaming writer
// must give the same bytes.
func toUTF16LE(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 2+2*len(units))
	out[0], out[1] = 0xFF, 0xFE
	for i, u := range units {
		binary.LittleEndian.PutUint16(out[2+2*i:], u)
	}
	return out
}

// FuzzUTF16Writer: written in pieces of any size, text comes out as the whole text encoded at
// once, invalid and cut sequences included.
func FuzzUTF16Writer(f *testing.F) {
	for _, s := range fuzzseed.Read(f, "FuzzUTF16Writer", 2) {
		step, err := strconv.ParseUint(s[1], 10, 8)
		if err != nil {
			f.Fatalf("seed step %q: %v", s[1], err)
		}
		f.Add(s[0], uint8(step))
	}
	f.Fuzz(func(t *testing.T, s string, step uint8) {
		n := int(step%7) + 1
		var out strings.Builder
		u := &utf16Writer{w: &out}
		for i := 0; i < len(s); i += n {
			if _, err := u.Write([]byte(s[i:min(i+n, len(s))])); err != nil {
				t.Fatal(err)
			}
		}
		if err := u.close(); err != nil {
			t.Fatal(err)
		}
		if want := string(toUTF16LE(s)); out.String() != want {
			t.Fatalf("%q in pieces of %d: % x, want % x", s, n, out.String(), want)
		}
	})
}

// TestBulkBoundsTheVisitorLog: inside a bulk request, whose answer is built whole, the
// visitor-log answers together hold at most maxBulkRows visits and actions; one past it is
// refused (and asked for on its own), the others are answered.
func TestBulkBoundsTheVisitorLog(t *testing.T) {
	r := longVisitLog(t)
	// Each whole log holds 26 visits and 500 + 25×400 actions: 10,526 rows; four fit, a
	// fifth does not, a one-visit log (501 rows) still does.
	all := "method=Live.getLastVisitsDetails&idSite=1&period=day&date=today&filter_limit=-1"
	q := url.Values{"method": {"API.getBulkRequest"}}
	for i := range 5 {
		q.Set(fmt.Sprintf("urls[%d]", i), all)
	}
	q.Set("urls[5]", "method=Live.getLastVisitsDetails&idSite=1&period=day&date=today&filter_limit=1")
	code, v := r.json(t, q)
	answers, ok := v.([]any)
	if code != 200 || !ok || len(answers) != 6 {
		t.Fatalf("%d %v", code, v)
	}
	for i, a := range answers {
		list, isList := a.([]any)
		switch {
		case i < 4 && (!isList || len(list) != 26), i == 5 && (!isList || len(list) != 1):
			t.Errorf("answer %d: %.200v", i, a)
		case i == 4:
			m, _ := a.(map[string]any)
			if m["result"] != "error" || !strings.Contains(fmt.Sprint(m["message"]), "more than 50000 visits and actions") {
				t.Errorf("answer 4: %.200v", a)
			}
		}
	}
}
