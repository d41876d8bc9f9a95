// Package auth holds accounts, passwords, API tokens and the access checks every API method
// and page goes through. Until per-site roles arrive, only superusers have access.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/store"
)

// Argon2id parameters (OWASP minimum: 19 MiB, 2 passes, 1 lane); stored with each hash so
// they can be raised later without breaking existing passwords.
const (
	argonMemory  = 19 * 1024
	argonTime    = 2
	argonThreads = 1
	argonKeyLen  = 32
)

// Errors.
var (
	ErrBadCredentials = errors.New("wrong login or password")
	ErrNoAccess       = errors.New("you do not have access to this resource")
	ErrWeakPassword   = errors.New("password must be at least 12 characters")
)

// HashPassword returns an argon2id PHC string.
func HashPassword(password string) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// currentHashPrefix is how a hash made with today's parameters begins.
var currentHashPrefix = fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$", argon2.Version, argonMemory, argonTime, argonThreads)

// NeedsRehash reports whether a stored hash was made with other parameters than today's; it is
// replaced at the user's next successful sign-in.
func NeedsRehash(encoded string) bool { return !strings.HasPrefix(encoded, currentHashPrefix) }

// VerifyPassword checks a password against a PHC string in constant time.
func VerifyPassword(encoded, password string) bool {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<22 || t == 0 || t > 64 || p == 0 {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want))) // #nosec G115 -- len(want) <= 128, checked above
	return subtle.ConstantTimeCompare(got, want) == 1
}

// Brute-force protection, with Matomo's defaults: a client with more than MaxIPFailures
// failed attempts within FailureWindow is blocked, and a login with more than
// MaxLoginFailures failures from all clients within the window is locked. Blocked and locked
// attempts are answered exactly like a wrong password.
const (
	FailureWindow    = time.Hour
	MaxIPFailures    = 20
	MaxLoginFailures = 60
)

// Recorder records audit events.
type Recorder interface {
	Record(ctx context.Context, ev audit.Event) error
}

// Service authenticates tokens and passwords against the metadata store.
type Service struct {
	meta     store.Meta
	tokenKey []byte
	ipKey    []byte
	now      func() time.Time
	audit    Recorder
	sessions SessionOptions
	// verify checks a password against its stored hash (VerifyPassword; a test counts calls).
	verify func(encoded, password string) bool

	// Password checks under way count against their client and login as failures until they
	// end, so checks sent in parallel cannot all pass the limits before any failure is
	// stored; hashSlots bounds how many argon2 hashes (19 MiB each) run at once.
	attemptMu      sync.Mutex
	inflightClient map[string]int
	inflightLogin  map[string]int
	hashSlots      chan struct{}

	seenMu    sync.Mutex
	tokenSeen map[string]struct{} // token and client pairs already recorded

	ceremonyMu sync.Mutex
	ceremonies map[string]ceremony // passkey ceremonies under way, by purpose and login
}

// Options configure the service.
type Options struct {
	Meta store.Meta
	// TokenKey keys the stored token hashes (and the keyed hashes of client addresses).
	TokenKey []byte
	// Audit records lockouts, unlocks, unblocks and the other authentication events.
	Audit Recorder
	// Sessions are the session lifetimes (defaults 30 minutes idle, 12 hours absolute).
	Sessions SessionOptions
	Now      func() time.Time
}

// New builds the service.
func New(opts Options) *Service {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sessions.Idle <= 0 {
		opts.Sessions.Idle = DefaultSessionIdle
	}
	if opts.Sessions.Lifetime <= 0 {
		opts.Sessions.Lifetime = DefaultSessionLifetime
	}
	m := hmac.New(sha256.New, opts.TokenKey)
	m.Write([]byte("client-address"))
	return &Service{meta: opts.Meta, tokenKey: opts.TokenKey, ipKey: m.Sum(nil), now: opts.Now, audit: opts.Audit,
		sessions: opts.Sessions, verify: VerifyPassword, inflightClient: map[string]int{}, inflightLogin: map[string]int{},
		hashSlots: make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))}
}

