package device

import (
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"hearth/internal/fuzzseed"
)

func TestDetect(t *testing.T) {
	d := New(1000)
	cases := []struct {
		ua                            string
		browser, os, osVersion, dtype string
		bot                           bool
	}{
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", "Chrome", "Windows", "10", "desktop", false},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15", "Safari", "Mac", "10.15", "desktop", false},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", "Mobile Safari", "iOS", "17.1", "smartphone", false},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:120.0) Gecko/20100101 Firefox/120.0", "Firefox", "GNU/Linux", "", "desktop", false},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36", "Chrome Mobile", "Android", "14", "smartphone", false},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "", "", "", "", true},
		{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", "", "", "", "", true},
		{"Mozilla/5.0 (compatible; MyMonitor/1.0)", "", "", "", "", true},
		{"${jndi:ldap://x.example/a}", "", "", "", "", true},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36", "", "", "", "", true},
	}
	for _, tc := range cases {
		r := d.Detect(tc.ua, nil, "")
		if r.Bot != tc.bot {
			t.Errorf("%q: bot=%v want %v", tc.ua, r.Bot, tc.bot)
			continue
		}
		if tc.bot {
			continue
		}
		if r.Device.Browser != tc.browser || r.Device.OS != tc.os || r.Device.OSVersion != tc.osVersion || r.Device.Type != tc.dtype {
			t.Errorf("%q: got %+v", tc.ua, r.Device)
		}
	}
	// Client hints refine a reduced user agent.
	hints := http.Header{"Sec-Ch-Ua-Platform": {`"Windows"`}, "Sec-Ch-Ua-Platform-Version": {`"15.0.0"`}}
	r := d.Detect("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", hints, "")
	if r.Device.OSVersion != "11" {
		t.Errorf("client hints: Windows version %q, want 11", r.Device.OSVersion)
	}
}

type fixture struct {
	UserAgent string         `yaml:"user_agent"`
	Headers   map[string]any `yaml:"headers"`
	Bot       *struct {
		Name string `yaml:"name"`
	} `yaml:"bot"`
	Device struct {
		Type  string `yaml:"type"`
		Brand string `yaml:"brand"`
	} `yaml:"device"`
	OSFamily      string `yaml:"os_family"`
	BrowserFamily string `yaml:"browser_family"`
}

func loadFixtures(t testing.TB) []fixture {
	dir := filepath.Join("..", "..", "..", "..", "shared", "data", "device-detector-fixtures", "fixtures")
	files, _ := filepath.Glob(filepath.Join(dir, "*.yml"))
	if len(files) == 0 {
		t.Skipf("device-detector fixtures not found in %s", dir)
	}
	var all []fixture
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var fx []fixture
		if err := yaml.Unmarshal(b, &fx); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		all = append(all, fx...)
	}
	return all
}

