package device

import "strings"

// BrowserFamily groups a browser name the way Matomo's browser families do: Chromium-based
// browsers are "Chrome", mobile variants join their desktop family.
func BrowserFamily(name string) string {
	switch name {
	case "":
		return "Unknown"
	case "Chrome", "Chrome Mobile", "Chrome Mobile iOS", "Chrome Webview", "Chromium", "Microsoft Edge", "Samsung Browser", "Yandex Browser",
		"Vivaldi", "Brave", "Mobile Silk", "Amazon Silk":
		return "Chrome"
	case "Firefox", "Firefox Mobile", "Firefox Focus", "Firefox iOS":
		return "Firefox"
	case "Safari", "Mobile Safari":
		return "Safari"
	case "Opera", "Opera Mini", "Opera Mobile", "Opera Touch", "Opera GX":
		return "Opera"
	case "Internet Explorer", "IE Mobile":
		return "Internet Explorer"
	case "Android Browser":
		return "Android Browser"
	}
	if strings.HasPrefix(name, "Opera") {
		return "Opera"
	}
	return name
}

// OSFamily groups an OS name the way Matomo's OS families do.
func OSFamily(name string) string {
	switch name {
	case "":
		return "Unknown"
	case "Windows Phone", "Windows Mobile":
		return "Windows Mobile"
	case "Mac", "iOS", "Android", "Chrome OS", "GNU/Linux":
		return name
	case "FreeBSD", "OpenBSD", "NetBSD":
		return "Unix"
	case "webOS", "Tizen":
		return "Other Mobile"
	case "KaiOS":
		return "Firefox OS"
	case "Symbian OS":
		return "Symbian"
	case "BlackBerry OS":
		return "BlackBerry"
	case "RTOS":
		return "Real-time OS"
	case "HarmonyOS":
		return "Android"
	}
	return name
}
