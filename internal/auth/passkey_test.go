package auth

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"strings"
	"testing"
	"time"

	"hearth/internal/store"
	"hearth/internal/store/sqlite"
)

func TestNewRelyingParty(t *testing.T) {
	cases := []struct {
		public, scheme, host string
		want                 RelyingParty
		err                  error
	}{
		{"", "http", "localhost:8080", RelyingParty{ID: "localhost", Origin: "http://localhost:8080"}, nil},
		{"", "https", "Analytics.Example.org", RelyingParty{ID: "analytics.example.org", Origin: "https://analytics.example.org"}, nil},
		// The configured public URL wins over whatever Host the request carried.
		{"https://analytics.example.org", "http", "evil.example:80", RelyingParty{ID: "analytics.example.org", Origin: "https://analytics.example.org"}, nil},
		{"https://analytics.example.org:8443", "http", "x", RelyingParty{ID: "analytics.example.org", Origin: "https://analytics.example.org:8443"}, nil},
		// WebAuthn relying parties are host names; an address cannot be one.
		{"", "http", "127.0.0.1:8080", RelyingParty{}, ErrPasskeyNeedsHost},
		{"", "http", "[::1]:8080", RelyingParty{}, ErrPasskeyNeedsHost},
		{"", "http", "", RelyingParty{}, ErrPasskeyNeedsHost},
	}
	for _, tc := range cases {
		got, err := NewRelyingParty(tc.public, tc.scheme, tc.host)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("NewRelyingParty(%q, %q, %q) = %+v, %v; want %+v, %v", tc.public, tc.scheme, tc.host, got, err, tc.want, tc.err)
		}
	}
}