// TestFixtureAgreement measures agreement with Matomo's device-detector labels over its test
// fixtures and prints the figures. The floors below guard against regressions; the targets
// the product aims for are in docs/PERFORMANCE.md.
func TestFixtureAgreement(t *testing.T) {
	fx := loadFixtures(t)
	d := New(1 << 16)
	var osOK, osN, brOK, brN, dtOK, dtN, botHit, botN, humanFlag, humanN int
	var brandOK, brandN, apple, appleOK, named, namedOK int
	misses := map[string]int{}
	start := time.Now()
	type timing struct {
		ua string
		d  time.Duration
	}
	var timings []timing
	for _, f := range fx {
		hints, uadata := fixtureHints(f.Headers)
		t0 := time.Now()
		r := d.Detect(f.UserAgent, hints, uadata)
		timings = append(timings, timing{f.UserAgent, time.Since(t0)})
		if f.Bot != nil {
			botN++
			if r.Bot {
				botHit++
			}
			continue
		}
		humanN++
		if r.Bot {
			humanFlag++
			continue
		}
		if f.OSFamily != "" && f.OSFamily != "Unknown" {
			osN++
			if OSFamily(r.Device.OS) == f.OSFamily {
				osOK++
			}
		}
		if f.BrowserFamily != "" && f.BrowserFamily != "Unknown" {
			brN++
			if BrowserFamily(r.Device.Browser) == f.BrowserFamily {
				brOK++
			} else {
				misses["browser "+f.BrowserFamily+" as "+BrowserFamily(r.Device.Browser)]++
			}
		}
		if f.Device.Brand != "" {
			brandN++
			if strings.EqualFold(r.Device.Brand, f.Device.Brand) {
				brandOK++
			}
			if r.Device.Brand != "" {
				named++
				if strings.EqualFold(r.Device.Brand, f.Device.Brand) {
					namedOK++
				}
			}
			if f.Device.Brand == "Apple" {
				apple++
				if r.Device.Brand == "Apple" {
					appleOK++
				}
			}
		}
		if f.Device.Type != "" {
			dtN++
			if r.Device.Type == f.Device.Type {
				dtOK++
			} else {
				misses["type "+f.Device.Type+" as "+r.Device.Type]++
			}
		}
	}
	elapsed := time.Since(start)
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(max(b, 1)) }
	// The worst uncached case: the 20 slowest user agents timed again, best of 5 each, so a
	// garbage collection or a scheduler pause does not count as the detector's cost.
	sort.Slice(timings, func(i, j int) bool { return timings[i].d > timings[j].d })
	var worst time.Duration
	worstUA := ""
	for _, tm := range timings[:20] {
		best := time.Hour
		for k := 0; k < 5; k++ {
			t0 := time.Now()
			d.detect(tm.ua, nil, "")
			best = min(best, time.Since(t0))
		}
		if best > worst {
			worst, worstUA = best, tm.ua
		}
	}
	t.Logf("fixtures: %d (%d bots); uncached mean %.1f µs/UA, worst %v (%.80s)", len(fx), botN, float64(elapsed.Microseconds())/float64(len(fx)), worst, worstUA)
	// A realistic stream repeats user agents: 200,000 hits drawn with a Zipf distribution
	// from 5,000 distinct ones, through a warm cache.
	stream := make([]string, 200_000)
	zipf := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.2, 1, 4999)
	for i := range stream {
		stream[i] = fx[int(zipf.Uint64())*7%len(fx)].UserAgent
	}
	cached := New(1 << 16)
	for _, ua := range stream[:20_000] {
		cached.Detect(ua, nil, "")
	}
	t0 := time.Now()
	for _, ua := range stream {
		cached.Detect(ua, nil, "")
	}
	streamMean := time.Since(t0) / time.Duration(len(stream))
	t.Logf("repeating stream: mean %v per hit with the cache", streamMean)
	if streamMean > 5*time.Microsecond && !raceDetector {
		t.Errorf("cached mean %v per hit, above 5µs", streamMean)
	}
	if worst > time.Millisecond && !raceDetector {
		t.Errorf("worst uncached case %v, above 1ms", worst)
	}
	t.Logf("OS family %.1f%% (%d/%d), browser family %.1f%% (%d/%d), device type %.1f%% (%d/%d)",
		pct(osOK, osN), osOK, osN, pct(brOK, brN), brOK, brN, pct(dtOK, dtN), dtOK, dtN)
	t.Logf("device brand %.1f%% (%d/%d), of Apple devices %.1f%% (%d/%d); a brand Hearth names is Matomo's in %.1f%% (%d/%d)",
		pct(brandOK, brandN), brandOK, brandN, pct(appleOK, apple), appleOK, apple, pct(namedOK, named), namedOK, named)
	if pct(appleOK, apple) < 90 {
		t.Errorf("Apple devices named Apple: %.1f%%, below 90%%", pct(appleOK, apple))
	}
	t.Logf("bot recall %.1f%% (%d/%d), humans flagged as bots %.2f%% (%d/%d)", pct(botHit, botN), botHit, botN, pct(humanFlag, humanN), humanFlag, humanN)
	type kv struct {
		k string
		v int
	}
	var top []kv
	for k, v := range misses {
		top = append(top, kv{k, v})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].v > top[j].v })
	var lines []string
	for i := 0; i < len(top) && i < 8; i++ {
		lines = append(lines, top[i].k+": "+itoa(top[i].v))
	}
	t.Logf("largest disagreements: %s", strings.Join(lines, "; "))

	floors := []struct {
		name      string
		got, want float64
	}{
		{"OS family", pct(osOK, osN), floorOS},
		{"browser family", pct(brOK, brN), floorBrowser},
		{"device type", pct(dtOK, dtN), floorType},
		{"bot recall", pct(botHit, botN), floorBot},
		{"device brand", pct(brandOK, brandN), floorBrand},
		{"named brand", pct(namedOK, named), floorBrandNamed},
	}
	for _, f := range floors {
		if f.got < f.want {
			t.Errorf("%s agreement %.1f%% fell below %.1f%%", f.name, f.got, f.want)
		}
	}
	if p := pct(humanFlag, humanN); p > ceilingHumansFlagged {
		t.Errorf("%.2f%% of humans flagged as bots, above %.2f%%", p, ceilingHumansFlagged)
	}
}

