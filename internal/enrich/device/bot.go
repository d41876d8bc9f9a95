package device

import (
	"regexp"
	"strings"
)

var botNames = regexp.MustCompile(`(?i)([a-z0-9_.\-]*(?:bot|crawler|spider|slurp|fetcher|scanner|checker|monitor|preview)[a-z0-9_.\-]*)`)

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
