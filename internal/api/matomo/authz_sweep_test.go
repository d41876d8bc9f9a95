package matomo

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// idSiteForms are the spellings of idSite (idSites for the methods that take a list) the
// sweep tries: the plain ids, every site, lists in both orders, a leading zero, a leading
// space, a negative id and an empty list item.
var idSiteForms = []string{"1", "2", "all", "1,2", "02", "2,1", " 2", "-1", "1,,2"}

// namesSite2 is true of the forms that name site 2 or are not a valid list: a caller without
// access to site 2 must be refused with them, whatever the method.
func namesSite2(form string) bool { return form != "1" && form != "all" }

const sweepGolden = "testdata/authorization_sweep.txt"

// TestAuthorizationSweep calls every API method as every principal with every form of idSite,
// each call alone and then all forms of a method again inside one API.getBulkRequest. Objects
// a call names (goals, dimensions, segments) live on site 2, which only the superuser may see.
//
// It asserts, in code, what must always hold: no answer to anyone but the superuser carries
// site 2's data; anonymous callers get 401; a caller without access to site 2 is refused with
// 400 or 401 for a form naming site 2, and for an object of site 2 whatever the form; a read
// inside a bulk request answers exactly what it answers alone, and a write refused alone is
// refused inside a bulk. The exact status of every call is compared with
// testdata/authorization_sweep.txt (rewrite it with -update and review the difference).
func TestAuthorizationSweep(t *testing.T) {
	r := newMatrixRig(t)
	matrix := r.matrix(t)
	// Reads run side by side, then one by one the reads and writes that add objects or
	// change what the others list.
	var reads, others []string
	for _, m := range r.api.Methods() {
		switch {
		case m == "UsersManager.createAppSpecificTokenAuth" || m == "API.getBulkRequest":
			// authenticates by password / is the wrapper itself
		case matrix[m].params == nil:
			t.Errorf("%s is missing from the authorization matrix", m)
		case r.api.methods[m].write || hasObject(matrix[m].params(2)):
			others = append(others, m)
		default:
			reads = append(reads, m)
		}
	}
	var mu sync.Mutex
	lines := map[string][]string{}
	rootSees := map[string]bool{}
	sweep := func(t *testing.T, m string) {
		rows, saw := r.sweep(t, m, matrix[m])
		mu.Lock()
		defer mu.Unlock()
		lines[m], rootSees[m] = rows, saw
	}
	// The reads run first, so the sites and users the writes add do not multiply their work.
	t.Run("reads", func(t *testing.T) {
		for _, m := range reads {
			t.Run(m, func(t *testing.T) {
				t.Parallel()
				sweep(t, m)
			})
		}
	})
	for _, m := range others {
		t.Run(m, func(t *testing.T) { sweep(t, m) })
	}
	// The marker check must be able to fail: the superuser sees site 2's data.
	for _, m := range []string{"SitesManager.getSiteFromId", "SitesManager.getAllSites", "Live.getLastVisitsDetails", "Actions.getPageUrls",
		"Actions.getPageTitles", "Referrers.getWebsites", "Goals.getGoal", "SegmentEditor.get", "Funnels.getFunnel", "Funnels.getFunnelFlow"} {
		if !rootSees[m] {
			t.Errorf("%s with idSite=2 does not show the superuser site 2's data: the leak check sees nothing", m)
		}
	}
	var out strings.Builder
	out.WriteString("# Status of every API method called as each principal with each form of idSite (idSites for\n" +
		"# the methods taking a list); named objects live on site 2, which only root may see; \"*\" is\n" +
		"# every form. Written by: go test ./internal/api/matomo/ -run TestAuthorizationSweep -update\n" +
		fmt.Sprintf("# %-50s %-7s %s\n", "method", "idSite", strings.Join(principals, " ")))
	for _, m := range r.api.Methods() {
		for _, l := range lines[m] {
			out.WriteString(l + "\n")
		}
	}
	compareGolden(t, sweepGolden, out.String())
}