// fixtureHints turns a fixture's headers into Sec-CH-UA headers, or, when they have the shape
// of navigator.userAgentData (brands, platform, mobile…), into the tracker's uadata JSON.
func fixtureHints(h map[string]any) (http.Header, string) {
	if len(h) == 0 {
		return nil, ""
	}
	if _, ok := h["brands"]; ok {
		b, _ := json.Marshal(h)
		return nil, string(b)
	}
	if _, ok := h["platform"]; ok {
		b, _ := json.Marshal(h)
		return nil, string(b)
	}
	out := http.Header{}
	for k, v := range h {
		if s, ok := v.(string); ok {
			out.Set(k, s)
		}
	}
	return out, ""
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{byte('0' + n%10)}, b...)
		n /= 10
	}
	return string(b)
}

func BenchmarkDetectCached(b *testing.B) {
	fx := loadFixtures(b)
	d := New(1 << 16)
	uas := make([]string, 0, 2000)
	for i := 0; i < len(fx) && len(uas) < 2000; i += len(fx) / 2000 {
		uas = append(uas, fx[i].UserAgent)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		d.Detect(uas[i%len(uas)], nil, "")
	}
}

func FuzzDetect(f *testing.F) {
	fuzzseed.Strings(f, "FuzzDetect", 2)
	d := New(64)
	f.Fuzz(func(t *testing.T, ua, uadata string) {
		r := d.Detect(ua, nil, uadata)
		if r.Bot && r.BotName == "" {
			t.Fatal("bot without a name")
		}
		if r.Bot && (r.Device.Browser != "" || r.Device.OS != "") {
			t.Fatal("bot with device details")
		}
	})
}

func TestBrandOf(t *testing.T) {
	for model, want := range map[string]string{
		"SM-G960F":         "Samsung", // Galaxy S9
		"SAMSUNG SM-A515F": "Samsung",
		"SC-42A":           "Samsung", // docomo's Galaxy A21
		"Pixel 8":          "Google",
		"M2006C3LG":        "Xiaomi", // Redmi 9A
		"2107113SG":        "Xiaomi", // Xiaomi 11T Pro
		"Redmi Note 8":     "Xiaomi",
		"POCO F3":          "POCO",
		"V2229A":           "Vivo",
		"vivo 1906":        "Vivo",
		"CPH2185":          "OPPO",
		"RMX3085":          "Realme",
		"KB2003":           "OnePlus", // OnePlus 8T
		"VOG-L29":          "Huawei",  // P30 Pro
		"MAR-LX1A":         "Huawei",  // P30 lite
		"G8341":            "Sony",    // Xperia XZ1
		"SO-41A":           "Sony",
		"A302SO":           "Sony",
		"ZC554KL":          "Asus",
		"5086A":            "Alcatel",
		"moto g(30)":       "Motorola",
		"XT2041-3":         "Motorola",
		"TECNO KA6":        "Tecno Mobile",
		"CAMON 20 Pro":     "Tecno Mobile",
		"Lenovo TB128XU":   "Lenovo",
		"TB-X606F":         "Lenovo",
		"HTC_One_max":      "HTC",
		"ZTE A2121E":       "ZTE",
		"Infinix X650C":    "Infinix",
		"KFTRWI":           "Amazon",
		"LM-Q630":          "LG",
		"K":                "",
		"Android":          "",
		"X96 Max":          "",
		"Zenith":           "",
		"Lenovo":           "Lenovo", // the maker's name alone still names the maker
		"LenovoS90C":       "Lenovo", // name and model run together
		"OnePlus8TMO":      "OnePlus",
		"Xiaomi15":         "Xiaomi",
		"":                 "",
	} {
		if got := brandOf(model); got != want {
			t.Errorf("brandOf(%q) = %q, want %q", model, got, want)
		}
	}
}

func TestBrandFromUserAgentAndHints(t *testing.T) {
	d := New(64)
	for _, c := range []struct {
		ua, uadata, want string
	}{
		{"Mozilla/5.0 (Linux; Android 10; VOG-L29 Build/HUAWEIVOG-L29; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/99.0.4844.73 Mobile Safari/537.36", "", "Huawei"},
		{"Mozilla/5.0 (PlayStation 4 5.55) AppleWebKit/601.2 (KHTML, like Gecko)", "", "Sony"},
		{"Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36", "", "LG"},
		// Chrome's reduced user agent hides the model; the tracker's client hints name it.
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36", `{"platform":"Android","platformVersion":"14.0.0","model":"SM-S918B","mobile":true}`, "Samsung"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Mobile Safari/537.36", "", ""},
	} {
		r := d.Detect(c.ua, nil, c.uadata)
		if r.Device.Brand != c.want {
			t.Errorf("%.60s… %s: brand %q, want %q", c.ua, c.uadata, r.Device.Brand, c.want)
		}
	}
}
