package matomo

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// TestServeAsUsesTheSessionPrincipal checks the dashboard's way in: the session's principal
// decides, exactly as that user's token would, and a token_auth in the request changes nothing.
func TestServeAsUsesTheSessionPrincipal(t *testing.T) {
	r := newMatrixRig(t)
	viewer, err := r.api.opts.Auth.Token(context.Background(), r.tokens["viewer"], true, netip.Addr{})
	if err != nil {
		t.Fatal(err)
	}
	as := func(params url.Values) (int, string) {
		params.Set("module", "API")
		params.Set("format", "json")
		rec := httptest.NewRecorder()
		r.api.ServeAs(rec, httptest.NewRequest("GET", "/index.php?"+params.Encode(), nil), viewer)
		return rec.Code, rec.Body.String()
	}
	site := func(id string) url.Values {
		return url.Values{"method": {"SitesManager.getSiteFromId"}, "idSite": {id}}
	}
	if code, body := as(site("1")); code != 200 || !strings.Contains(body, `"idsite":1`) {
		t.Fatalf("viewer's own site: %d %s", code, body)
	}
	if code, body := as(site("2")); code != 401 || leaksSite2(body) {
		t.Fatalf("site 2 as viewer: %d %s", code, body)
	}
	// The superuser's token in the request does not lift the session's rights.
	p := site("2")
	p.Set("token_auth", r.tokens["root"])
	if code, body := as(p); code != 401 || leaksSite2(body) {
		t.Fatalf("site 2 with root's token beside the session: %d %s", code, body)
	}
	rec := httptest.NewRecorder()
	r.api.ServeAs(rec, httptest.NewRequest("GET", "/index.php?module=API&format=json&method=SitesManager.getSiteFromId&idSite=1", nil), nil)
	if rec.Code != 401 {
		t.Fatalf("no principal: %d %s", rec.Code, rec.Body.String())
	}
}

// TestPersonalSegmentsNeedViewRaw: a segment on visitorId or userId turns any report into one
// person's history, so only view_raw may use it; other segments stay open to viewers.
func TestPersonalSegmentsNeedViewRaw(t *testing.T) {
	r := newMatrixRig(t)
	for _, c := range []struct {
		method, segment string
		viewerOK        bool
	}{
		{"VisitsSummary.get", "visitorId==0200000000000000", false},
		{"Actions.getPageTitles", "visitorType==new,visitorId==0200000000000000", false},
		{"Referrers.getCampaigns", "browserCode==FF;visitorId!=0200000000000000", false},
		{"Live.getCounters", "visitorId==0200000000000000", false},
		{"VisitsSummary.get", "browserCode==FF", true},
	} {
		p := url.Values{"method": {c.method}, "idSite": {"1"}, "period": {"day"}, "date": {"today"}, "lastMinutes": {"30"}, "segment": {c.segment}}
		code, body := r.call(t, "viewer", cloneValues(p))
		if ok := code == 200; ok != c.viewerOK {
			t.Errorf("%s %s as viewer: %d %s", c.method, c.segment, code, body)
		}
		if !c.viewerOK && !strings.Contains(body, "view_raw") {
			t.Errorf("%s %s: the refusal does not say why: %s", c.method, c.segment, body)
		}
		if code, body := r.call(t, "rawviewer", cloneValues(p)); code != 200 {
			t.Errorf("%s %s as rawviewer: %d %s", c.method, c.segment, code, body)
		}
	}
}

// TestSparedColumnsAreTheSameAnswer: Actions.get computes only the columns showColumns and
// hideColumns leave, and answers exactly what it answers in full with those columns cut.
func TestSparedColumnsAreTheSameAnswer(t *testing.T) {
	r := newMatrixRig(t)
	base := url.Values{"method": {"Actions.get"}, "idSite": {"2"}, "period": {"day"}, "date": {"2026-11-23"}}
	_, full := r.call(t, "root", cloneValues(base))
	var whole map[string]any
	if err := json.Unmarshal([]byte(full), &whole); err != nil || whole["nb_pageviews"] != float64(1) {
		t.Fatalf("Actions.get: %s", full)
	}
	for _, c := range []struct{ param, value string }{
		{"showColumns", "nb_pageviews"},
		{"showColumns", "nb_uniq_downloads,nb_keywords"},
		{"hideColumns", "nb_pageviews,nb_uniq_pageviews,nb_searches"},
	} {
		p := url.Values(cloneValues(base))
		p.Set(c.param, c.value)
		_, got := r.call(t, "root", p)
		var part map[string]any
		if err := json.Unmarshal([]byte(got), &part); err != nil || len(part) == 0 {
			t.Fatalf("%s=%s: %s", c.param, c.value, got)
		}
		for k, v := range part {
			if whole[k] != v {
				t.Errorf("%s=%s: %s = %v, in full %v", c.param, c.value, k, v, whole[k])
			}
		}
		for k := range whole {
			_, in := part[k]
			shown := c.param == "showColumns" && strings.Contains(","+c.value+",", ","+k+",") || c.param == "hideColumns" && !strings.Contains(","+c.value+",", ","+k+",")
			if in != shown {
				t.Errorf("%s=%s: column %s present %v, want %v", c.param, c.value, k, in, shown)
			}
		}
	}
}
