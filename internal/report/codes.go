package report

import (
	"strings"

	"hearth/internal/store"
)

// browserCodes are the short codes Matomo's device detection gives the browsers Hearth names:
// the values Matomo's browserCode segment takes (browserCode==FF). Hearth stores the names.
var browserCodes = map[string]string{
	"AN": "Android Browser", "BR": "Brave", "CH": "Chrome", "CI": "Chrome Mobile iOS", "CM": "Chrome Mobile",
	"CR": "Chromium", "CV": "Chrome Webview", "F1": "Firefox iOS", "FF": "Firefox", "FK": "Firefox Focus",
	"FM": "Firefox Mobile", "IE": "Internet Explorer", "IM": "IE Mobile", "MF": "Mobile Safari", "MS": "Mobile Silk",
	"OI": "Opera Mini", "OM": "Opera Mobile", "OO": "Opera Touch", "OP": "Opera", "OX": "Opera GX",
	"PS": "Microsoft Edge", "SB": "Samsung Browser", "SF": "Safari", "UC": "UC Browser", "VI": "Vivaldi",
	"YA": "Yandex Browser",
}

// osCodes are the same for operatingSystemCode (operatingSystemCode==WIN).
var osCodes = map[string]string{
	"AND": "Android", "BLB": "BlackBerry OS", "BMP": "Brew", "BSD": "FreeBSD", "COS": "Chrome OS",
	"HAR": "HarmonyOS", "IOS": "iOS", "KOS": "KaiOS", "LIN": "GNU/Linux", "MAC": "Mac", "NBS": "NetBSD",
	"OBS": "OpenBSD", "SYS": "Symbian OS", "TIZ": "Tizen", "WIN": "Windows", "WMO": "Windows Mobile",
	"WOS": "webOS", "WPH": "Windows Phone",
}

// codesOf and namesOf are the code tables by the stored field they stand for.
var (
	codesOf = map[store.Field]map[string]string{store.FieldBrowser: browserCodes, store.FieldOS: osCodes}
	namesOf = map[store.Field]map[string]string{store.FieldBrowser: invert(browserCodes), store.FieldOS: invert(osCodes)}
)

func invert(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[v] = k
	}
	return out
}

// nameOfCode is the stored name a Matomo short code stands for in a segment on field f, or
// the value itself (Hearth's own names work too).
func nameOfCode(f store.Field, value string) string {
	if name, ok := codesOf[f][strings.ToUpper(strings.TrimSpace(value))]; ok {
		return name
	}
	return value
}

// codeOfName is the Matomo short code of a stored browser or OS name, for the segment a
// report row offers, or the name itself when Matomo has no code for it (or f has no codes).
func codeOfName(f store.Field, name string) string {
	if code, ok := namesOf[f][name]; ok {
		return code
	}
	return name
}
