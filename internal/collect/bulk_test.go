package collect

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// postBulk sends body to h; chunked sends it without a length, as a streamed upload does.
func postBulk(h http.Handler, body string, chunked bool) *httptest.ResponseRecorder {
	var r io.Reader = strings.NewReader(body)
	if chunked {
		r = io.MultiReader(r) // hides the length from httptest.NewRequest
	}
	req := httptest.NewRequest("POST", "/matomo.php", r)
	if chunked {
		req.ContentLength = -1
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decodeReply(t *testing.T, rec *httptest.ResponseRecorder) bulkReply {
	t.Helper()
	var rep bulkReply
	if err := json.Unmarshal(rec.Body.Bytes(), &rep); err != nil {
		t.Fatalf("%d %q: %v", rec.Code, rec.Body.String(), err)
	}
	return rep
}

// TestBulkBudget: bulk bodies take their size from the budget while they are decoded and
// tracked; one that does not fit is answered 503 with Retry-After and the reason, and none of
// its hits reaches the sink.
func TestBulkBudget(t *testing.T) {
	sink := &recordingSink{}
	h := NewHandler(Options{Sink: sink, Now: func() time.Time { return now }, MaxBodyBytes: 1 << 16, MaxBulk: 100, MaxBulkInflight: 2})
	if h.bulk.limit != 2<<16 {
		t.Fatalf("budget %d, want two bodies of the limit", h.bulk.limit)
	}
	body := `{"requests":["?idsite=1&rec=1&action_name=A","?idsite=1&rec=1&action_name=B"]}`

	// All but 50 bytes of the budget are held: a body of more than 50 bytes is refused.
	held := h.bulk.limit - 50
	if !h.bulk.take(held) {
		t.Fatal("take")
	}
	rec := postBulk(h, body, false)
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "1" ||
		rec.Header().Get(ErrorHeader) != "server busy with other bulk requests, retry later" {
		t.Fatalf("over the budget: %d %v", rec.Code, rec.Header())
	}
	if rep := decodeReply(t, rec); rep.Status != "error" || rep.Tracked != 0 || rep.Message == "" {
		t.Fatalf("over the budget: %+v", rep)
	}
	if len(sink.hits) != 0 || h.BulkRefused() != 1 {
		t.Fatalf("a refused body tracked %d hits; %d refused", len(sink.hits), h.BulkRefused())
	}
	// A small body still fits in what is left.
	small := `{"requests":["?idsite=1&rec=1&action_name=S"]}`
	if rec := postBulk(h, small, false); rec.Code != 200 || decodeReply(t, rec).Tracked != 1 {
		t.Fatalf("small body beside the held budget: %d %s", rec.Code, rec.Body.String())
	}
	// A body of unknown length counts as one of the largest.
	h.bulk.give(held)
	if !h.bulk.take(h.bulk.limit - h.opts.MaxBodyBytes + 1) {
		t.Fatal("take")
	}
	if rec := postBulk(h, small, true); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("chunked body with less than the limit free: %d", rec.Code)
	}
	h.bulk.give(h.bulk.limit - h.opts.MaxBodyBytes + 1)

	// Given back, the same body is taken whole, and the budget is free again afterwards.
	rec = postBulk(h, body, false)
	if rec.Code != 200 || decodeReply(t, rec).Tracked != 2 || len(sink.hits) != 3 {
		t.Fatalf("after the budget is given back: %d %s, %d hits", rec.Code, rec.Body.String(), len(sink.hits))
	}
	if u := h.bulk.used.Load(); u != 0 {
		t.Fatalf("%d bytes still taken after the requests", u)
	}
	// Single hits never take from it.
	if !h.bulk.take(h.bulk.limit) {
		t.Fatal("take")
	}
	defer h.bulk.give(h.bulk.limit)
	req := httptest.NewRequest("POST", "/matomo.php", strings.NewReader("idsite=1&rec=1&action_name=Form"))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 || sink.hits[len(sink.hits)-1].Title != "Form" {
		t.Fatalf("form hit with the bulk budget spent: %d %v", rec.Code, rec.Header())
	}
}

// blockingSink holds every Track call until release is closed.
type blockingSink struct {
	entered chan struct{}
	release chan struct{}
}

func (s *blockingSink) Track(_ context.Context, hits []Hit, _ *Request) []Outcome {
	s.entered <- struct{}{}
	<-s.release
	return make([]Outcome, len(hits))
}

// TestBulkBudgetHeldWhileTracking: the budget is held until the sink has the hits durable, so
// with room for one body a second one arriving meanwhile is refused, and taken afterwards.
func TestBulkBudgetHeldWhileTracking(t *testing.T) {
	sink := &blockingSink{entered: make(chan struct{}), release: make(chan struct{})}
	h := NewHandler(Options{Sink: sink, Now: func() time.Time { return now }, MaxBodyBytes: 1 << 16, MaxBulk: 100, MaxBulkInflight: 1})
	body := `{"requests":["?idsite=1&rec=1"]}`
	done := make(chan *httptest.ResponseRecorder)
	go func() { done <- postBulk(h, body, true) }()
	<-sink.entered
	if rec := postBulk(h, body, true); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("second body while the first is tracked: %d %v", rec.Code, rec.Header())
	}
	close(sink.release)
	if rec := <-done; rec.Code != 200 {
		t.Fatalf("first body: %d %s", rec.Code, rec.Body.String())
	}
	go func() { <-sink.entered }()
	if rec := postBulk(h, body, true); rec.Code != 200 {
		t.Fatalf("second body sent again: %d %s", rec.Code, rec.Body.String())
	}
}

