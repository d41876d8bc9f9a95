package matomo

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

// errorLog counts the ERROR records a handler receives.
type errorLog struct {
	mu   sync.Mutex
	msgs []string
}

func (l *errorLog) Enabled(context.Context, slog.Level) bool { return true }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError {
		l.mu.Lock()
		l.msgs = append(l.msgs, r.Message)
		l.mu.Unlock()
	}
	return nil
}
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler { return l }
func (l *errorLog) WithGroup(string) slog.Handler      { return l }

// TestInvalidUTF8IsTheClientsMistake: a segment value (or another text parameter) that is
// not UTF-8 once decoded is answered 400 with a segment error naming its position, on every
// method, and never reaches the store as a 500 with an ERROR log line.
func TestInvalidUTF8IsTheClientsMistake(t *testing.T) {
	r := newMatrixRig(t)
	logs := &errorLog{}
	r.api.opts.Logger = slog.New(logs)
	segments := []struct{ raw, want string }{
		{"pageUrl%3D%40%25FF", "condition 1 (at character 1"},
		{"productSku%3D%3D%25FF", "condition 1 (at character 1"},
		{"pageUrl%3D%40%25C3%2528", "condition 1 (at character 1"},
		{"browserCode%3D%3Dff%3BpageTitle%3D%3D%25E2%2582", "condition 2 (at character 17"},
		{"visitCount%3E%3D1%2CeventName%3D%5E%25ED%25A0%2580", "condition 2 (at character 15"},
	}
	methods := r.api.Methods()
	for _, seg := range segments {
		t.Run(seg.raw, func(t *testing.T) {
			for _, m := range methods {
				if m == "API.getBulkRequest" || m == "UsersManager.createAppSpecificTokenAuth" {
					continue
				}
				q := "module=API&format=json&method=" + m + "&idSite=1&idSites=1&period=day&date=last3&token_auth=" + r.tokens["root"] + "&segment=" + seg.raw
				req := httptest.NewRequest("GET", "/index.php?"+q, nil)
				rec := httptest.NewRecorder()
				r.api.ServeHTTP(rec, req)
				if rec.Code >= 500 {
					t.Errorf("%s: %d %s", m, rec.Code, rec.Body)
				}
				if rec.Code == 400 && strings.Contains(rec.Body.String(), "UTF-8") && !strings.Contains(rec.Body.String(), seg.want) {
					t.Errorf("%s: the error does not name the position (%s): %s", m, seg.want, rec.Body)
				}
			}
			// The report methods read the segment: each of them refuses it.
			for _, m := range []string{"VisitsSummary.get", "Actions.getPageUrls", "Live.getLastVisitsDetails", "Referrers.getWebsites", "Events.getCategory", "Goals.getItemsSku"} {
				q := url.Values{"module": {"API"}, "format": {"json"}, "method": {m}, "idSite": {"1"}, "period": {"day"}, "date": {"last3"}, "token_auth": {r.tokens["root"]}}
				req := httptest.NewRequest("GET", "/index.php?"+q.Encode()+"&segment="+seg.raw, nil)
				rec := httptest.NewRecorder()
				r.api.ServeHTTP(rec, req)
				if rec.Code != 400 || !strings.Contains(rec.Body.String(), "not valid UTF-8") || !strings.Contains(rec.Body.String(), seg.want) {
					t.Errorf("%s: %d %s", m, rec.Code, rec.Body)
				}
			}
		})
	}
	// Other text parameters with bytes that are not UTF-8.
	for _, p := range []string{"label=%FF", "filter_pattern=%FF", "filter_column=%FF&filter_pattern=a", "pageUrl=%FF", "pageName=%C3%28",
		"visitorId=%FF", "downloadUrl=%FF", "outlinkUrl=%FF", "idSubtable=%FF", "filter_sort_column=%FF", "showColumns=%FF", "hideColumns=%FF",
		"segmentName=%FF", "siteName=%FF", "userLogin=%FF", "flat=1&label=%FF", "expanded=1&filter_pattern_recursive=%FF"} {
		for _, m := range methods {
			if m == "API.getBulkRequest" || m == "UsersManager.createAppSpecificTokenAuth" || strings.HasPrefix(m, "UsersManager.") && strings.Contains(p, "userLogin") {
				continue
			}
			q := "module=API&format=json&method=" + m + "&idSite=1&idSites=1&period=day&date=last3&token_auth=" + r.tokens["root"] + "&" + p
			req := httptest.NewRequest("GET", "/index.php?"+q, nil)
			rec := httptest.NewRecorder()
			r.api.ServeHTTP(rec, req)
			if rec.Code >= 500 {
				t.Errorf("%s with %s: %d %s", m, p, rec.Code, rec.Body)
			}
		}
	}
	if len(logs.msgs) > 0 {
		t.Errorf("client mistakes logged as errors: %q", logs.msgs)
	}
}

// FuzzSegmentThroughStore sends segment definitions, invalid UTF-8 included, through the API
// to the real stores: every answer is a report or a client error, never a 5xx or an ERROR log.
func FuzzSegmentThroughStore(f *testing.F) {
	b, err := os.ReadFile("../../report/testdata/segments.txt")
	if err != nil {
		f.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if line = strings.TrimRight(line, "\n"); line != "" && !strings.HasPrefix(line, "#") {
			f.Add(line, uint8(0))
		}
	}
	r := newMatrixRig(f)
	logs := &errorLog{}
	r.api.opts.Logger = slog.New(logs)
	methods := []string{"VisitsSummary.get", "Actions.getPageUrls", "Live.getLastVisitsDetails", "Events.getName", "Goals.getItemsSku", "Referrers.getAll"}
	f.Fuzz(func(t *testing.T, segment string, pick uint8) {
		m := methods[int(pick)%len(methods)]
		q := url.Values{"module": {"API"}, "format": {"json"}, "method": {m}, "idSite": {"1"}, "period": {"day"}, "date": {"last3"},
			"token_auth": {r.tokens["root"]}, "segment": {segment}}
		req := httptest.NewRequest("GET", "/index.php?"+q.Encode(), nil)
		rec := httptest.NewRecorder()
		r.api.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s segment=%q: %d %s", m, segment, rec.Code, rec.Body)
		}
		logs.mu.Lock()
		defer logs.mu.Unlock()
		if len(logs.msgs) > 0 {
			t.Fatalf("%s segment=%q logged errors: %q", m, segment, logs.msgs)
		}
	})
}
