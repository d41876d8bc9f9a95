package device

import "testing"

func TestTokens(t *testing.T) {
	ts := tokens{"<ios>", "aft*", "bot>", "<up/", "plain"}
	cases := map[string]bool{
		"cpu ios 17":        true,
		"bios 3":            false,
		"ios":               true,
		"aftmm build":       true,
		"aft build":         false,
		"googlebot/2.1":     true,
		"robotics":          false,
		"up/4.1":            true,
		"setup/1":           false,
		"something plainly": true,
		"nothing":           false,
	}
	for ua, want := range cases {
		if got := ts.match(ua); got != want {
			t.Errorf("%q: %v, want %v", ua, got, want)
		}
	}
}