func (s *Service) record(ctx context.Context, ev audit.Event) {
	if s.audit != nil {
		_ = s.audit.Record(ctx, ev)
	}
}

// ipHash is the keyed hash under which a client's failures are counted. An IPv6 client is
// its /64: one host holds a whole /64 and could otherwise try from a new address each time.
func (s *Service) ipHash(ip netip.Addr) []byte {
	ip = ip.Unmap()
	if ip.Is6() {
		ip = netip.PrefixFrom(ip, 64).Masked().Addr()
	}
	m := hmac.New(sha256.New, s.ipKey)
	m.Write(ip.AsSlice())
	return m.Sum(nil)
}

// blocked reports whether a client or a login is over its failure limit.
func (s *Service) blocked(ctx context.Context, ip netip.Addr, login string) (bool, error) {
	byIP, byLogin, err := s.limits(ctx, ip, login)
	return byIP || byLogin, err
}

// limits reports separately whether a client and a login are over their failure limits.
func (s *Service) limits(ctx context.Context, ip netip.Addr, login string) (clientBlocked, loginLocked bool, err error) {
	byIP, byLogin, err := s.meta.AuthFailures(ctx, s.now().Add(-FailureWindow), s.ipHash(ip), login)
	if err != nil {
		return false, false, err
	}
	return byIP > MaxIPFailures, byLogin > MaxLoginFailures, nil
}

// fail records a failed attempt and audits the moment a client or login crosses its limit.
func (s *Service) fail(ctx context.Context, ip netip.Addr, login, what string) error {
	if err := s.meta.RecordAuthFailure(ctx, s.now(), s.ipHash(ip), login); err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: orAnonymous(login), IP: ip, Action: audit.ActionAuthFailure, Target: what, Outcome: audit.Failure})
	byIP, byLogin, err := s.meta.AuthFailures(ctx, s.now().Add(-FailureWindow), s.ipHash(ip), login)
	if err != nil {
		return err
	}
	if byIP == MaxIPFailures+1 {
		s.record(ctx, audit.Event{Actor: "system", IP: ip, Action: audit.ActionAuthBlock, Target: "client", Outcome: audit.Success,
			Details: map[string]string{"failures": strconv.Itoa(byIP)}})
	}
	if login != "" && byLogin == MaxLoginFailures+1 {
		s.record(ctx, audit.Event{Actor: "system", Action: audit.ActionAuthLockout, Target: "user:" + login, Outcome: audit.Success,
			Details: map[string]string{"failures": strconv.Itoa(byLogin)}})
	}
	return nil
}

func orAnonymous(login string) string {
	if login == "" {
		return "anonymous"
	}
	return login
}

// Unlock clears a login's failures, and with them the client blocks those failures caused.
func (s *Service) Unlock(ctx context.Context, login, actor string) (int, error) {
	n, err := s.meta.ClearAuthFailures(ctx, login, nil)
	if err == nil {
		s.record(ctx, audit.Event{Actor: actor, Action: audit.ActionAuthUnlock, Target: "user:" + login, Details: map[string]string{"cleared": strconv.Itoa(n)}})
	}
	return n, err
}

// UnblockIP clears a client's failures.
func (s *Service) UnblockIP(ctx context.Context, ip netip.Addr, actor string) (int, error) {
	n, err := s.meta.ClearAuthFailures(ctx, "", s.ipHash(ip))
	if err == nil {
		s.record(ctx, audit.Event{Actor: actor, IP: ip, Action: audit.ActionAuthUnblock, Target: "client", Details: map[string]string{"cleared": strconv.Itoa(n)}})
	}
	return n, err
}

// HashToken is the keyed hash stored for a token.
func (s *Service) HashToken(token string) []byte {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte(token))
	return m.Sum(nil)
}

