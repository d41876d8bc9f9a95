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

var (
	// strongBot marks user agents that only automated clients send: exploit probes, a
	// contact URL, monitoring and scanning tools, load generators, link expanders.
	strongBot = tokens{"${jndi:", "<?", "+http://", "+https://", "health check", "healthcheck", "monitor", "exporter",
		"collectd", "datadog", "munin", "nagios", "zabbix", "prometheus", "arachni", "nikto", "sqlmap", "nessus", "scanner",
		"cloudflare", "link expander", "linkexpander", "image proxy", "imageproxy", "(via ", "feed parser", "feedparser",
		"preview", "validator", "checker", "fetcher", "<k6/", "gatling", "jmeter", "locust", "wrk/", "httpie", "axios/",
		"node-fetch", "undici", "request-promise", "aiohttp", "guzzle", "libcurl", "winhttp", "postman", "insomnia"}
	// contactAddress is an e-mail address, and botURL a URL naming a bot: both only in bots.
	contactAddress = regexp.MustCompile(`[a-z0-9._%-]+(@|\[at\])[a-z0-9.-]+\.[a-z]{2,}`)
	botURL         = regexp.MustCompile(`https?://[^ ;)]*\b(bot|crawler|spider)`)
	// botWord is the word bots name themselves with; device brands that end in "bot" are
	// vetoed by humanClient first.
	botWord = tokens{"bot>", "crawler>", "spider>"}
	// weakBot words mark a bot only in user agents that name no platform.
	weakBot = tokens{"search", "scan", "security", "audit", "recon", "hack", "owned", "research", "sitemap", "prefetch",
		"lookup", "gitops", "copilot", "indexinfo", "discovery", "placeholder", "leadgen", "useragent", "user agent",
		"dummy connection", "externalhit", "external hit", "externalagent", "external agent", "externalads", "-ai>",
		"agent", "client", "http", "parser", "worker", "service", "node", "test"}

	// humanClient marks people's software that crawler lists tend to catch: office suites
	// fetching a link, old Internet Explorer builds, vintage browsers, readers and players.
	humanClient = tokens{"microsoft office", "<word/", "<excel/", "<powerpoint/", "<outlook/", "<onenote/", "msoffice",
		"mosaic", "amigavoyager", "reeder/", ".net clr", "trident/", "mojeek-app", "offbyone", "webster pro", "surfshark",
		"bdos/", "nintendo ds", "cfnetwork", "ucweb", "ucbrowser", "midp", "bookshelf", "fban/", "fbav/", "reader", "podcast",
		"podcatcher", "libvlc", "vlc/", "downloadmanager", "pinterest for", "tiktok", "cronet", "emacs",
		"windows-media-player", "exoplayer", "boomplay", "liferea", "netnewswire", "feeddemon", "rssowl", "rssbandit",
		"quiterss", "feedstation", "akregator", "dalvik", "mobile app", "cubot"}
	// platformToken is present in the user agents of browsers and apps on real devices.
	platformToken = tokens{"mozilla", "opera", "android", "iphone", "ipad", "ipod", "<ios>", "windows", "macintosh", "macos",
		"mac os", "linux", "cfnetwork", "darwin", "dalvik", "blackberry", "symbian", "series40", "series 40", "series60",
		"series 60", "midp", "up.browser", "nokia", "samsung", "sonyericsson", "<lg", "profile/", "kaios", "tizen",
		"playstation", "nintendo", "xbox", "j2me", "brew", "webos", "roku", "smarttv", "hbbtv", "dart:io", "okhttp", "cronet",
		"ucbrowser", "uc browser", "vlc", "kodi", "itunes", "winamp", "foobar", "rss", "feed", "podcast", "mail",
		"thunderbird", "outlook", "lynx", "links", "w3m", "elinks", "dillo", "netsurf", "konqueror", "qt", "gtk", "electron",
		"curl", "browser", "<wap", "mre/", "maui", "docomo", "<up/", "lcd/", "screen-", "<win7>", "<win8>", "<win10>",
		"<win11>", "<win32>", "<win64>", "<winxp>", "osx", "amiga", "wtos", "player", "syndication", "pubsub", "podca",
		"mpv", "audacious", "galaxy", "hmos", "harmony", "appletv", "watchos", "tvos"}
	// botHint marks user agents with a platform that still describe a service rather than a
	// person's browser: a compatible-mode token, a URL, feed and subscriber counts, named tools.
	botHint = tokens{"compatible;", "http://", "https://", "(http:", "(https:", "<google-", "<google ", "feed", "rss", "subscriber",
		"crawl", "slurp", "survey", "audit", "indexer", "proxy", "favicon", "statuscake", "optimizer", "resolver",
		"siteimprove", "transcoder", "nutch", "datanyze", "gtmetrix", "jeeves", "mutant", "exchange check", "brandverity",
		"project-", "whatcms", "dmbrowser", "outbrain", "adbeat", "patchwatch", "catchpoint", "<bw/"}
	versionedProduct = regexp.MustCompile(`[A-Za-z][\w .+-]*/v?\d`)
)

