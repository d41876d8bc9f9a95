package collect

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/fuzzseed"
)

var now = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestDecode(t *testing.T) {
	cases := []struct {
		name    string
		query   string
		wantErr string
		check   func(t *testing.T, h Hit)
	}{
		{"pageview", "idsite=3&rec=1&url=https%3A%2F%2Fex.org%2Fa&action_name=Home&_id=0123456789abcdef&res=1920x1080&h=9&m=5&s=7&pv_id=aB3dE6&cookie=1&pdf=1", "", func(t *testing.T, h Hit) {
			if h.SiteID != 3 || !h.Record || h.URL != "https://ex.org/a" || h.Title != "Home" || h.VisitorID != "0123456789abcdef" ||
				h.Resolution != "1920x1080" || h.LocalHour != 9 || h.LocalMinute != 5 || h.LocalSecond != 7 || h.PageViewID != "aB3dE6" || h.Plugins != "cookie,pdf" {
				t.Fatalf("%+v", h)
			}
		}},
		{"event", "idsite=1&rec=1&e_c=Video&e_a=Play&e_n=Intro&e_v=12.5", "", func(t *testing.T, h Hit) {
			if h.EventCategory != "Video" || h.EventAction != "Play" || h.EventName != "Intro" || !h.HasEventValue || h.EventValue != 12.5 {
				t.Fatalf("%+v", h)
			}
		}},
		{"site search", "idsite=1&rec=1&search=flu&search_cat=Health&search_count=0", "", func(t *testing.T, h Hit) {
			if !h.IsSearch || h.Search != "flu" || h.SearchCategory != "Health" || h.SearchCount != 0 {
				t.Fatalf("%+v", h)
			}
		}},
		{"order", `idsite=1&rec=1&idgoal=0&ec_id=A1&revenue=30.5&ec_st=25&ec_tx=5.5&ec_sh=0&ec_dt=0&ec_items=` + url.QueryEscape(`[["S1","Gloves",["Care","Hands"],12.25,2],["S2","Mask","Care",6]]`), "", func(t *testing.T, h Hit) {
			if h.GoalID != 0 || h.OrderID != "A1" || h.Revenue != 30.5 || h.Tax != 5.5 || len(h.Items) != 2 ||
				h.Items[0].Quantity != 2 || h.Items[0].Categories[1] != "Hands" || h.Items[1].Quantity != 1 || h.Items[1].Categories[0] != "Care" {
				t.Fatalf("%+v", h)
			}
		}},
		{"dimensions and perf", "idsite=1&rec=1&dimension1=gold&dimension12=x&pf_net=10&pf_onl=250", "", func(t *testing.T, h Hit) {
			if h.Dimensions[1] != "gold" || h.Dimensions[12] != "x" || h.Perf[0] != 10 || h.Perf[5] != 250 || h.Perf[1] != -1 {
				t.Fatalf("%+v", h)
			}
		}},
		{"cdt unix", "idsite=1&rec=1&cdt=1763899200", "", func(t *testing.T, h Hit) {
			if !h.CustomTime.Equal(time.Unix(1763899200, 0)) {
				t.Fatalf("%v", h.CustomTime)
			}
		}},
		{"cdt text", "idsite=1&rec=1&cdt=2026-11-22+10:00:00", "", func(t *testing.T, h Hit) {
			if !h.CustomTime.Equal(time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)) {
				t.Fatalf("%v", h.CustomTime)
			}
		}},
		{"cdo", "idsite=1&rec=1&cdo=60", "", func(t *testing.T, h Hit) {
			if !h.CustomTime.Equal(now.Add(-time.Minute)) {
				t.Fatalf("%v", h.CustomTime)
			}
		}},
		{"privileged", "idsite=1&rec=1&cip=1.2.3.4&country=DE&lat=52.5&long=13.4", "", func(t *testing.T, h Hit) {
			if got := strings.Join(h.Privileged(), ","); got != "cip,country,lat/long" || h.Country != "de" {
				t.Fatalf("privileged %q %+v", got, h)
			}
		}},
		{"missing idsite", "rec=1", "idsite is missing", nil},
		{"bad idsite", "idsite=abc&rec=1", "idsite is not a valid site id", nil},
		{"negative idsite", "idsite=-3&rec=1", "idsite is not a valid site id", nil},
		{"bad cid", "idsite=1&rec=1&cid=xyz", "cid must be 16", nil},
		{"bad hour", "idsite=1&rec=1&h=25", "parameter h is out of range", nil},
		{"absurd revenue", "idsite=1&rec=1&idgoal=1&revenue=1e308", "parameter revenue is out of range", nil},
		{"nan", "idsite=1&rec=1&e_c=a&e_a=b&e_v=NaN", "parameter e_v is not a number", nil},
		{"bad items json", "idsite=1&rec=1&idgoal=0&ec_items=%5B%5B", "ec_items is not valid JSON", nil},
		{"invalid utf8", "idsite=1&rec=1&action_name=%ff%fe", "not valid UTF-8", nil},
		{"future cdt", "idsite=1&rec=1&cdt=2030-01-01+00:00:00", "cdt is in the future", nil},
		{"event half", "idsite=1&rec=1&e_c=Video", "events need both e_c and e_a", nil},
		{"long title truncated", "idsite=1&rec=1&action_name=" + strings.Repeat("é", 800), "", func(t *testing.T, h Hit) {
			if len(h.Title) > maxTextLen || !strings.HasPrefix(h.Title, "éé") {
				t.Fatalf("title len %d", len(h.Title))
			}
		}},
		{"oversized param", "idsite=1&rec=1&url=" + strings.Repeat("a", maxParamLen+1), "too long", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.query)
			h, err := Decode(v, now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !IsBadRequest(err) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, h)
		})
	}
}

