package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/argon2"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/store"
	"hearth/internal/store/sqlite"
)

var testIP = netip.MustParseAddr("198.51.100.4")

// testMeta opens a metadata store in the test's temporary folder, closed when the test ends.
func testMeta(t *testing.T) *sqlite.Store {
	t.Helper()
	meta, err := sqlite.Open(context.Background(), sqlite.Options{Path: filepath.Join(t.TempDir(), "m.db"), Key: bytes.Repeat([]byte{9}, 64)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { meta.Close() })
	return meta
}

// testService is a Service on a fresh metadata store (testMeta) whose clock reads *now, so a
// test moves time by changing it, and whose audit events are recorded.
func testService(t *testing.T, now *time.Time) (*Service, *sqlite.Store, *recorded) {
	t.Helper()
	meta := testMeta(t)
	rec := &recorded{}
	s := New(Options{Meta: meta, TokenKey: []byte("tk"), Audit: rec, Now: func() time.Time { return *now }})
	return s, meta, rec
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("unexpected encoding %s", h)
	}
	if !VerifyPassword(h, "correct horse battery") || VerifyPassword(h, "correct horse batterz") {
		t.Fatal("verify wrong")
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("salt not random")
	}
	for _, bad := range []string{"", "$argon2id$", "$argon2id$v=19$m=0,t=1,p=1$AA$AA", "$bcrypt$x$y$z$w"} {
		if VerifyPassword(bad, "x") {
			t.Fatalf("accepted %q", bad)
		}
	}
	if CheckPasswordPolicy("short") == nil || CheckPasswordPolicy("long enough pass") != nil {
		t.Fatal("policy wrong")
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s, meta, _ := testService(t, &now)
	if err := meta.CreateUser(ctx, store.User{Login: "root", Email: "r@x", PasswordHash: "x", Superuser: true}); err != nil {
		t.Fatal(err)
	}
	tok, _, err := s.NewToken(ctx, "root", "ci", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 32 {
		t.Fatalf("token %q", tok)
	}
	p, err := s.Token(ctx, tok, false, testIP)
	if err != nil || !p.IsSuperuser() {
		t.Fatalf("token auth: %v", err)
	}
	stored, _ := meta.TokenByHash(ctx, s.HashToken(tok))
	if bytes.Contains(stored.Hash, []byte(tok)) {
		t.Fatal("plaintext token stored")
	}
	other := New(Options{Meta: meta, TokenKey: []byte("other-key")})
	if _, err := other.Token(ctx, tok, false, testIP); !errors.Is(err, ErrBadCredentials) {
		t.Fatal("hash must be keyed")
	}
	for _, bad := range []string{"", "anonymous", strings.Repeat("z", 32), tok[:31]} {
		if _, err := s.Token(ctx, bad, false, testIP); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("accepted %q", bad)
		}
	}
	exp, _, _ := s.NewToken(ctx, "root", "short", now.Add(time.Hour))
	if _, err := s.Token(ctx, exp, false, testIP); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Hour)
	if _, err := s.Token(ctx, exp, false, testIP); !errors.Is(err, ErrBadCredentials) {
		t.Fatal("expired token accepted")
	}
	ro, _, _ := s.NewToken(ctx, "root", "read only", time.Time{}, ReadOnly)
	if p, err := s.Token(ctx, ro, false, testIP); err != nil || !p.CanView(1) || p.CanWrite(1) || s.CanTrackPrivileged(ctx, ro, 1, testIP) {
		t.Fatal("a read-only token must read but never write or send privileged tracking parameters")
	}
	if !s.CanTrackPrivileged(ctx, tok, 1, testIP) || s.CanTrackPrivileged(ctx, "0123456789abcdef0123456789abcdef", 1, testIP) {
		t.Fatal("privileged tracking check wrong")
	}
}