// NewToken creates a 128-bit random token for a user, stores its keyed hash and returns the
// token as 32 hex characters; it is never shown again.
func (s *Service) NewToken(ctx context.Context, login, description string, expires time.Time, flags ...TokenFlag) (string, int64, error) {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return "", 0, err
	}
	tok := hex.EncodeToString(b)
	t := store.Token{Login: login, Hash: s.HashToken(tok), Description: description, Created: s.now(), Expires: expires}
	for _, f := range flags {
		switch f {
		case ReadOnly:
			t.ReadOnly = true
		case PostOnly:
			t.PostOnly = true
		}
	}
	id, err := s.meta.CreateToken(ctx, t)
	if err != nil {
		return "", 0, err
	}
	return tok, id, nil
}

// TokenFlag restricts a token.
type TokenFlag int

// Token restrictions.
const (
	// ReadOnly tokens can read what their user may read and change nothing.
	ReadOnly TokenFlag = iota + 1
	// PostOnly tokens are accepted only in a POST body or an Authorization header, never in
	// a URL (Matomo's "secure only").
	PostOnly
)

// Roles and capabilities, with Matomo's names.
const (
	RoleView   = "view"
	RoleWrite  = "write"
	RoleAdmin  = "admin"
	CapViewRaw = "view_raw"
	RoleNone   = "noaccess"
)

// Principal is who a request acts as, with the grants in force when it was resolved.
type Principal struct {
	User    store.User
	TokenID int64
	// ReadOnly is set for read-only tokens: every change is refused.
	ReadOnly bool
	roles    map[event.SiteID]string
	caps     map[event.SiteID]map[string]bool
}

// IsSuperuser reports whether the principal has every right.
func (p *Principal) IsSuperuser() bool { return p != nil && p.User.Superuser && !p.User.Disabled }

// Role is the principal's role on a site ("" for none; superusers have none of their own).
func (p *Principal) Role(site event.SiteID) string {
	if p == nil {
		return ""
	}
	return p.roles[site]
}

// CanView reports whether the principal may read a site's reports.
func (p *Principal) CanView(site event.SiteID) bool { return p.IsSuperuser() || p.Role(site) != "" }

// CanWrite reports whether the principal may change a site's goals, dimensions and the like,
// and send privileged tracking parameters for it.
func (p *Principal) CanWrite(site event.SiteID) bool {
	if p != nil && p.ReadOnly {
		return false
	}
	r := p.Role(site)
	return p.IsSuperuser() || r == RoleWrite || r == RoleAdmin
}

// CanAdmin reports whether the principal may change a site's settings and grant access to it.
func (p *Principal) CanAdmin(site event.SiteID) bool {
	return p.IsSuperuser() || p.Role(site) == RoleAdmin
}

// CanViewRaw reports whether the principal may see raw visitor data (visitor log, profiles):
// superusers and admins always, view and write users only with the view_raw capability.
func (p *Principal) CanViewRaw(site event.SiteID) bool {
	if p.CanAdmin(site) {
		return true
	}
	return p.Role(site) != "" && p.caps[site][CapViewRaw]
}

// principal loads a user's grants in force now.
func (s *Service) principal(ctx context.Context, u store.User, tokenID int64) (*Principal, error) {
	p := &Principal{User: u, TokenID: tokenID, roles: map[event.SiteID]string{}, caps: map[event.SiteID]map[string]bool{}}
	roles, caps, err := s.meta.Grants(ctx, u.Login)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for _, g := range roles {
		if g.Expires.IsZero() || now.Before(g.Expires) {
			p.roles[g.SiteID] = g.Name
		}
	}
	for _, g := range caps {
		if g.Expires.IsZero() || now.Before(g.Expires) {
			if p.caps[g.SiteID] == nil {
				p.caps[g.SiteID] = map[string]bool{}
			}
			p.caps[g.SiteID][g.Name] = true
		}
	}
	return p, nil
}