type recordingSink struct {
	mu   sync.Mutex
	hits []Hit
	reqs []*Request
	fail func(Hit) error
}

func (s *recordingSink) Track(_ context.Context, hits []Hit, req *Request) []Outcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Outcome, len(hits))
	for i, h := range hits {
		if s.fail != nil {
			if err := s.fail(h); err != nil {
				out[i].Err = err
				continue
			}
		}
		s.hits = append(s.hits, h)
		s.reqs = append(s.reqs, req)
	}
	return out
}

func newTestHandler(s Sink) *Handler {
	return NewHandler(Options{Sink: s, Now: func() time.Time { return now }, MaxBodyBytes: 1 << 16, MaxBulk: 100,
		ClientIP: func(*http.Request) netip.Addr { return netip.MustParseAddr("203.0.113.5") }})
}

func TestHandler(t *testing.T) {
	sink := &recordingSink{fail: func(h Hit) error {
		if h.SiteID == 99 {
			return &Error{Reason: "unknown site 99"}
		}
		return nil
	}}
	h := newTestHandler(sink)
	do := func(method, target, body string, hdr map[string]string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}

	rec := do("GET", "/matomo.php?idsite=1&rec=1&url=https://ex.org/", "", nil)
	if rec.Code != 200 || rec.Body.Len() != 43 || rec.Header().Get("Content-Type") != "image/gif" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("GET: %d %d %v", rec.Code, rec.Body.Len(), rec.Header())
	}
	rec = do("POST", "/matomo.php?idsite=1&rec=1&send_image=0&action_name=FromURL", "action_name=FromBody&uid=u1", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "https://ex.org"})
	// The origin is reflected; without Options.CredentialedOrigin no origin is allowed
	// credentials (TestCredentialedOrigins covers the origins of sites).
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "https://ex.org" || rec.Header().Values("Access-Control-Allow-Credentials") != nil {
		t.Fatalf("POST: %d %v", rec.Code, rec.Header())
	}
	last := sink.hits[len(sink.hits)-1]
	if last.Title != "FromURL" || last.UserID != "u1" {
		t.Fatalf("GET must win on duplicates and body params must be read: %+v", last)
	}
	rec = do("OPTIONS", "/matomo.php", "", nil)
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("OPTIONS: %d %v", rec.Code, rec.Header())
	}
	rec = do("GET", "/matomo.php", "", nil)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "tracking endpoint") {
		t.Fatalf("empty GET: %d %q", rec.Code, rec.Body.String())
	}
	rec = do("GET", "/matomo.php?idsite=99&rec=1&send_image=0", "", nil)
	if rec.Code != 400 || rec.Header().Get(ErrorHeader) != "unknown site 99" || !strings.Contains(rec.Body.String(), "unknown site 99") {
		t.Fatalf("unknown site: %d %v %q", rec.Code, rec.Header(), rec.Body.String())
	}
	rec = do("GET", "/matomo.php?idsite=x&rec=1", "", nil)
	if rec.Code != 400 || rec.Header().Get(ErrorHeader) == "" || rec.Header().Get("Content-Type") != "image/gif" {
		t.Fatalf("bad idsite with image: %d %v", rec.Code, rec.Header())
	}
	rec = do("GET", "/matomo.php?idsite=1&rec=1", "", map[string]string{"Referer": "https://ex.org/from-header", "DNT": "1"})
	last = sink.hits[len(sink.hits)-1]
	if rec.Code != 200 || last.URL != "https://ex.org/from-header" || !sink.reqs[len(sink.reqs)-1].DoNotTrack {
		t.Fatalf("referer as url / DNT: %+v", last)
	}

	// Bulk with query-string items, object items and a bad item.
	n := len(sink.hits)
	body := `{"requests":["?idsite=1&rec=1&action_name=A","?idsite=99&rec=1",{"idsite":1,"rec":1,"action_name":"B","ec_items":[["S",null,null,1,1]]},"?idsite=zz"],"token_auth":"abc"}`
	rec = do("POST", "/matomo.php", body, map[string]string{"Content-Type": "text/plain"})
	var rep bulkReply
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatal(err)
	}
	if rec.Code != 200 || rep.Status != "success" || rep.Tracked != 2 || rep.Invalid != 2 {
		t.Fatalf("bulk: %d %+v", rec.Code, rep)
	}
	got := sink.hits[n:]
	if len(got) != 2 || got[0].Title != "A" || got[1].Title != "B" || got[0].TokenAuth != "abc" || len(got[1].Items) != 1 {
		t.Fatalf("bulk hits: %+v", got)
	}
	rec = do("POST", "/matomo.php", `{"requests": [`, nil)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), `"status":"error"`) {
		t.Fatalf("bad bulk json: %d %s", rec.Code, rec.Body.String())
	}
	rec = do("POST", "/matomo.php", `{"requests":["?idsite=1&rec=1"],"send_image":0}`, nil)
	if rec.Code != 204 {
		t.Fatalf("bulk send_image=0: %d", rec.Code)
	}
	rec = do("POST", "/matomo.php", `{"requests":["`+strings.Repeat("x", 1<<16)+`"]}`, nil)
	if rec.Code != 400 || rec.Header().Get(ErrorHeader) != "request body too large" {
		t.Fatalf("huge body: %d %v", rec.Code, rec.Header())
	}
	// A form body (not bulk) has a limit of its own, far below the bulk limit.
	big := NewHandler(Options{Sink: sink, MaxBodyBytes: 8 << 20})
	for _, tc := range []struct {
		size int
		code int
	}{{maxFormBody - 100, 204}, {maxFormBody + 1, 400}} {
		body := "idsite=1&rec=1&send_image=0&x=" + strings.Repeat("a", tc.size-len("idsite=1&rec=1&send_image=0&x="))
		req := httptest.NewRequest("POST", "/matomo.php", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		big.ServeHTTP(rec, req)
		if rec.Code != tc.code || tc.code == 400 && !strings.Contains(rec.Header().Get(ErrorHeader), "at most 1 MiB") {
			t.Fatalf("form body of %d bytes: %d %v", tc.size, rec.Code, rec.Header())
		}
	}
	many := `{"requests":[` + strings.TrimSuffix(strings.Repeat(`"?idsite=1&rec=1",`, 101), ",") + `]}`
	rec = do("POST", "/matomo.php", many, nil)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "more than the limit") {
		t.Fatalf("too many bulk items: %d %s", rec.Code, rec.Body.String())
	}
}

