package e2e

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"hearth/test/testbin"
)

var update = flag.Bool("update", false, "rewrite the answers in testdata/api/*.case")

// TestAPICases replays the Reporting API cases in testdata/api/*.case against the real
// binary, each file on a server of its own with one site. A file holds, line by line:
//
//	# a comment
//	site <addSite query>     another site (site 1 is there already), before any hit
//	hit <tracking query>     sent before the first request (one bulk request, with a token)
//	api <API query>          a Reporting API call (token_auth added; format=json unless given)
//	=> <status> <body>       the answer the call above must get, to the byte
//
// Adding a compatibility case is adding lines; `go test ./test/e2e/ -run TestAPICases -update`
// rewrites the answers, for review in the diff.
func TestAPICases(t *testing.T) {
	files, err := filepath.Glob("testdata/api/*.case")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".case"), func(t *testing.T) {
			t.Parallel()
			runCaseFile(t, file)
		})
	}
}

func runCaseFile(t *testing.T, file string) {
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	s, tok := testbin.StartWithSite(t, nil)
	var hits []string
	for _, l := range lines {
		if q, ok := strings.CutPrefix(l, "site "); ok {
			extra, err := url.ParseQuery(q)
			if err != nil {
				t.Fatalf("site line %q: %v", l, err)
			}
			s.AddSite(t, tok, extra)
		}
		if q, ok := strings.CutPrefix(l, "hit "); ok {
			hits = append(hits, "?"+q)
		}
	}
	if len(hits) > 0 {
		trackBulk(t, s, tok, hits)
		perSite := map[int]int{}
		for _, h := range hits {
			q, _ := url.ParseQuery(strings.TrimPrefix(h, "?"))
			n, _ := strconv.Atoi(q.Get("idsite"))
			perSite[n]++
		}
		for site, n := range perSite {
			s.WaitActions(t, tok, site, n)
		}
	}
	var out []string
	changed := false
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		out = append(out, l)
		q, ok := strings.CutPrefix(l, "api ")
		if !ok {
			continue
		}
		got := apiAnswer(t, s, tok, q)
		want := ""
		if i+1 < len(lines) && strings.HasPrefix(lines[i+1], "=> ") {
			want = lines[i+1]
			i++
		}
		if got != want {
			if *update {
				changed = true
			} else {
				t.Errorf("%s:%d: api %s\n  got:  %s\n  want: %s", file, i+1, q, got, want)
			}
		}
		out = append(out, got)
	}
	if *update && changed {
		if err := os.WriteFile(file, []byte(strings.Join(out, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// apiAnswer calls the Reporting API and renders the answer as a case line.
func apiAnswer(t *testing.T, s *testbin.Server, tok, q string) string {
	t.Helper()
	params, err := url.ParseQuery(q)
	if err != nil {
		t.Fatalf("case query %q: %v", q, err)
	}
	params.Set("module", "API")
	params.Set("token_auth", tok)
	if params.Get("format") == "" {
		params.Set("format", "json")
	}
	resp, err := testbin.Client.PostForm(s.Base+"/index.php", params)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	body := strings.TrimRight(string(b), "\n")
	if strings.ContainsAny(body, "\n\r") {
		body = strconv.Quote(body) // one line, whatever the format
	}
	return fmt.Sprintf("=> %d %s", resp.StatusCode, body)
}
