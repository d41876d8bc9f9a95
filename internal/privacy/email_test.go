package privacy

import (
	"strings"
	"testing"

	"hearth/internal/fuzzseed"
)

func TestRedactEmails(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/p/jane.doe@corp.example", "/p/[email]"},
		{"https://shop.example/account?email=jane.doe%40corp.example&x=1", "https://shop.example/account?email=[email]&x=1"},
		{"https://shop.example/?email=Jane.Doe%40Corp.Example", "https://shop.example/?email=[email]"},
		{"https://shop.example/?e=jane%2Btag%40corp.example", "https://shop.example/?e=[email]"},
		{"https://shop.example/?e=jane%2Edoe%40corp.example", "https://shop.example/?e=[email]"},
		{"https://a.example/?next=%2Fprofile%3Femail%3Djane%40corp.example", "https://a.example/?next=%2Fprofile%3Femail%3D[email]"},
		{"Welcome back, jane+news@mail.corp.example!", "Welcome back, [email]!"},
		{"two: a@b.example, c.d@e.example.org", "two: [email], [email]"},
		{"mailto:someone@example.org", "mailto:[email]"},
		{"search for JANE@EXAMPLE.COM please", "search for [email] please"},
		// Encoded twice: a URL carried in another URL's parameter.
		{"/login?next=https%3A%2F%2Fx.example%2F%3Femail%3Djane%2540corp.example", "/login?next=https%3A%2F%2Fx.example%2F%3Femail%3D[email]"},
		{"?u=user%2540gmail.com&x=1", "?u=[email]&x=1"},
		{"?u=jane%252Edoe%2540corp.example", "?u=[email]"},
		{"o'brien@corp.example", "[email]"},
		// Not addresses.
		{"/img/logo@2x.png", "/img/logo@2x.png"},
		{"/npm/pkg@1.2.3/index.js", "/npm/pkg@1.2.3/index.js"},
		{"user@localhost", "user@localhost"},
		{"@handle on social", "@handle on social"},
		{"price 5 @ 3.50 EUR", "price 5 @ 3.50 EUR"},
		{"no at-sign here", "no at-sign here"},
		{"", ""},
	} {
		if got := RedactEmails(tc.in); got != tc.want {
			t.Errorf("RedactEmails(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"https://jane@corp.example/path", "https://corp.example/path"},
		{"https://user:secret@corp.example/?q=1", "https://corp.example/?q=1"},
		{"https://www.google.com/search?q=jane.doe%40corp.example", "https://www.google.com/search?q=[email]"},
		{"https://corp.example/a", "https://corp.example/a"},
		{"not a url jane@corp.example", "not a url [email]"},
		{"https://user:p w@corp.example/x", "https://corp.example/x"},
		{"https://user:pa%zz@corp.example/x?q=1", "https://corp.example/x?q=1"},
	} {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzRedactEmails(f *testing.F) {
	fuzzseed.Strings(f, "FuzzRedactEmails", 1)
	f.Fuzz(func(t *testing.T, s string) {
		out := RedactEmails(s)
		if again := RedactEmails(out); again != out {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, out, again)
		}
		if emailPattern.MatchString(strings.ReplaceAll(out, EmailPlaceholder, " ")) {
			// Whatever still matches must be one of the deliberate exceptions.
			for _, m := range emailPattern.FindAllString(strings.ReplaceAll(out, EmailPlaceholder, " "), -1) {
				i := strings.LastIndexByte(m, '.')
				if i < 0 || !fileSuffixes[strings.ToLower(m[i+1:])] {
					t.Fatalf("an address is left in %q: %q", out, m)
				}
			}
		}
	})
}

// BenchmarkRedactEmails: the cost per tracked text, for the common case (no at-sign, a URL
// with digits) against one holding an address.
func BenchmarkRedactEmails(b *testing.B) {
	for _, bc := range []struct{ name, s string }{
		{"no address", "https://clinic.example/news/2024/page-40?id=1400&ref=home"},
		{"address", "https://clinic.example/account?email=jane.doe%40corp.example&x=1"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_ = RedactEmails(bc.s)
			}
		})
	}
}