// Token resolves a token_auth value to its principal. postOnlyOK says whether the token came
// in a POST body (POST-only tokens are refused elsewhere).
func (s *Service) Token(ctx context.Context, token string, postOnlyOK bool, ip netip.Addr) (*Principal, error) {
	if blocked, err := s.blocked(ctx, ip, ""); err != nil {
		return nil, err
	} else if blocked {
		return nil, ErrBadCredentials // not recorded: the block was, once
	}
	if len(token) != 32 || !isHex(token) {
		return nil, errors.Join(ErrBadCredentials, s.fail(ctx, ip, "", "token"))
	}
	t, err := s.meta.TokenByHash(ctx, s.HashToken(strings.ToLower(token)))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errors.Join(ErrBadCredentials, s.fail(ctx, ip, "", "token"))
	}
	if err != nil {
		return nil, fmt.Errorf("look up token: %w", err)
	}
	now := s.now()
	if !t.Expires.IsZero() && now.After(t.Expires) {
		return nil, ErrBadCredentials
	}
	if t.PostOnly && !postOnlyOK {
		return nil, ErrBadCredentials
	}
	u, err := s.meta.User(ctx, t.Login)
	if err != nil || u.Disabled {
		return nil, ErrBadCredentials
	}
	if t.LastUsed.IsZero() || now.Sub(t.LastUsed) > time.Minute {
		_ = s.meta.TouchToken(ctx, t.ID, now)
	}
	if err := s.noteTokenAddress(ctx, t, ip); err != nil {
		return nil, err
	}
	p, err := s.principal(ctx, u, t.ID)
	if p != nil {
		p.ReadOnly = t.ReadOnly
	}
	return p, err
}

// tokenSeenCap bounds the in-memory set of (token, address) pairs already recorded.
const tokenSeenCap = 100000

// noteTokenAddress records the first use of a token from each client address in the audit
// trail. Pairs already recorded are remembered in memory so repeated use costs no write.
func (s *Service) noteTokenAddress(ctx context.Context, t store.Token, ip netip.Addr) error {
	h := s.ipHash(ip)
	key := string(h) + "\x00" + strconv.FormatInt(t.ID, 10)
	s.seenMu.Lock()
	_, seen := s.tokenSeen[key]
	s.seenMu.Unlock()
	if seen {
		return nil
	}
	first, err := s.meta.TokenSeenFrom(ctx, t.ID, h, s.now())
	if err != nil {
		return err
	}
	if first {
		s.record(ctx, audit.Event{Actor: t.Login, IP: ip, Action: audit.ActionTokenNewIP,
			Target: fmt.Sprintf("token:%d", t.ID), Details: map[string]string{"description": t.Description}})
	}
	s.seenMu.Lock()
	if s.tokenSeen == nil || len(s.tokenSeen) >= tokenSeenCap {
		s.tokenSeen = map[string]struct{}{}
	}
	s.tokenSeen[key] = struct{}{}
	s.seenMu.Unlock()
	return nil
}

// Password checks a login and password. A client that is blocked or a login that is locked
// gets ErrBadCredentials without any password hashing, so attempts past the limits cost no
// CPU; the answer is the same whether or not the login exists. Attempts from a blocked client
// are not counted against the login, and checks under way count as failures until they end,
// so one client cannot lock an account however often, or however many times at once, it
// tries: locking a login takes failures from several clients.
func (s *Service) Password(ctx context.Context, login, password string, ip netip.Addr) (*Principal, error) {
	client := string(s.ipHash(ip))
	clientBlocked, loginLocked, err := s.beginAttempt(ctx, client, login)
	if err != nil {
		return nil, err
	}
	if clientBlocked {
		// Not recorded: the block was, once, and a blocked client's attempts must not turn
		// into writes and audit entries at the speed it sends them.
		return nil, ErrBadCredentials
	}
	if loginLocked {
		// Counted against the client only, so hammering a locked login blocks the client.
		return nil, s.failed(ctx, ip, "", login)
	}
	defer s.endAttempt(client, login)
	u, err := s.meta.User(ctx, login)
	if err != nil {
		// Spend the same time as a real check so logins cannot be enumerated by timing.
		if err := s.hash(ctx, func() { s.verify(dummyHash, password) }); err != nil {
			return nil, err
		}
		return nil, s.failed(ctx, ip, login, login)
	}
	ok := false
	if err := s.hash(ctx, func() { ok = s.verify(u.PasswordHash, password) }); err != nil {
		return nil, err
	}
	if !ok || u.Disabled {
		return nil, s.failed(ctx, ip, login, login)
	}
	if NeedsRehash(u.PasswordHash) {
		// The hashing parameters changed since this password was set: store it anew.
		h, err := HashPassword(password)
		if err != nil {
			return nil, err
		}
		u.PasswordHash = h
		if err := s.meta.UpdateUser(ctx, u); err != nil {
			return nil, fmt.Errorf("rehash password: %w", err)
		}
	}
	return s.principal(ctx, u, 0)
}

