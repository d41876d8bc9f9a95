// Package device turns a user agent (and client hints) into Matomo's device, OS and browser
// labels, and recognises bots. Results are cached because user agents repeat heavily.
package device

import (
	"net/http"
	"regexp"
	"strings"

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

func (d *Detector) detect(userAgent string, hints http.Header, uadata string) Result {
	var r Result
	ua := strings.TrimSpace(userAgent)
	if ua == "" {
		r.Device.Type = ""
		return r
	}
	p := d.ua.Parse(ua)
	if isBot(ua, d.crawler.IsCrawler, p.IsBot()) {
		r.Bot = true
		r.BotName = "Bot"
		if m := botNames.FindString(ua); m != "" {
			r.BotName = m
		}
		return r
	}
	r.Device.Browser = browserName(string(p.Browser()), p.IsMobile() || p.IsTablet())
	if r.Device.Browser == "Android Browser" && strings.Contains(ua, "Chrome/") {
		// Android's WebView reports "Version/4.0 Chrome/…": Matomo's "Chrome Webview".
		r.Device.Browser = "Chrome Webview"
	}
	r.Device.BrowserVersion = majorMinor(p.BrowserVersion())
	r.Device.OS = refineOS(osName(string(p.OS())), ua)
	r.Device.Type = refineType(deviceType(p), ua, r.Device.OS, withUAData(hints, uadata))
	r.Device.Engine = engine(r.Device.Browser, ua)
	r.Device.OSVersion = osVersion(r.Device.OS, ua)
	brandModel(&r.Device, ua)
	applyHints(&r.Device, hints, uadata)
	return r
}

var (
	tvMarkers = tokens{"smarttv", "smart-tv", "hbbtv", "netcast", "web0s", "webos.tv", "bravia", "<aft*", "crkey", "googletv",
		"androidtv", "android tv", "wv-atv", "<tv safari", "opera tv", "vidaa", "philipstv", "<vestel", "sraf/", "ce-html",
		"<dtv>", "roku", "appletv", "tvos", "_box>", " box>", "<tv box", "<omi/", "<tv>", ", wireless)", ", wired)",
		"(linux mips", "brightsign", "inettvbrowser", "dtv1", "firetvstick", "nfandroid", "tivo", "vizio", "co-star",
		"google fiber", "gftv"}
	consoleMarkers = tokens{"playstation", "xbox", "nintendo switch", "nintendo wii", "nintendo 3ds"}
	featureMarkers = tokens{"kaios", "series40", "series 40", "s40ovibrowser", "j2me", "midp-"}
	wearMarkers    = tokens{"<watch>", "wearos", "wear os"}
	carMarkers     = tokens{"tesla/", "qtcarbrowser"}
)

var (
	// androidModel is the device model in an Android user agent: "Android 14; Pixel 8 Build/…".
	androidModel = regexp.MustCompile(`Android [\d.]+; (?:[a-z]{2}[-_][a-zA-Z]{2}; )?([^;)]+?)(?: Build|\)|;)`)
	// Model naming conventions of common device lines.
	tvModel     = regexp.MustCompile(`(?i)\btv|tv\b|mitv|mibox|\bbox\b|[_ -]box|box$|tvbox|atv|dvb|bravia|aquos|shield|chromecast|\ba95x|\bx96|\bh96|\bm8s|\bhk1\b|\btx[36]|^\d{2}[a-z]|\b\d{2}(le|uk|u6|lf|lh|hr|fr|ur|gh|uhd|qled)|smart ?tv|\bstb\b|dtv|iptv|led|shell|yndx-|player|mxq|tanix|vorke|gtking|ugoos|kiii|\brk3[0-9]{3}|beelink|orbsmart|selenga|nexon|vontar|x-media|h10 play|yundoo|digifors|pendoo|polarline|uhd|android tv|(?:^|[^0-9a-z])4k(?:$|[^0-9a-z])|stick|\batv|iconbit|mygica|polar_|mecool|neo[- ]?[xu]\d|\blcd|^le\d{2}|x88|t96|tx9|evpad|toucan|provision|perfeo|mbox|box[-_+ ]`)
	tabletModel = regexp.MustCompile(`(?i)^sm-[tpx]\d|^gt-p\d|tab|[a-z]pad|\bpad\b|tablet|\btb\d?-|-tb-|lenovo tb|^yt-|^mid[- \d]|^pmt\d|^bq-[178]\d|kindle|^kf[a-z]{2,}|nexus (7|9|10)\b|surftab|^mfc\d|^citi|^planet|pocketbook|^ccit|^bg2-|^kob2-|^ags\d?-|^agr-|^nabi|^tz\d|^optima |^plane |^readboy|^nomi[_ ]c`)
	// notTabletModel are phone lines whose names contain "pad".
	notTabletModel = regexp.MustCompile(`(?i)coolpad|padfone`)
	phabletModel   = regexp.MustCompile(`(?i)^sm-n\d|^gt-n\d|^sm-f\d|redmi note|\bmi note|galaxy note|^sc-0[12]|^sm-w\d|\bnote ?\d`)
)

// refineOS applies platform markers the parser does not know, and falls back to broad
// markers when it recognised no OS at all.
func refineOS(os, ua string) string {
	l := strings.ToLower(ua)
	for _, o := range osOverrides {
		if o.t.match(l) {
			return o.os
		}
	}
	if os != "" {
		return os
	}
	for _, o := range osFallbacks {
		if o.t.match(l) {
			return o.os
		}
	}
	return ""
}

// markedType is the device class a TV, console or car announces in its user agent.
func markedType(l string) string {
	switch {
	case tvMarkers.match(l):
		return "tv"
	case consoleMarkers.match(l):
		return "console"
	case carMarkers.match(l):
		return "car browser"
	}
	return ""
}

// refineType corrects the device type with conventions the parser does not apply: Android
// browsers omit "Mobile" on tablets, and TVs, consoles, feature phones, wearables and cars
// announce themselves with markers of their own.
func refineType(t, ua, os string, hints http.Header) string {
	l := strings.ToLower(ua)
	if m := markedType(l); m != "" {
		return m
	}
	switch os {
	case "Windows", "Mac", "GNU/Linux", "Chrome OS", "FreeBSD":
		// Desktop systems: only an explicit marker (above) changes the class.
		if t == "" || t == "tv" {
			if strings.Contains(l, "mobile") && os != "Windows" {
				return "smartphone"
			}
			return "desktop"
		}
		return t
	}
	switch {
	case featureMarkers.match(l) && !strings.Contains(l, "android") && !strings.Contains(l, "adr "):
		return "feature phone"
	case strings.Contains(l, "android tablet"):
		return "tablet"
	case os == "Windows Phone" || os == "BlackBerry OS" || strings.Contains(l, " phone "):
		return "smartphone"
	case wearMarkers.match(l):
		return "wearable"
	}
	android := os == "Android" || strings.Contains(l, "android") || strings.Contains(l, "adr ")
	if android {
		model := hints.Get("Sec-Ch-Ua-Model")
		if model == "" {
			if m := androidModel.FindStringSubmatch(ua); m != nil {
				model = m[1]
			}
		}
		model = strings.Trim(model, `" `)
		// Vendor prefixes ("SAMSUNG SM-N910A", "Lenovo TB-X606F") hide the model line.
		for _, prefix := range []string{"samsung ", "samsung-", "lenovo ", "lenovo_", "huawei ", "huawei-", "xiaomi ", "zte ", "tecno ", "itel ", "alcatel ", "htc ", "htc_", "lg-", "sony "} {
			if len(model) > len(prefix) && strings.EqualFold(model[:len(prefix)], prefix) {
				model = model[len(prefix):]
				break
			}
		}
		switch {
		case tvModel.MatchString(model):
			return "tv"
		case tabletModel.MatchString(model) && !notTabletModel.MatchString(model):
			return "tablet"
		case phabletModel.MatchString(model):
			return "phablet"
		}
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
	if t == "" {
		switch os {
		case "Windows", "Mac", "GNU/Linux", "Chrome OS", "FreeBSD", "HarmonyOS":
			if !strings.Contains(l, "mobile") {
				return "desktop"
			}
		}
		if strings.Contains(l, "mobile") || os == "iOS" {
			return "smartphone"
		}
	}
	return t
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
	osOverrides = []struct {
		t  tokens
		os string
	}{
		{tokens{"windows phone", "iemobile", "windows mobile", "wpdesktop", "windows ce"}, "Windows Phone"},
		{tokens{"web0s", "webos"}, "webOS"},
		{tokens{"tizen"}, "Tizen"},
		{tokens{"kaios"}, "KaiOS"},
		{tokens{"oculusbrowser", "<quest>"}, "Android"},
		{tokens{"chromebook", "<cros>"}, "Chrome OS"},
		{tokens{"symbian", "symbos", "series60", "series 60", "<s60>"}, "Symbian OS"},
		{tokens{"blackberry", "<bb10>", "rim tablet"}, "BlackBerry OS"},
		{tokens{"nintendo", "playstation"}, "Gaming Console"},
		{tokens{"<brew>"}, "Brew"},
		{tokens{"openharmony", "harmonyos"}, "HarmonyOS"},
	}
	osFallbacks = []struct {
		t  tokens
		os string
	}{
		{tokens{"android", "dalvik"}, "Android"},
		{tokens{"iphone", "ipad", "ipod", "<ios>"}, "iOS"},
		{tokens{"macintosh", "mac os x", "macbook", "imac"}, "Mac"},
		{tokens{"cfnetwork", "darwin/"}, "iOS"},
		{tokens{"windows", "win95", "win98", "winnt", "win32", "win64"}, "Windows"},
		{tokens{"linux", "x11", "ubuntu", "fedora", "debian"}, "GNU/Linux"},
		{tokens{"freebsd", "openbsd", "netbsd", "sunos", "solaris"}, "FreeBSD"},
		{tokens{"midp", "up.browser", "wap2.0", "wap.0", "cldc"}, "RTOS"},
	}
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