func FuzzDecode(f *testing.F) {
	fuzzseed.Strings(f, "FuzzDecode", 1)
	f.Fuzz(func(t *testing.T, q string) {
		v, _ := url.ParseQuery(q)
		h, err := Decode(v, now)
		if err != nil {
			if !IsBadRequest(err) {
				t.Fatalf("non-client error %v", err)
			}
			return
		}
		if h.SiteID <= 0 || len(h.URL) > maxURLLen || len(h.Title) > maxTextLen || len(h.Items) > maxItems {
			t.Fatalf("accepted out-of-bounds hit: %+v", h)
		}
	})
}

func FuzzDecodeBulk(f *testing.F) {
	fuzzseed.Strings(f, "FuzzDecodeBulk", 1)
	f.Fuzz(func(t *testing.T, body string) {
		n := 0
		_, err := readBulk(strings.NewReader(body), 50, func(ps *params) {
			n++
			h, err := decode(ps, now)
			if err != nil {
				if !IsBadRequest(err) {
					t.Fatalf("non-client error %v", err)
				}
				return
			}
			if h.SiteID <= 0 || len(h.URL) > maxURLLen || len(h.Title) > maxTextLen {
				t.Fatalf("accepted out-of-bounds hit: %+v", h)
			}
		})
		if err != nil && !IsBadRequest(err) {
			t.Fatalf("non-client error %v", err)
		}
		if n > 50 {
			t.Fatalf("limit not enforced: %d", n)
		}
	})
}
