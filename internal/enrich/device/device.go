// Package device turns a user agent (and client hints) into Matomo's device, OS and browser
// labels, and recognises bots. Results are cached because user agents repeat heavily.
package device

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/medama-io/go-useragent"
	"github.com/x-way/crawlerdetect"

	"hearth/internal/event"
)

// Result is what detection learnt.
type Result struct {
	Device event.Device
	Bot    bool
	// BotName is a short name for the bot when one is recognised ("Googlebot"), else "Bot".
	BotName string
}

// Detector parses user agents. It is safe for concurrent use.
type Detector struct {
	ua      *useragent.Parser
	crawler *crawlerdetect.CrawlerDetect
	cache   *cache
}

// New builds a detector with a cache of up to cacheSize distinct user agents.
func New(cacheSize int) *Detector {
	return &Detector{ua: useragent.NewParser(), crawler: crawlerdetect.New(), cache: newCache(cacheSize)}
}

// Detect classifies a user agent; hints are the Sec-CH-UA* headers and uadata is the JSON
// the Matomo tracker sends (either may be empty).
func (d *Detector) Detect(userAgent string, hints http.Header, uadata string) Result {
	key := userAgent
	if uadata != "" || len(hints) > 0 {
		key = userAgent + "\x00" + uadata + "\x00" + hints.Get("Sec-Ch-Ua-Platform") + hints.Get("Sec-Ch-Ua-Model")
	}
	if r, ok := d.cache.get(key); ok {
		return r
	}
	r := d.detect(userAgent, hints, uadata)
	d.cache.put(key, r)
	return r
}

var botNames = regexp.MustCompile(`(?i)([a-z0-9_.\-]*(?:bot|crawler|spider|slurp|fetcher|scanner|checker|monitor|preview)[a-z0-9_.\-]*)`)

func (d *Detector) detect(userAgent string, hints http.Header, uadata string) Result {
	var r Result
	ua := strings.TrimSpace(userAgent)
	if ua == "" {
		r.Device.Type = ""
		return r
	}
	if d.crawler.IsCrawler(ua) || isBotByRule(ua) {
		r.Bot = true
		r.BotName = "Bot"
		if m := botNames.FindString(ua); m != "" {
			r.BotName = m
		}
		return r
	}
	p := d.ua.Parse(ua)
	if p.IsBot() {
		r.Bot, r.BotName = true, "Bot"
		return r
	}
	r.Device.Browser = browserName(string(p.Browser()), p.IsMobile() || p.IsTablet())
	if r.Device.Browser == "Android Browser" && strings.Contains(ua, "Chrome/") {
		// Android's WebView reports "Version/4.0 Chrome/…": Matomo's "Chrome Webview".
		r.Device.Browser = "Chrome Webview"
	}
	r.Device.BrowserVersion = p.BrowserVersion()
	r.Device.OS = osName(string(p.OS()))
	r.Device.Type = refineType(deviceType(p), ua, r.Device.OS, withUAData(hints, uadata))
	r.Device.Engine = engine(r.Device.Browser, ua)
	r.Device.OSVersion = osVersion(r.Device.OS, ua)
	applyHints(&r.Device, hints, uadata)
	return r
}

var (
	tvMarkers      = regexp.MustCompile(`(?i)smart-?tv|hbbtv|netcast|web0s|webos\.tv|bravia|\bAFT[A-Z]|crkey|googletv|android ?tv|wv-atv|\btv safari|opera tv|vidaa|philipstv|\bvestel|sraf/|ce-html|\bdtv\b|roku|appletv|tvos|[_ ]box\b|\btv box|\bomi/|tizen[^;)]*\btv|\bTV\b`)
	consoleMarkers = regexp.MustCompile(`(?i)playstation|xbox|nintendo (switch|wiiu?|3ds)`)
	featureMarkers = regexp.MustCompile(`(?i)kaios|series ?40|s40ovibrowser|j2me|midp-`)
	wearMarkers    = regexp.MustCompile(`(?i)\bwatch\b|wear ?os`)
	carMarkers     = regexp.MustCompile(`(?i)tesla/|qtcarbrowser`)
)