// isBot combines Hearth's rules with the crawler list's and the parser's verdicts. The
// crawler list is only believed for user agents without a platform, or with a hint of a
// service, because it also matches people's apps (office suites, podcast players, in-app
// browsers). User agents that name neither a platform nor a versioned product
// ("NameOfAgent", "Hello World") are automated: browsers name a platform, apps and libraries
// announce themselves as name/version.
func isBot(ua string, crawler func(string) bool, parserBot bool) bool {
	l := strings.ToLower(ua)
	if isBotByRule(l) || strongBot.match(l) ||
		(strings.Contains(l, "http") && botURL.MatchString(l)) ||
		((strings.Contains(l, "@") || strings.Contains(l, "[at]")) && contactAddress.MatchString(l)) {
		return true
	}
	if humanClient.match(l) {
		return false
	}
	if botWord.match(l) {
		return true
	}
	platform := platformToken.match(l)
	if !platform && (weakBot.match(l) || !versionedProduct.MatchString(ua)) {
		return true
	}
	if platform && !botHint.match(l) {
		return false
	}
	// The crawler list is the costliest check (a large regular expression): last, and on at
	// most the first 256 bytes, where bots name themselves.
	if len(ua) > 256 {
		ua = ua[:256]
	}
	return parserBot || crawler(ua)
}

// isBotByRule matches well-known bots by name; l is the lower-cased user agent.
func isBotByRule(l string) bool {
	for _, s := range []string{"headlesschrome", "phantomjs", "scrapy", "lighthouse", "pingdom", "uptimerobot", "facebookexternalhit", "slackbot", "telegrambot", "bingpreview", "mediapartners", "googlebot", "bingbot"} {
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
		if d.Brand == "" {
			d.Brand = brandOf(model)
		}
	}
}

// majorMinor keeps a version's first two parts ("120.0.6099.71" → "120.0"), as Matomo's
// detector reports browser versions.
func majorMinor(v string) string {
	parts := strings.SplitN(v, ".", 3)
	if len(parts) > 2 {
		return parts[0] + "." + parts[1]
	}
	return v
}

// brandPrefixes name the maker of a device from its model's prefix (lower case).
var brandPrefixes = []struct{ prefix, brand string }{
	{"sm-", "Samsung"}, {"gt-", "Samsung"}, {"sgh-", "Samsung"}, {"sch-", "Samsung"}, {"shv-", "Samsung"},
	{"sph-", "Samsung"}, {"shw-", "Samsung"}, {"ek-g", "Samsung"}, {"galaxy", "Samsung"},
	{"pixel", "Google"}, {"nexus", "Google"},
	{"redmi", "Xiaomi"}, {"mi ", "Xiaomi"}, {"poco", "POCO"}, {"mix ", "Xiaomi"},
	{"moto", "Motorola"}, {"xt1", "Motorola"}, {"xt2", "Motorola"}, {"mot-", "Motorola"},
	{"ta-1", "Nokia"}, {"lumia", "Nokia"},
	{"lm-", "LG"}, {"lg-", "LG"}, {"lgl", "LG"}, {"lgms", "LG"}, {"lgus", "LG"}, {"xperia", "Sony"},
	{"rmx", "Realme"}, {"kindle", "Amazon"}, {"kf", "Amazon"}, {"aft", "Amazon"},
	{"camon", "Tecno Mobile"}, {"spark ", "Tecno Mobile"}, {"pova", "Tecno Mobile"}, {"phantom", "Tecno Mobile"},
	{"zenfone", "Asus"}, {"asus_", "Asus"},
	// Makers' names run together with the model ("vivoX21"): after brandNames, which needs a
	// separator.
	{"xiaomi", "Xiaomi"}, {"nokia", "Nokia"}, {"oneplus", "OnePlus"}, {"huawei", "Huawei"}, {"honor", "Honor"},
	{"vivo", "Vivo"}, {"oppo", "OPPO"}, {"lenovo", "Lenovo"}, {"samsung", "Samsung"},
}

