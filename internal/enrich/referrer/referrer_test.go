package referrer

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"hearth/internal/event"
	"hearth/internal/fuzzseed"
)

func TestClassify(t *testing.T) {
	l := Builtin()
	site := []string{"clinic.example"}
	cases := []struct {
		name     string
		in       Input
		wantType event.ReferrerType
		wantName string
		wantKw   string
		wantSpam bool
	}{
		{"direct", Input{}, event.ReferrerDirect, "", "", false},
		{"internal", Input{Referrer: "https://www.clinic.example/a", SiteHosts: site}, event.ReferrerDirect, "", "", false},
		{"google de", Input{Referrer: "https://www.google.de/search?q=Flu+Shot&hl=de"}, event.ReferrerSearch, "Google", "flu shot", false},
		{"google co.uk no keyword", Input{Referrer: "https://www.google.co.uk/"}, event.ReferrerSearch, "Google", "", false},
		{"bing", Input{Referrer: "https://www.bing.com/search?q=clinic"}, event.ReferrerSearch, "Bing", "clinic", false},
		{"duckduckgo", Input{Referrer: "https://duckduckgo.com/?q=hospital"}, event.ReferrerSearch, "DuckDuckGo", "hospital", false},
		{"yandex", Input{Referrer: "https://yandex.ru/search/?text=test"}, event.ReferrerSearch, "Yandex", "test", false},
		{"baidu", Input{Referrer: "https://www.baidu.com/s?wd=abc"}, event.ReferrerSearch, "Baidu", "abc", false},
		{"facebook", Input{Referrer: "https://l.facebook.com/l.php?u=x"}, event.ReferrerSocial, "Facebook", "", false},
		{"t.co", Input{Referrer: "https://t.co/abc"}, event.ReferrerSocial, "Twitter", "", false},
		{"subdomain social", Input{Referrer: "https://de.linkedin.com/feed"}, event.ReferrerSocial, "LinkedIn", "", false},
		{"website", Input{Referrer: "https://blog.partner.org/post"}, event.ReferrerWebsite, "blog.partner.org", "", false},
		{"campaign wins", Input{Referrer: "https://www.google.com/?q=x", Campaign: event.Campaign{Name: "Spring", Keyword: "Shots"}}, event.ReferrerCampaign, "spring", "shots", false},
		{"spam", Input{Referrer: "http://semalt.com/x"}, event.ReferrerWebsite, "semalt.com", "", true},
		{"spam subdomain", Input{Referrer: "http://a.b.darodar.com/"}, event.ReferrerWebsite, "a.b.darodar.com", "", true},
		{"not a url", Input{Referrer: "::nonsense"}, event.ReferrerDirect, "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, spam := l.Classify(tc.in)
			if r.Type != tc.wantType || r.Name != tc.wantName || r.Keyword != tc.wantKw || spam != tc.wantSpam {
				t.Fatalf("got %+v spam=%v, want type=%v name=%q kw=%q spam=%v", r, spam, tc.wantType, tc.wantName, tc.wantKw, tc.wantSpam)
			}
		})
	}
}

func TestBuiltinSizes(t *testing.T) {
	if len(builtinEngines) < 50 {
		t.Fatalf("only %d built-in search engines", len(builtinEngines))
	}
	if len(builtinSocials) < 30 {
		t.Fatalf("only %d built-in social networks", len(builtinSocials))
	}
}

// sampleHost turns a Matomo host pattern into a concrete host.
func sampleHost(h string) string { return strings.ToLower(strings.ReplaceAll(h, "{}", "example")) }