// refineType corrects the device type with conventions the parser does not apply: Android
// browsers omit "Mobile" on tablets, and TVs, consoles, feature phones, wearables and cars
// announce themselves with markers of their own.
func refineType(t, ua, os string, hints http.Header) string {
	switch {
	case tvMarkers.MatchString(ua):
		return "tv"
	case consoleMarkers.MatchString(ua):
		return "console"
	case carMarkers.MatchString(ua):
		return "car browser"
	case featureMarkers.MatchString(ua):
		return "feature phone"
	case wearMarkers.MatchString(ua):
		return "wearable"
	}
	android := os == "Android" || strings.Contains(ua, "Android")
	if android {
		switch hints.Get("Sec-Ch-Ua-Mobile") {
		case "?1":
			return "smartphone"
		case "?0":
			if t != "desktop" {
				return "tablet"
			}
		}
		if (t == "smartphone" || t == "") && !strings.Contains(ua, "Mobile") && strings.Contains(ua, "AppleWebKit") {
			return "tablet"
		}
		if t == "" {
			return "smartphone"
		}
	}
	return t
}

func isBotByRule(ua string) bool {
	l := strings.ToLower(ua)
	for _, s := range []string{"headlesschrome", "phantomjs", "python-requests", "curl/", "wget/", "go-http-client", "java/", "okhttp", "libwww-perl", "httpclient", "scrapy", "lighthouse", "pingdom", "uptimerobot", "facebookexternalhit", "whatsapp", "slackbot", "telegrambot", "bingpreview", "mediapartners"} {
		if strings.Contains(l, s) {
			return true
		}
	}
	return false
}

func browserName(b string, mobile bool) string {
	switch b {
	case "Chrome":
		if mobile {
			return "Chrome Mobile"
		}
		return "Chrome"
	case "Safari":
		if mobile {
			return "Mobile Safari"
		}
		return "Safari"
	case "Edge":
		return "Microsoft Edge"
	case "IE":
		return "Internet Explorer"
	case "Firefox":
		if mobile {
			return "Firefox Mobile"
		}
		return "Firefox"
	case "Samsung Browser":
		return "Samsung Browser"
	case "Yandex Browser":
		return "Yandex Browser"
	case "Amazon Silk":
		return "Mobile Silk"
	}
	return b
}

func osName(o string) string {
	switch o {
	case "MacOS":
		return "Mac"
	case "Linux":
		return "GNU/Linux"
	case "ChromeOS":
		return "Chrome OS"
	}
	return o
}

func deviceType(p useragent.UserAgent) string {
	switch {
	case p.IsTablet():
		return "tablet"
	case p.IsMobile():
		return "smartphone"
	case p.IsTV():
		return "tv"
	case p.IsDesktop():
		return "desktop"
	}
	return ""
}

func engine(browser, ua string) string {
	switch {
	case strings.Contains(ua, "Gecko/") && strings.Contains(ua, "Firefox"):
		return "Gecko"
	case strings.Contains(ua, "Trident/"):
		return "Trident"
	case strings.Contains(ua, "Chrome/") || strings.Contains(ua, "CriOS"):
		if browser == "Safari" || browser == "Mobile Safari" {
			return "WebKit"
		}
		return "Blink"
	case strings.Contains(ua, "AppleWebKit"):
		return "WebKit"
	case strings.Contains(ua, "Presto"):
		return "Presto"
	}
	return ""
}

var (
	windowsNT = regexp.MustCompile(`Windows NT (\d+\.\d+)`)
	androidV  = regexp.MustCompile(`Android (\d+(?:\.\d+)?)`)
	iosV      = regexp.MustCompile(`OS (\d+)[_.](\d+)`)
	macV      = regexp.MustCompile(`Mac OS X (\d+)[_.](\d+)`)
)