// sweep calls one method as every principal with every form of idSite, alone and in a bulk
// request, checks what must always hold and returns the golden file's lines of the method
// and whether the superuser's answer for site 2 shows site 2's data.
func (r *matrixRig) sweep(t *testing.T, m string, e matrixEntry) ([]string, bool) {
	siteDependent := false
	for _, who := range principals {
		siteDependent = siteDependent || e.allowed(who, 1) != e.allowed(who, 2)
	}
	write := r.api.methods[m].write
	rootSees := false
	codes := make([][]string, len(idSiteForms))
	for pi, who := range principals {
		direct := make([]string, len(idSiteForms))
		bulk := url.Values{"method": {"API.getBulkRequest"}}
		for fi, form := range idSiteForms {
			params := sweepParams(e, form)
			names2 := hasObject(params)
			params.Set("method", m)
			code, body := r.call(t, who, params)
			codes[fi] = append(codes[fi], strconv.Itoa(code))
			direct[fi] = body
			what := fmt.Sprintf("%s as %s with %q", m, who, form)
			switch {
			case who != "root" && leaksSite2(body):
				t.Errorf("%s leaks site 2's data: %d %.300s", what, code, body)
			case who == "anonymous" && code != 401:
				t.Errorf("%s: %d, want 401", what, code)
			case who != "root" && siteDependent && (namesSite2(form) || names2) && code != 400 && code != 401:
				t.Errorf("%s: %d %.300s, want a refusal", what, code, body)
			case write && !e.allowed(who, 1) && !e.allowed(who, 2) && code == 200:
				t.Errorf("%s: %d %.300s for a change the caller may make on no site, want a refusal", what, code, body)
			}
			if who == "root" && form == "2" && leaksSite2(body) {
				rootSees = true
			}
			// The same call inside a bulk request: reads with the very same parameters,
			// writes with fresh objects (the first call may have deleted its own).
			inner := params
			if write {
				inner = sweepParams(e, form)
				inner.Set("method", m)
				if inner.Get("passwordConfirmation") == "$own" {
					inner.Set("passwordConfirmation", password(who))
				}
			}
			inner = cloneValues(inner) // metadata.go's
			for _, k := range []string{"token_auth", "module", "format"} {
				inner.Del(k)
			}
			bulk.Set(fmt.Sprintf("urls[%d]", fi), inner.Encode())
		}
		code, body := r.call(t, who, bulk)
		var answers []json.RawMessage
		if err := json.Unmarshal([]byte(body), &answers); code != 200 || err != nil || len(answers) != len(idSiteForms) {
			t.Fatalf("bulk %s as %s: %d %v %.300s", m, who, code, err, body)
		}
		for fi, form := range idSiteForms {
			got := string(answers[fi])
			what := fmt.Sprintf("bulk %s as %s with %q", m, who, form)
			if who != "root" && leaksSite2(got) {
				t.Errorf("%s leaks site 2's data: %.300s", what, got)
			}
			if !write {
				if want := compactJSON(t, direct[fi]); got != want {
					t.Errorf("%s: %.300s\nalone: %.300s", what, got, want)
				}
			} else if codes[fi][pi] != "200" && !isError(got) {
				t.Errorf("%s: %.300s, refused alone (%s)", what, got, codes[fi][pi])
			}
		}
	}
	rows := make([]string, len(idSiteForms))
	same := true
	for fi := range idSiteForms {
		rows[fi] = strings.Join(codes[fi], " ")
		same = same && rows[fi] == rows[0]
	}
	// A method that ignores idSite has one line for every form.
	if same {
		return []string{fmt.Sprintf("%-52s %-7s %s", m, "*", rows[0])}, rootSees
	}
	lines := make([]string, len(idSiteForms))
	for fi, form := range idSiteForms {
		lines[fi] = fmt.Sprintf("%-52s %-7s %s", m, strconv.Quote(form), rows[fi])
	}
	return lines, rootSees
}

// sweepParams are a method's parameters on site 2 with the form of idSite set on idSites when
// the call takes a list, on idSite otherwise. Reports ask for one day, which has site 2's visit.
func sweepParams(e matrixEntry, form string) url.Values {
	p := e.params(2)
	if p.Has("date") && p.Get("date") == "last3" {
		p.Set("date", "today")
	}
	if _, ok := p["idSites"]; ok {
		p.Set("idSites", form)
	} else {
		p.Set("idSite", form)
	}
	return p
}

// hasObject is true when the call names a goal, dimension, segment or funnel (created on site 2).
func hasObject(p url.Values) bool {
	return p.Has("idGoal") || p.Has("idDimension") || p.Has("idSegment") || p.Has("idFunnel")
}

func compactJSON(t *testing.T, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("not JSON: %v %.300s", err, s)
	}
	return b.String()
}

func isError(answer string) bool {
	var e struct{ Result string }
	return json.Unmarshal([]byte(answer), &e) == nil && e.Result == "error"
}

// compareGolden compares got with the golden file, or rewrites it with -update.
func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got == string(want) {
		return
	}
	wantLines := map[string]bool{}
	for _, l := range strings.Split(string(want), "\n") {
		wantLines[l] = true
	}
	gotLines := map[string]bool{}
	for _, l := range strings.Split(got, "\n") {
		gotLines[l] = true
		if !wantLines[l] {
			t.Errorf("now:     %s", l)
		}
	}
	for _, l := range strings.Split(string(want), "\n") {
		if !gotLines[l] {
			t.Errorf("golden:  %s", l)
		}
	}
	t.Errorf("%s differs from this run (review, then -update)", path)
}
