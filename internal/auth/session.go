package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"hearth/internal/audit"
	"hearth/internal/store"
)

// Session defaults.
const (
	DefaultSessionIdle     = 30 * time.Minute
	DefaultSessionLifetime = 12 * time.Hour
	// sessionTouchEvery limits writes: activity is recorded at most this often.
	sessionTouchEvery = time.Minute
)

// ErrNoSession means the cookie names no live session (missing, unknown, expired, user disabled).
var ErrNoSession = errors.New("not signed in")

// SessionOptions configure session lifetimes.
type SessionOptions struct {
	Idle     time.Duration // inactivity that ends a session
	Lifetime time.Duration // absolute maximum age
}

func (s *Service) sessionHash(value string) []byte {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte("session\x00"))
	m.Write([]byte(value))
	return m.Sum(nil)
}

func (s *Service) sessionOptions() SessionOptions { return s.sessions }

// StartSession creates a session for a signed-in user and returns the cookie value (256
// random bits). Any session the browser presented before is ended first (rotation).
func (s *Service) StartSession(ctx context.Context, login, previous string, ip netip.Addr) (string, error) {
	if previous != "" {
		_ = s.meta.DeleteSession(ctx, s.sessionHash(previous))
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	value := base64.RawURLEncoding.EncodeToString(b)
	now := s.now()
	if err := s.meta.CreateSession(ctx, store.Session{IDHash: s.sessionHash(value), Login: login, Created: now, LastSeen: now}); err != nil {
		return "", err
	}
	s.record(ctx, audit.Event{Actor: login, IP: ip, Action: audit.ActionLogin, Target: "user:" + login})
	return value, nil
}

// SessionPrincipal resolves a session cookie, enforcing the idle and absolute timeouts.
func (s *Service) SessionPrincipal(ctx context.Context, value string, ip netip.Addr) (*Principal, error) {
	if value == "" || len(value) > 100 {
		return nil, ErrNoSession
	}
	h := s.sessionHash(value)
	ses, err := s.meta.Session(ctx, h)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoSession
	}
	if err != nil {
		return nil, err
	}
	now, o := s.now(), s.sessionOptions()
	if now.Sub(ses.LastSeen) > o.Idle || now.Sub(ses.Created) > o.Lifetime {
		_ = s.meta.DeleteSession(ctx, h)
		reason := "idle"
		if now.Sub(ses.Created) > o.Lifetime {
			reason = "lifetime"
		}
		s.record(ctx, audit.Event{Actor: ses.Login, IP: ip, Action: audit.ActionSessionExpire, Target: "user:" + ses.Login,
			Details: map[string]string{"reason": reason}})
		return nil, ErrNoSession
	}
	u, err := s.meta.User(ctx, ses.Login)
	if err != nil || u.Disabled {
		_ = s.meta.DeleteSession(ctx, h)
		return nil, ErrNoSession
	}
	if now.Sub(ses.LastSeen) >= sessionTouchEvery {
		_ = s.meta.TouchSession(ctx, h, now)
	}
	return s.principal(ctx, u, 0)
}

// EndSession signs a browser out.
func (s *Service) EndSession(ctx context.Context, value string, p *Principal, ip netip.Addr) error {
	if err := s.meta.DeleteSession(ctx, s.sessionHash(value)); err != nil {
		return err
	}
	if p != nil {
		s.record(ctx, audit.Event{Actor: p.User.Login, IP: ip, Action: audit.ActionLogout, Target: "user:" + p.User.Login})
	}
	return nil
}

// EndUserSessions ends every session of a user (password change, disabling).
func (s *Service) EndUserSessions(ctx context.Context, login string) (int, error) {
	return s.meta.DeleteSessions(ctx, login)
}

// ExpireGrants removes the roles and capabilities whose time is up and records each lapse in
// the audit trail (access already ends at its expiry; this makes the end visible).
func (s *Service) ExpireGrants(ctx context.Context) (int, error) {
	roles, caps, err := s.meta.DeleteExpiredGrants(ctx, s.now())
	for _, g := range roles {
		s.record(ctx, audit.Event{Actor: "system", Action: audit.ActionAccessExpire, Target: fmt.Sprintf("user:%s site:%d", g.Login, g.SiteID),
			Details: map[string]string{"role": g.Name, "expires": g.Expires.Format(time.RFC3339), "granted_by": g.GrantedBy}})
	}
	for _, g := range caps {
		s.record(ctx, audit.Event{Actor: "system", Action: audit.ActionAccessExpire, Target: fmt.Sprintf("user:%s site:%d", g.Login, g.SiteID),
			Details: map[string]string{"capability": g.Name, "expires": g.Expires.Format(time.RFC3339), "granted_by": g.GrantedBy}})
	}
	return len(roles) + len(caps), err
}