func osVersion(os, ua string) string {
	switch os {
	case "Windows":
		if m := windowsNT.FindStringSubmatch(ua); m != nil {
			return map[string]string{"10.0": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista", "5.1": "XP", "5.2": "XP"}[m[1]]
		}
	case "Android":
		if m := androidV.FindStringSubmatch(ua); m != nil {
			return m[1]
		}
	case "iOS":
		if m := iosV.FindStringSubmatch(ua); m != nil {
			return m[1] + "." + m[2]
		}
	case "Mac":
		if m := macV.FindStringSubmatch(ua); m != nil {
			return m[1] + "." + m[2]
		}
	}
	return ""
}

// withUAData adds the mobile flag of the tracker's uadata JSON (navigator.userAgentData) to
// the client-hint headers, as Sec-CH-UA-Mobile would carry it.
func withUAData(h http.Header, uadata string) http.Header {
	if uadata == "" {
		return h
	}
	var ud struct {
		Mobile *bool `json:"mobile"`
	}
	if json.Unmarshal([]byte(uadata), &ud) != nil || ud.Mobile == nil {
		return h
	}
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	if *ud.Mobile {
		out.Set("Sec-Ch-Ua-Mobile", "?1")
	} else {
		out.Set("Sec-Ch-Ua-Mobile", "?0")
	}
	return out
}

// applyHints refines the result with User-Agent Client Hints, which Chromium browsers send
// instead of a detailed user agent.
func applyHints(d *event.Device, hints http.Header, uadata string) {
	platform := strings.Trim(hints.Get("Sec-Ch-Ua-Platform"), `"`)
	platformVersion := strings.Trim(hints.Get("Sec-Ch-Ua-Platform-Version"), `"`)
	model := strings.Trim(hints.Get("Sec-Ch-Ua-Model"), `"`)
	if uadata != "" {
		var ud struct {
			Platform        string `json:"platform"`
			PlatformVersion string `json:"platformVersion"`
			Model           string `json:"model"`
		}
		if json.Unmarshal([]byte(uadata), &ud) == nil {
			if ud.Platform != "" {
				platform = ud.Platform
			}
			if ud.PlatformVersion != "" {
				platformVersion = ud.PlatformVersion
			}
			if ud.Model != "" {
				model = ud.Model
			}
		}
	}
	switch platform {
	case "Windows":
		d.OS = "Windows"
		// Windows 11 reports platform version 13 or higher.
		if major := strings.SplitN(platformVersion, ".", 2)[0]; major != "" {
			if len(major) >= 2 && major >= "13" {
				d.OSVersion = "11"
			} else if major != "0" {
				d.OSVersion = "10"
			}
		}
	case "macOS":
		d.OS = "Mac"
	case "Android":
		d.OS = "Android"
		if platformVersion != "" {
			d.OSVersion = platformVersion
		}
	case "Chrome OS", "ChromeOS":
		d.OS = "Chrome OS"
	case "Linux":
		d.OS = "GNU/Linux"
	}
	if model != "" {
		d.Model = model
	}
}

// cache is a bounded map that is cleared in halves (two generations) when full.
type cache struct {
	mu  sync.RWMutex
	max int
	cur map[string]Result
	old map[string]Result
}

func newCache(max int) *cache {
	if max < 16 {
		max = 16
	}
	return &cache{max: max, cur: map[string]Result{}, old: map[string]Result{}}
}

func (c *cache) get(k string) (Result, bool) {
	c.mu.RLock()
	r, ok := c.cur[k]
	if !ok {
		r, ok = c.old[k]
	}
	c.mu.RUnlock()
	return r, ok
}

func (c *cache) put(k string, r Result) {
	c.mu.Lock()
	if len(c.cur) >= c.max/2 {
		c.old, c.cur = c.cur, map[string]Result{}
	}
	c.cur[k] = r
	c.mu.Unlock()
}