// TestBulkStream covers what decoding as the body is read must keep: the body's token_auth
// wherever it stands, an item's own token first, bodies that are not bulk JSON, and limits.
func TestBulkStream(t *testing.T) {
	sink := &recordingSink{}
	// Room for a token_auth past the parameter limit.
	h := NewHandler(Options{Sink: sink, Now: func() time.Time { return now }, MaxBodyBytes: 1 << 17, MaxBulk: 100})
	cases := []struct {
		name    string
		body    string
		chunked bool
		code    int
		tracked int
		invalid int
		reason  string
		tokens  []string
	}{
		{name: "token after the requests", body: `{"requests":["?idsite=1&rec=1","?idsite=1&rec=1&token_auth=own"],"token_auth":"late"}`,
			code: 200, tracked: 2, tokens: []string{"late", "own"}},
		{name: "token before the requests", body: ` {"token_auth":"early","requests":[{"idsite":"1","rec":1}]}`,
			code: 200, tracked: 1, tokens: []string{"early"}},
		{name: "bad token spoils the requests without one", body: `{"requests":["?idsite=1&rec=1","?idsite=1&rec=1&token_auth=own"],"token_auth":"` + strings.Repeat("x", maxParamLen+1) + `"}`,
			code: 200, tracked: 1, invalid: 1, tokens: []string{"own"}},
		{name: "unknown members skipped", body: "\n\t{\"x\":{\"deep\":[1,[2,{\"y\":\"requests\"}]]},\"requests\":[7,[1],\"?idsite=1&rec=1\"],\"z\":null}",
			code: 200, tracked: 1, invalid: 2, tokens: []string{""}},
		{name: "send_image 0", body: `{"requests":["?idsite=1&rec=1"],"send_image":"0"}`, code: 204},
		{name: "two requests arrays", body: `{"requests":["?idsite=1&rec=1"],"requests":["?idsite=1&rec=1"]}`, code: 400, reason: "more than one requests array"},
		{name: "null requests", body: `{"requests":null}`, code: 400, reason: "no requests array"},
		{name: "requests not an array", body: `{"requests":"?idsite=1"}`, code: 400, reason: "not valid JSON"},
		{name: "cut short", body: `{"requests":["?idsite=1&rec=1",`, code: 400, reason: "not valid JSON"},
		{name: "form body naming requests", body: `idsite=1&rec=1&x="requests"`, code: 400, reason: "not valid JSON"},
		{name: "too large while read", body: `{"requests":["` + strings.Repeat("x", 1<<17) + `"]}`, chunked: true, code: 400, reason: "request body too large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := len(sink.hits)
			rec := postBulk(h, tc.body, tc.chunked)
			if rec.Code != tc.code {
				t.Fatalf("%d %s", rec.Code, rec.Body.String())
			}
			if tc.reason != "" && !strings.Contains(rec.Header().Get(ErrorHeader), tc.reason) {
				t.Fatalf("reason %q, want %q", rec.Header().Get(ErrorHeader), tc.reason)
			}
			if tc.code == 200 {
				if rep := decodeReply(t, rec); rep.Tracked != tc.tracked || rep.Invalid != tc.invalid {
					t.Fatalf("%+v, want %d tracked and %d invalid", rep, tc.tracked, tc.invalid)
				}
			}
			if tc.tokens != nil {
				var got []string
				for _, hit := range sink.hits[n:] {
					got = append(got, hit.TokenAuth)
				}
				if strings.Join(got, ",") != strings.Join(tc.tokens, ",") {
					t.Fatalf("tokens %q, want %q", got, tc.tokens)
				}
			}
			if tc.code != 200 && tc.code != 204 && len(sink.hits) != n {
				t.Fatalf("a refused body tracked %d hits", len(sink.hits)-n)
			}
		})
	}
}