// dummyHash is checked for a login that does not exist, so it costs what a real check costs.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0c2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g" // #nosec G101 -- a hash of nothing, for timing

// beginAttempt reports whether the client is blocked or the login locked, counting the checks
// under way as failures; when neither, it counts this one in until endAttempt.
func (s *Service) beginAttempt(ctx context.Context, client, login string) (clientBlocked, loginLocked bool, err error) {
	s.attemptMu.Lock()
	defer s.attemptMu.Unlock()
	byIP, byLogin, err := s.meta.AuthFailures(ctx, s.now().Add(-FailureWindow), []byte(client), login)
	if err != nil {
		return false, false, err
	}
	clientBlocked = byIP+s.inflightClient[client] > MaxIPFailures
	loginLocked = byLogin+s.inflightLogin[login] > MaxLoginFailures
	if !clientBlocked && !loginLocked {
		s.inflightClient[client]++
		s.inflightLogin[login]++
	}
	return clientBlocked, loginLocked, nil
}

func (s *Service) endAttempt(client, login string) {
	s.attemptMu.Lock()
	defer s.attemptMu.Unlock()
	if s.inflightClient[client]--; s.inflightClient[client] <= 0 {
		delete(s.inflightClient, client)
	}
	if s.inflightLogin[login]--; s.inflightLogin[login] <= 0 {
		delete(s.inflightLogin, login)
	}
}

// hash runs one password hash when a slot is free.
func (s *Service) hash(ctx context.Context, fn func()) error {
	select {
	case s.hashSlots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-s.hashSlots }()
	fn()
	return nil
}

// failed records a failed attempt (against login, unless empty) and answers it. A failure
// that cannot be recorded is an error of its own, never a silent wrong-password answer.
func (s *Service) failed(ctx context.Context, ip netip.Addr, login, target string) error {
	if err := s.fail(ctx, ip, login, "user:"+target); err != nil {
		return fmt.Errorf("record a failed sign-in: %w", err)
	}
	return ErrBadCredentials
}

// CanTrackPrivileged implements ingest.Authorizer.
func (s *Service) CanTrackPrivileged(ctx context.Context, token string, site event.SiteID, ip netip.Addr) bool {
	p, err := s.Token(ctx, token, true, ip)
	return err == nil && p.CanWrite(site)
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// LoginFailures counts a login's failed attempts within the window and says whether it is
// locked.
func (s *Service) LoginFailures(ctx context.Context, login string) (int, bool, error) {
	_, byLogin, err := s.meta.AuthFailures(ctx, s.now().Add(-FailureWindow), nil, login)
	return byLogin, byLogin > MaxLoginFailures, err
}

// TokenView is what may be shown of a token: everything but its hash. Times never set are null.
type TokenView struct {
	ID          int64      `json:"id"`
	Login       string     `json:"login"`
	Description string     `json:"description"`
	Created     time.Time  `json:"created"`
	LastUsed    *time.Time `json:"last_used"`
	Expires     *time.Time `json:"expires"`
	ReadOnly    bool       `json:"read_only"`
	PostOnly    bool       `json:"post_only"`
}

// ViewTokens describes tokens for listing.
func ViewTokens(tokens []store.Token) []TokenView {
	opt := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		return &t
	}
	out := make([]TokenView, 0, len(tokens))
	for _, t := range tokens {
		out = append(out, TokenView{ID: t.ID, Login: t.Login, Description: t.Description, Created: t.Created,
			LastUsed: opt(t.LastUsed), Expires: opt(t.Expires), ReadOnly: t.ReadOnly, PostOnly: t.PostOnly})
	}
	return out
}