func TestPasswordPolicyCases(t *testing.T) {
	cases := []struct {
		pw      string
		ctx     []string
		wantErr error
	}{
		{"short", nil, ErrWeakPassword},
		{"Password1234", nil, ErrCommonPassword},
		{"correct horse battery staple", nil, ErrCommonPassword},
		{"aaaaaaaaaaaaaa", nil, ErrPasswordPattern},
		{"123456789012345", nil, ErrPasswordPattern},
		{"qwertyuiopqwer", nil, ErrPasswordPattern},
		{"alice-rocks-2026!", []string{"alice", "alice@example.org"}, ErrPasswordLogin},
		{"my clinic analytics passphrase", []string{"admin", "admin@example.org"}, nil},
		{"tR4!vel-north-77", nil, nil},
	}
	for _, tc := range cases {
		if err := CheckPasswordPolicy(tc.pw, tc.ctx...); !errors.Is(err, tc.wantErr) && !(err == nil && tc.wantErr == nil) {
			t.Errorf("%q: %v, want %v", tc.pw, err, tc.wantErr)
		}
	}
}

type recorded struct {
	actions []string
	events  []audit.Event
}

func (r *recorded) Record(_ context.Context, ev audit.Event) error {
	r.actions = append(r.actions, ev.Action)
	r.events = append(r.events, ev)
	return nil
}

