package device

import (
	"encoding/json"
	"net/http"
	"strings"

	"hearth/internal/event"
)

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