// brandNames are makers whose model names begin with the maker's own name ("TECNO KA6",
// "Lenovo TB-X606F", "HTC_One_max", "ZTE A2121E"), by that first word in lower case.
var brandNames = map[string]string{
	"alcatel": "Alcatel", "archos": "Archos", "asus": "Asus", "blackberry": "BlackBerry", "blackview": "Blackview",
	"blu": "BLU", "bq": "bq", "coolpad": "Coolpad", "cubot": "Cubot", "doogee": "DOOGEE", "fairphone": "Fairphone",
	"gionee": "Gionee", "google": "Google", "hisense": "Hisense", "honor": "Honor", "htc": "HTC", "huawei": "Huawei",
	"infinix": "Infinix", "itel": "itel", "kyocera": "Kyocera", "lava": "Lava", "lenovo": "Lenovo", "lg": "LG",
	"meizu": "Meizu", "micromax": "Micromax", "motorola": "Motorola", "nokia": "Nokia", "nothing": "Nothing",
	"oneplus": "OnePlus", "oppo": "OPPO", "oukitel": "Oukitel", "panasonic": "Panasonic", "philips": "Philips",
	"prestigio": "Prestigio", "realme": "Realme", "samsung": "Samsung", "sharp": "Sharp", "sony": "Sony",
	"tcl": "TCL", "tecno": "Tecno Mobile", "ulefone": "Ulefone", "umidigi": "UMIDIGI", "vivo": "Vivo",
	"wiko": "Wiko", "xiaomi": "Xiaomi", "zte": "ZTE",
}

// brandCodes are model-code conventions of makers whose models do not carry their name.
var brandCodes = []struct {
	re    *regexp.Regexp
	brand string
}{
	{regexp.MustCompile(`^(SC-\d\d[A-Z]|SCV\d\d|SCG\d\d)$`), "Samsung"},                   // Japanese carriers' Galaxy models
	{regexp.MustCompile(`^M?2[0-4](0[1-9]|1[0-2])[0-9A-Z]{3,7}$`), "Xiaomi"},              // year and month of release: M2006C3LG, 2107113SG
	{regexp.MustCompile(`^[VI][12]\d{3}[A-Z]{0,2}$`), "Vivo"},                             // V2229A, I2012
	{regexp.MustCompile(`^(CPH\d{4}|P[A-H][A-Z]{2}\d{2})$`), "OPPO"},                      // CPH2185, PDCM00
	{regexp.MustCompile(`^(GM19|HD19|IN20|KB20|LE21|NE22)\d\d$`), "OnePlus"},              // GM1913, KB2003
	{regexp.MustCompile(`^[A-Z]{3}-(A?L|TL|LX|N|W|AN|NX)\d{1,2}[A-Z]?$`), "Huawei"},       // VOG-L29, MAR-LX1A
	{regexp.MustCompile(`^(SO-\d\d[A-Z]|SOV\d\d|SOG\d\d|A?\d{3}SO|[C-J]\d{4})$`), "Sony"}, // SO-41A, A302SO, G8341
	{regexp.MustCompile(`^(SH-\d\d[A-Z]|SHV\d\d|SHG\d\d|A?\d{3}SH)$`), "Sharp"},
	{regexp.MustCompile(`^(KYV\d\d|KY-\d\d[A-Z]|A?\d{3}KC)$`), "Kyocera"},
	{regexp.MustCompile(`^A?\d{3}ZT$`), "ZTE"},
	{regexp.MustCompile(`^(XT\d{3,4}|MB\d{3})[A-Z]?$`), "Motorola"},
	{regexp.MustCompile(`^TB-?[0-9X]\d{2,}`), "Lenovo"},                                  // TB-X606F
	{regexp.MustCompile(`^((ZB|ZC|ZE|ZS|ZD)\d{3}[A-Z]{2}|[XZI]00[0-9A-Z]{2})$`), "Asus"}, // ZC554KL, X00TD
	{regexp.MustCompile(`^(OT-)?\d{4}[A-Z]{1,2}$`), "Alcatel"},                           // 5086A, 4063T
}