func TestBruteForceProtection(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	s, meta, rec := testService(t, &now)
	hash, _ := HashPassword("the right passphrase")
	if err := meta.CreateUser(ctx, store.User{Login: "ann", Email: "a@x", PasswordHash: hash, Superuser: true}); err != nil {
		t.Fatal(err)
	}
	tok, _, _ := s.NewToken(ctx, "ann", "t", time.Time{})
	attacker := netip.MustParseAddr("203.0.113.66")
	for i := 0; i < MaxIPFailures+1; i++ {
		if _, err := s.Password(ctx, "ann", "guess", attacker); !errors.Is(err, ErrBadCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	// Blocked: even the right password and a valid token fail, exactly like a wrong password.
	if _, err := s.Password(ctx, "ann", "the right passphrase", attacker); !errors.Is(err, ErrBadCredentials) || err.Error() != ErrBadCredentials.Error() {
		t.Fatalf("blocked client with the right password: %v", err)
	}
	if _, err := s.Token(ctx, tok, true, attacker); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("blocked client with a valid token: %v", err)
	}
	// Another client is not affected.
	if _, err := s.Password(ctx, "ann", "the right passphrase", testIP); err != nil {
		t.Fatalf("other client: %v", err)
	}
	// The block lapses after the window.
	now = now.Add(FailureWindow + time.Minute)
	if _, err := s.Password(ctx, "ann", "the right passphrase", attacker); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	// A distributed attack locks the login.
	for i := 0; i < MaxLoginFailures+1; i++ {
		ip := netip.AddrFrom4([4]byte{10, 0, byte(i / 250), byte(i % 250)})
		_, _ = s.Password(ctx, "ann", "guess", ip)
	}
	if _, err := s.Password(ctx, "ann", "the right passphrase", testIP); !errors.Is(err, ErrBadCredentials) {
		t.Fatalf("locked login accepted: %v", err)
	}
	if n, err := s.Unlock(ctx, "ann", "cli"); err != nil || n < MaxLoginFailures {
		t.Fatalf("unlock cleared %d, %v", n, err)
	}
	if _, err := s.Password(ctx, "ann", "the right passphrase", testIP); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	for i := 0; i < MaxIPFailures+1; i++ {
		_, _ = s.Token(ctx, "0123456789abcdef0123456789abcdef", true, attacker)
	}
	if _, err := s.Token(ctx, tok, true, attacker); !errors.Is(err, ErrBadCredentials) {
		t.Fatal("bad tokens must block the client too")
	}
	if n, err := s.UnblockIP(ctx, attacker, "cli"); err != nil || n == 0 {
		t.Fatalf("unblock: %d %v", n, err)
	}
	if _, err := s.Token(ctx, tok, true, attacker); err != nil {
		t.Fatalf("after unblock: %v", err)
	}
	got := strings.Join(rec.actions, ",")
	for _, want := range []string{audit.ActionAuthFailure, audit.ActionAuthBlock, audit.ActionAuthLockout, audit.ActionAuthUnlock, audit.ActionAuthUnblock} {
		if !strings.Contains(got, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
	if c := strings.Count(got, audit.ActionAuthLockout); c != 1 {
		t.Errorf("lockout recorded %d times", c)
	}
}

func TestSessions(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	s, meta, rec := testService(t, &now)
	if err := meta.CreateUser(ctx, store.User{Login: "ann", Email: "a@x", PasswordHash: "x", Superuser: true}); err != nil {
		t.Fatal(err)
	}
	first, err := s.StartSession(ctx, "ann", "", testIP)
	if err != nil || len(first) < 40 {
		t.Fatalf("start: %q %v", first, err)
	}
	if p, err := s.SessionPrincipal(ctx, first, testIP); err != nil || p.User.Login != "ann" {
		t.Fatalf("resolve: %v", err)
	}
	// Signing in again rotates: the old cookie stops working.
	second, _ := s.StartSession(ctx, "ann", first, testIP)
	if _, err := s.SessionPrincipal(ctx, first, testIP); !errors.Is(err, ErrNoSession) {
		t.Fatal("the previous session survived a new sign-in")
	}
	// Idle timeout.
	now = now.Add(31 * time.Minute)
	if _, err := s.SessionPrincipal(ctx, second, testIP); !errors.Is(err, ErrNoSession) {
		t.Fatal("idle session still valid")
	}
	// Absolute lifetime, even with steady activity.
	third, _ := s.StartSession(ctx, "ann", "", testIP)
	for i := 0; i < 12*6; i++ {
		now = now.Add(10 * time.Minute)
		if _, err := s.SessionPrincipal(ctx, third, testIP); err != nil {
			t.Fatalf("active session ended after %v: %v", time.Duration(i+1)*10*time.Minute, err)
		}
	}
	now = now.Add(10 * time.Minute)
	if _, err := s.SessionPrincipal(ctx, third, testIP); !errors.Is(err, ErrNoSession) {
		t.Fatal("session outlived its absolute lifetime")
	}
	// Ending a user's sessions (password change).
	fourth, _ := s.StartSession(ctx, "ann", "", testIP)
	if n, err := s.EndUserSessions(ctx, "ann"); err != nil || n != 1 {
		t.Fatalf("end sessions: %d %v", n, err)
	}
	if _, err := s.SessionPrincipal(ctx, fourth, testIP); !errors.Is(err, ErrNoSession) {
		t.Fatal("session survived the user's password change")
	}
	for _, bad := range []string{"", "nonsense", strings.Repeat("a", 500)} {
		if _, err := s.SessionPrincipal(ctx, bad, testIP); !errors.Is(err, ErrNoSession) {
			t.Fatalf("cookie %q accepted", bad)
		}
	}
	got := strings.Join(rec.actions, ",")
	if strings.Count(got, audit.ActionSessionExpire) != 2 || strings.Count(got, audit.ActionLogin) != 4 {
		t.Fatalf("audit: %s", got)
	}
}

func TestTOTP(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 8, 0, 10, 0, time.UTC)
	s, meta, rec := testService(t, &now)
	if err := meta.CreateUser(ctx, store.User{Login: "ann", Email: "a@x", PasswordHash: "x"}); err != nil {
		t.Fatal(err)
	}
	setup, err := s.BeginTOTP(ctx, "ann")
	if err != nil || len(setup.Secret) < 16 || !strings.HasPrefix(setup.URI, "otpauth://totp/Hearth:ann?") || !strings.HasPrefix(setup.QRPNG, "data:image/png;base64,") {
		t.Fatalf("begin: %+v %v", setup, err)
	}
	code := func(at time.Time) string {
		c, err := totp.GenerateCodeCustom(setup.Secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if on, _ := s.Has2FA(ctx, "ann"); on {
		t.Fatal("2FA on before confirmation")
	}
	if _, err := s.ConfirmTOTP(ctx, "ann", "000000", testIP); !errors.Is(err, ErrBadCode) {
		t.Fatalf("wrong first code: %v", err)
	}
	codes, err := s.ConfirmTOTP(ctx, "ann", code(now), testIP)
	if err != nil || len(codes) != RecoveryCodes {
		t.Fatalf("confirm: %v %v", codes, err)
	}
	// The code used to confirm cannot be replayed; the next step's code works, once.
	if err := s.VerifySecondFactor(ctx, "ann", code(now), testIP); !errors.Is(err, ErrBadCode) {
		t.Fatalf("replay accepted: %v", err)
	}
	now = now.Add(30 * time.Second)
	if err := s.VerifySecondFactor(ctx, "ann", code(now), testIP); err != nil {
		t.Fatalf("next code: %v", err)
	}
	if err := s.VerifySecondFactor(ctx, "ann", code(now), testIP); !errors.Is(err, ErrBadCode) {
		t.Fatal("same code twice")
	}
	// One step of drift is tolerated, two are not.
	now = now.Add(5 * time.Minute)
	if err := s.VerifySecondFactor(ctx, "ann", code(now.Add(30*time.Second)), testIP); err != nil {
		t.Fatalf("one step ahead: %v", err)
	}
	if err := s.VerifySecondFactor(ctx, "ann", code(now.Add(-90*time.Second)), testIP); !errors.Is(err, ErrBadCode) {
		t.Fatal("three steps behind accepted")
	}
	// Recovery codes are single-use, case and dash insensitive.
	if err := s.VerifySecondFactor(ctx, "ann", strings.ToUpper(strings.ReplaceAll(codes[0], "-", "")), testIP); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	if err := s.VerifySecondFactor(ctx, "ann", codes[0], testIP); !errors.Is(err, ErrBadCode) {
		t.Fatal("recovery code reused")
	}
	// The secret is not stored in the clear (the database file is encrypted as a whole too).
	stored, _ := meta.TOTP(ctx, "ann")
	if bytes.Contains(stored.SecretEnc, []byte(setup.Secret)) {
		t.Fatal("TOTP secret stored in the clear")
	}
	if err := s.Disable2FA(ctx, "ann", "cli", testIP); err != nil {
		t.Fatal(err)
	}
	if on, _ := s.Has2FA(ctx, "ann"); on {
		t.Fatal("2FA still on")
	}
	got := strings.Join(rec.actions, ",")
	for _, want := range []string{audit.Action2FAEnable, audit.Action2FARecovery, audit.Action2FADisable} {
		if !strings.Contains(got, want) {
			t.Errorf("audit lacks %s", want)
		}
	}
}

func TestPendingSignIn(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	s := New(Options{Meta: nil, TokenKey: []byte("0123456789abcdef0123456789abcdef"), Now: func() time.Time { return now }})
	v := s.PendingSignIn("alice")
	if got, err := s.PendingLogin(v); err != nil || got != "alice" {
		t.Fatalf("PendingLogin = %q, %v", got, err)
	}
	// Another login with the same MAC, a changed expiry, or a different key fail.
	parts := strings.Split(v, ".")
	forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte("root")) + "." + parts[2]
	later := "9999999999." + parts[1] + "." + parts[2]
	other := New(Options{Meta: nil, TokenKey: []byte("another key, another key, another"), Now: func() time.Time { return now }})
	for name, bad := range map[string]string{"forged login": forged, "extended": later, "garbage": "x.y", "empty": ""} {
		if _, err := s.PendingLogin(bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := other.PendingLogin(v); err == nil {
		t.Error("value accepted under another key")
	}
	now = now.Add(PendingLifetime + time.Second)
	if _, err := s.PendingLogin(v); err == nil {
		t.Error("expired value accepted")
	}
}

// TestNoSecretsInDataDir writes a password, a token, a session, a TOTP key and recovery codes
// through the service, then greps every file of the data dir for them. A control run plants the
// same values in an unencrypted store to show the grep finds what it looks for.
func TestNoSecretsInDataDir(t *testing.T) {
	ctx := context.Background()
	const password = "grep for this passphrase 42"
	for _, tc := range []struct {
		name  string
		key   []byte
		plant bool
	}{
		{"control: planted in an unencrypted store", nil, true},
		{"unencrypted store", nil, false},
		{"encrypted store", bytes.Repeat([]byte{9}, 64), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			meta, err := sqlite.Open(ctx, sqlite.Options{Path: filepath.Join(dir, "meta.db"), Key: tc.key})
			if err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 23, 8, 0, 10, 0, time.UTC)
			s := New(Options{Meta: meta, TokenKey: []byte("token key for the test"), Now: func() time.Time { return now }})
			hash, err := HashPassword(password)
			if err != nil {
				t.Fatal(err)
			}
			if err := meta.CreateUser(ctx, store.User{Login: "ann", Email: "a@x", PasswordHash: hash, Created: now}); err != nil {
				t.Fatal(err)
			}
			tok, _, err := s.NewToken(ctx, "ann", "t", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			sess, err := s.StartSession(ctx, "ann", "", testIP)
			if err != nil {
				t.Fatal(err)
			}
			setup, err := s.BeginTOTP(ctx, "ann")
			if err != nil {
				t.Fatal(err)
			}
			code, _ := totp.GenerateCodeCustom(setup.Secret, now, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
			codes, err := s.ConfirmTOTP(ctx, "ann", code, testIP)
			if err != nil {
				t.Fatal(err)
			}
			secrets := append([]string{password, tok, sess, setup.Secret}, codes...)
			if tc.plant {
				if err := meta.SetSetting(ctx, "planted", strings.Join(secrets, " ")); err != nil {
					t.Fatal(err)
				}
			}
			if err := meta.Close(); err != nil {
				t.Fatal(err)
			}
			found := map[string]bool{}
			err = filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(path)
				for _, sec := range secrets {
					if bytes.Contains(b, []byte(sec)) {
						found[sec] = true
					}
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			for _, sec := range secrets {
				if found[sec] != tc.plant {
					t.Errorf("%q found=%v", sec, found[sec])
				}
			}
		})
	}
}

func TestExpireGrants(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	s, meta, rec := testService(t, &now)
	for _, l := range []string{"ann", "bob"} {
		if err := meta.CreateUser(ctx, store.User{Login: l, Email: l + "@x", PasswordHash: "x", Created: now}); err != nil {
			t.Fatal(err)
		}
	}
	grant := func(login string, site int, name string, exp time.Time, capability bool) {
		g := store.Grant{Login: login, SiteID: event.SiteID(site), Name: name, Expires: exp, GrantedBy: "root", Created: now.Add(-time.Hour)}
		var err error
		if capability {
			err = meta.AddCapability(ctx, g)
		} else {
			err = meta.SetRole(ctx, g)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	grant("ann", 1, RoleView, now.Add(-time.Second), false) // lapsed
	grant("ann", 2, RoleWrite, now.Add(time.Hour), false)   // still running
	grant("bob", 1, RoleAdmin, time.Time{}, false)          // permanent
	grant("ann", 2, CapViewRaw, now, true)                  // lapses exactly now
	grant("bob", 1, CapViewRaw, now.Add(time.Minute), true) // still running
	if p, _ := s.principal(ctx, store.User{Login: "ann"}, 0); p.CanView(1) || !p.CanWrite(2) || p.CanViewRaw(2) {
		t.Fatal("a lapsed grant still gives access before the sweep")
	}
	n, err := s.ExpireGrants(ctx)
	if err != nil || n != 2 {
		t.Fatalf("ExpireGrants = %d, %v; want 2", n, err)
	}
	var got []string
	for _, ev := range rec.events {
		if ev.Action != audit.ActionAccessExpire {
			t.Errorf("unexpected action %s", ev.Action)
		}
		got = append(got, ev.Target+" "+ev.Details["role"]+ev.Details["capability"])
	}
	sort.Strings(got)
	if want := []string{"user:ann site:1 view", "user:ann site:2 view_raw"}; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("audited %v, want %v", got, want)
	}
	roles, caps, _ := meta.Grants(ctx, "")
	if len(roles) != 2 || len(caps) != 1 {
		t.Fatalf("left %d roles, %d capabilities; want 2 and 1", len(roles), len(caps))
	}
	if n, err := s.ExpireGrants(ctx); n != 0 || err != nil {
		t.Fatalf("second sweep: %d %v", n, err)
	}
}

// TestRehashOnSignIn: a hash made with older (weaker) parameters is replaced by one with
// today's at the next successful sign-in, and not on a failed one.
func TestRehashOnSignIn(t *testing.T) {
	ctx := context.Background()
	meta := testMeta(t)
	const pw = "an older hash of mine 9"
	salt := []byte("sixteen byte salt")[:16]
	old := fmt.Sprintf("$argon2id$v=19$m=8192,t=1,p=1$%s$%s", base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte(pw), salt, 1, 8192, 1, 32)))
	for _, u := range []store.User{{Login: "root", Email: "r@x", PasswordHash: "x", Superuser: true}, {Login: "ann", Email: "a@x", PasswordHash: old}} {
		u.Created = time.Now()
		if err := meta.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	s := New(Options{Meta: meta, TokenKey: []byte("tk")})
	if !NeedsRehash(old) {
		t.Fatal("old parameters not noticed")
	}
	if _, err := s.Password(ctx, "ann", "wrong password here", testIP); err == nil {
		t.Fatal("wrong password accepted")
	}
	if u, _ := meta.User(ctx, "ann"); u.PasswordHash != old {
		t.Fatal("rehashed on a failed sign-in")
	}
	if _, err := s.Password(ctx, "ann", pw, testIP); err != nil {
		t.Fatalf("old hash refused: %v", err)
	}
	u, _ := meta.User(ctx, "ann")
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || !VerifyPassword(u.PasswordHash, pw) {
		t.Fatalf("not rehashed: %s", u.PasswordHash[:32])
	}
	if _, err := s.Password(ctx, "ann", pw, testIP); err != nil {
		t.Fatal(err)
	}
}

// TestTokenNewAddress: the first use of a token from each client address is recorded once,
// also by a second service instance (another node, or after a restart).
func TestTokenNewAddress(t *testing.T) {
	ctx := context.Background()
	meta := testMeta(t)
	if err := meta.CreateUser(ctx, store.User{Login: "ann", Email: "a@x", PasswordHash: "x", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	rec := &recorded{}
	s := New(Options{Meta: meta, TokenKey: []byte("tk"), Audit: rec})
	tok, id, err := s.NewToken(ctx, "ann", "reports", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	a, b := netip.MustParseAddr("198.51.100.7"), netip.MustParseAddr("2001:db8::1")
	for _, ip := range []netip.Addr{a, a, b, a, b} {
		if _, err := s.Token(ctx, tok, false, ip); err != nil {
			t.Fatal(err)
		}
	}
	restarted := New(Options{Meta: meta, TokenKey: []byte("tk"), Audit: rec})
	if _, err := restarted.Token(ctx, tok, false, a); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ev := range rec.events {
		if ev.Action == audit.ActionTokenNewIP {
			got = append(got, ev.IP.String()+" "+ev.Target+" "+ev.Actor)
		}
	}
	want := []string{fmt.Sprintf("198.51.100.7 token:%d ann", id), fmt.Sprintf("2001:db8::1 token:%d ann", id)}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("recorded %v, want %v", got, want)
	}
}