// TestReferenceLists loads Matomo's published lists from ../shared/data with --referrer-lists
// semantics and checks every host in them is then recognised; it also reports how many the
// built-in lists alone recognise.
func TestReferenceLists(t *testing.T) {
	dataDir := filepath.Join("..", "..", "..", "..", "shared", "data")
	listDir := filepath.Join(dataDir, "searchengine-and-social-list")
	spamDir := filepath.Join(dataDir, "referrer-spam-list")
	if _, err := os.Stat(listDir); err != nil {
		t.Skipf("reference data not found at %s", listDir)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var engines map[string][]struct {
		URLs []string `yaml:"urls"`
	}
	if err := yaml.Unmarshal(read(filepath.Join(listDir, "SearchEngines.yml")), &engines); err != nil {
		t.Fatal(err)
	}
	var socials map[string][]string
	if err := yaml.Unmarshal(read(filepath.Join(listDir, "Socials.yml")), &socials); err != nil {
		t.Fatal(err)
	}
	var spam []string
	for _, line := range strings.Split(string(read(filepath.Join(spamDir, "spammers.txt"))), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			spam = append(spam, strings.ToLower(line))
		}
	}

	builtin := Builtin()
	loaded := Builtin()
	if err := loaded.LoadDir(listDir); err != nil {
		t.Fatal(err)
	}
	if err := loaded.LoadDir(spamDir); err != nil {
		t.Fatal(err)
	}
	var engineHosts, socialHosts []string
	for _, defs := range engines {
		for _, d := range defs {
			for _, h := range d.URLs {
				engineHosts = append(engineHosts, sampleHost(h))
			}
		}
	}
	for _, hosts := range socials {
		for _, h := range hosts {
			socialHosts = append(socialHosts, sampleHost(h))
		}
	}
	count := func(l *Lists, hosts []string, kind string) (n int, missing []string) {
		for _, h := range hosts {
			e, s, sp := l.Known(h)
			ok := map[string]bool{"engine": e, "social": s || e, "spam": sp}[kind]
			if ok {
				n++
			} else {
				missing = append(missing, h)
			}
		}
		return n, missing
	}
	for _, kind := range []struct {
		name  string
		hosts []string
	}{{"engine", engineHosts}, {"social", socialHosts}, {"spam", spam}} {
		nb, _ := count(builtin, kind.hosts, kind.name)
		nl, missing := count(loaded, kind.hosts, kind.name)
		t.Logf("%s hosts: %d in reference list; built-in lists recognise %d (%.1f%%); with the list loaded %d",
			kind.name, len(kind.hosts), nb, 100*float64(nb)/float64(len(kind.hosts)), nl)
		if len(missing) > 0 {
			t.Errorf("%d %s hosts not recognised after loading, e.g. %v", len(missing), kind.name, missing[:min(5, len(missing))])
		}
	}
}

func TestLoadDirErrors(t *testing.T) {
	l := Builtin()
	if err := l.LoadDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "has none of") {
		t.Fatalf("empty dir: %v", err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Socials.yml"), []byte("Foo: [unclosed"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := l.LoadDir(dir); err == nil || !strings.Contains(err.Error(), "Socials.yml") {
		t.Fatalf("bad yaml: %v", err)
	}
}

func FuzzClassify(f *testing.F) {
	fuzzseed.Strings(f, "FuzzClassify", 2)
	l := Builtin()
	f.Fuzz(func(t *testing.T, ref, camp string) {
		r, _ := l.Classify(Input{Referrer: ref, Campaign: event.Campaign{Name: camp}, SiteHosts: []string{"ex.org"}})
		if camp != "" && r.Type != event.ReferrerCampaign {
			t.Fatalf("campaign lost: %+v", r)
		}
		if r.Type == event.ReferrerSearch && r.Name == "" {
			t.Fatalf("search without engine name: %+v", r)
		}
	})
}

func FuzzLoadLists(f *testing.F) {
	fuzzseed.Strings(f, "FuzzLoadLists", 3)
	f.Fuzz(func(t *testing.T, engines, socials, spam string) {
		l := Builtin()
		_ = l.LoadSearchEngines([]byte(engines))
		_ = l.LoadSocials([]byte(socials))
		_ = l.LoadSpam([]byte(spam))
		r, _ := l.Classify(Input{Referrer: "https://www.google.de/search?q=x"})
		if r.Type != event.ReferrerSearch {
			t.Fatalf("built-in engine lost after loading lists: %+v", r)
		}
	})
}