// brandOf names the maker of a device model, from its own name, its prefix or its maker's
// code conventions; "" when none tells.
func brandOf(model string) string {
	model = strings.TrimSpace(model)
	if model == "" {
		return ""
	}
	l := strings.ToLower(model)
	first := l
	if i := strings.IndexAny(l, " _-"); i > 0 {
		first = l[:i]
	}
	if b, ok := brandNames[first]; ok && len(first) < len(l) {
		return b
	}
	for _, b := range brandPrefixes {
		if strings.HasPrefix(l, b.prefix) {
			return b.brand
		}
	}
	for _, c := range brandCodes {
		if c.re.MatchString(model) {
			return c.brand
		}
	}
	return ""
}

// uaBrands are makers a user agent names outside a model: consoles, TV platforms, build tags.
var uaBrands = []struct{ marker, brand string }{
	{"Build/HUAWEI", "Huawei"}, {"Build/HONOR", "Honor"}, {"PlayStation", "Sony"}, {"BRAVIA", "Sony"},
	{"Nintendo", "Nintendo"}, {"Xbox", "Microsoft"}, {"Web0S", "LG"}, {"webOS.TV", "LG"}, {"NetCast", "LG"},
	{"SMART-TV; Linux; Tizen", "Samsung"}, {"SmartTV; Tizen", "Samsung"}, {"Roku/", "Roku"}, {"CrKey", "Google"},
	{"BlackBerry", "BlackBerry"}, {"BB10", "BlackBerry"}, {"Kindle", "Amazon"}, {"Silk/", "Amazon"},
}

// brandModel names the maker and model the user agent reveals: Apple's devices by name, an
// Android device's model as it writes it and its maker by the model's name or code. Client
// hints, applied after, may name the model more precisely.
func brandModel(d *event.Device, ua string) {
	switch {
	case strings.Contains(ua, "iPhone"):
		d.Brand, d.Model = "Apple", "iPhone"
	case strings.Contains(ua, "iPad"):
		d.Brand, d.Model = "Apple", "iPad"
	case strings.Contains(ua, "iPod"):
		d.Brand, d.Model = "Apple", "iPod Touch"
	case strings.Contains(ua, "AppleTV") || strings.Contains(ua, "tvOS"):
		d.Brand, d.Model = "Apple", "Apple TV"
	case strings.Contains(ua, "watchOS") || strings.HasPrefix(ua, "Watch"):
		d.Brand, d.Model = "Apple", "Apple Watch"
	case strings.Contains(ua, "Macintosh") || strings.Contains(ua, "Darwin/") || strings.Contains(ua, "CFNetwork/") ||
		d.OS == "iOS" || d.OS == "Mac" || d.OS == "iPadOS":
		d.Brand = "Apple" // Apple's own platforms and their apps' network library
	case d.OS == "Android":
		if m := androidModel.FindStringSubmatch(ua); m != nil && m[1] != "K" && !strings.EqualFold(m[1], "wv") && !strings.HasPrefix(m[1], "Linux") {
			// Chrome's reduced user agent says "K": no model (client hints may name it).
			d.Model = strings.TrimSpace(m[1])
			d.Brand = brandOf(d.Model)
		}
	}
	if d.Brand == "" {
		for _, b := range uaBrands {
			if strings.Contains(ua, b.marker) {
				d.Brand = b.brand
				break
			}
		}
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