func passkeyService(t *testing.T) (*Service, *sqlite.Store, *time.Time) {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	s, meta, _ := testService(t, &now)
	if err := meta.CreateUser(ctx, store.User{Login: "ann", Email: "a@x", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	return s, meta, &now
}

// TestPasskeyOnlyUser: a user whose only second factor is a passkey has 2FA, signs in with a
// recovery code when the passkey is lost (a six-digit code is refused and counted), cannot
// remove the last factor while 2FA is required, and loses everything on a reset.
func TestPasskeyOnlyUser(t *testing.T) {
	ctx := context.Background()
	s, meta, _ := passkeyService(t)
	if on, err := s.Has2FA(ctx, "ann"); on || err != nil {
		t.Fatalf("has 2FA before any factor: %v %v", on, err)
	}
	if err := meta.AddPasskey(ctx, store.Passkey{ID: []byte{1, 2, 3}, Login: "ann", Name: "key", RPID: "localhost", Credential: []byte(`{}`), Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := meta.AddPasskey(ctx, store.Passkey{ID: []byte{1, 2, 3}, Login: "ann", Name: "again", RPID: "localhost", Credential: []byte(`{}`)}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("same credential twice: %v", err)
	}
	if on, err := s.Has2FA(ctx, "ann"); !on || err != nil {
		t.Fatalf("has 2FA with a passkey: %v %v", on, err)
	}
	if on, err := s.HasTOTP(ctx, "ann"); on || err != nil {
		t.Fatalf("has TOTP: %v %v", on, err)
	}
	codes, err := s.recoveryCodesForNewFactor(ctx, "ann", false)
	if err != nil || len(codes) != RecoveryCodes {
		t.Fatalf("codes: %v %v", codes, err)
	}
	if again, err := s.recoveryCodesForNewFactor(ctx, "ann", true); again != nil || err != nil {
		t.Fatalf("a second factor replaced unused recovery codes: %v %v", again, err)
	}
	ip := netip.MustParseAddr("192.0.2.1")
	if err := s.VerifySecondFactor(ctx, "ann", "123456", ip); !errors.Is(err, ErrBadCode) {
		t.Fatalf("TOTP code without TOTP: %v", err)
	}
	if _, byLogin, _ := meta.AuthFailures(ctx, time.Time{}, s.ipHash(ip), "ann"); byLogin != 1 {
		t.Fatalf("failures counted: %d, want 1", byLogin)
	}
	if err := s.VerifySecondFactor(ctx, "ann", codes[3], ip); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if err := s.VerifySecondFactor(ctx, "ann", codes[3], ip); !errors.Is(err, ErrBadCode) {
		t.Fatalf("recovery code twice: %v", err)
	}
	if err := s.SetRequire2FA(ctx, true, "root", ip); err != nil {
		t.Fatal(err)
	}
	if err := s.RemovePasskey(ctx, "ann", []byte{1, 2, 3}, "ann", ip); !errors.Is(err, ErrTOTPRequired) {
		t.Fatalf("removing the last factor while required: %v", err)
	}
	if err := s.RemovePasskey(ctx, "ann", []byte{9}, "ann", ip); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("removing an unknown passkey: %v", err)
	}
	if err := s.Disable2FA(ctx, "ann", "cli", netip.Addr{}); err != nil {
		t.Fatal(err)
	}
	if keys, err := s.Passkeys(ctx, "ann"); len(keys) != 0 || err != nil {
		t.Fatalf("passkeys after reset: %v %v", keys, err)
	}
	if left, err := meta.HasRecoveryCodes(ctx, "ann"); left || err != nil {
		t.Fatalf("recovery codes after reset: %v %v", left, err)
	}
}

// TestPasskeyCeremonies: a ceremony is answered once, only at the relying party it began at,
// and only within its lifetime; answers that are not WebAuthn responses are refused.
func TestPasskeyCeremonies(t *testing.T) {
	ctx := context.Background()
	s, _, now := passkeyService(t)
	rp := RelyingParty{ID: "localhost", Origin: "http://localhost:8080"}
	opts, err := s.BeginPasskeyRegistration(ctx, "ann", rp)
	if err != nil || !bytes.Contains(opts, []byte(`"challenge"`)) || !bytes.Contains(opts, []byte(`"id":"localhost"`)) {
		t.Fatalf("registration options: %s %v", opts, err)
	}
	if bytes.Contains(opts, []byte(`"ann"`)) && bytes.Contains(opts, []byte(`"id":"YW5u"`)) {
		t.Fatal("the user handle is the login")
	}
	if _, err := s.FinishPasskeyRegistration(ctx, "ann", "key", rp, strings.NewReader(`{"id":"x"}`), netip.Addr{}); !errors.Is(err, ErrPasskeyRejected) {
		t.Fatalf("malformed answer: %v", err)
	}
	if _, err := s.FinishPasskeyRegistration(ctx, "ann", "key", rp, strings.NewReader(`{}`), netip.Addr{}); !errors.Is(err, ErrPasskeyCeremony) {
		t.Fatalf("second answer to one ceremony: %v", err)
	}
	if _, err := s.BeginPasskeyRegistration(ctx, "ann", rp); err != nil {
		t.Fatal(err)
	}
	other := RelyingParty{ID: "evil.example", Origin: "https://evil.example"}
	if _, err := s.FinishPasskeyRegistration(ctx, "ann", "key", other, strings.NewReader(`{}`), netip.Addr{}); !errors.Is(err, ErrPasskeyCeremony) {
		t.Fatalf("answer at another relying party: %v", err)
	}
	if _, err := s.BeginPasskeyRegistration(ctx, "ann", rp); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(ceremonyLifetime + time.Second)
	if _, err := s.FinishPasskeyRegistration(ctx, "ann", "key", rp, strings.NewReader(`{}`), netip.Addr{}); !errors.Is(err, ErrPasskeyCeremony) {
		t.Fatalf("late answer: %v", err)
	}
	if _, err := s.FinishPasskeyRegistration(ctx, "ann", " ", rp, strings.NewReader(`{}`), netip.Addr{}); !errors.Is(err, ErrPasskeyName) {
		t.Fatalf("empty name: %v", err)
	}
	if _, err := s.BeginPasskeyLogin(ctx, "ann", rp); !errors.Is(err, ErrNoPasskey) {
		t.Fatalf("sign-in without passkeys: %v", err)
	}
}
