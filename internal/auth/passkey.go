package auth

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"hearth/internal/audit"
	"hearth/internal/store"
)

// Passkey errors; their texts are safe to show.
var (
	ErrNoPasskey        = errors.New("no passkey is registered for this account")
	ErrPasskeyCeremony  = errors.New("the passkey request expired or was already used; try again")
	ErrPasskeyRejected  = errors.New("the passkey was not accepted")
	ErrPasskeyName      = errors.New("give the passkey a name of 1 to 64 characters")
	ErrPasskeyNeedsHost = errors.New("passkeys need Hearth to be reached by a host name, not an IP address (set public-url)")
	ErrPasskeyExists    = errors.New("this passkey is already registered")
)

// ceremonyLifetime bounds the time between asking the browser for a passkey and its answer.
const ceremonyLifetime = 5 * time.Minute

// RelyingParty is where a passkey ceremony happens: the host name passkeys are bound to (the
// WebAuthn relying-party ID) and the origin the browser must report.
type RelyingParty struct {
	ID     string
	Origin string
}

// NewRelyingParty derives the relying party from Hearth's public URL, or, when none is
// configured, from the address the browser used (scheme and Host). Browsers only offer a
// passkey to the origin it was made for, and each passkey remembers its relying-party ID, so a
// passkey made under one name never signs in under another.
func NewRelyingParty(publicURL, scheme, host string) (RelyingParty, error) {
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || u.Host == "" {
			return RelyingParty{}, fmt.Errorf("public-url %q is not a URL", publicURL)
		}
		scheme, host = u.Scheme, u.Host
	}
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	name = strings.ToLower(strings.Trim(name, "[]"))
	if name == "" {
		return RelyingParty{}, ErrPasskeyNeedsHost
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return RelyingParty{}, ErrPasskeyNeedsHost
	}
	return RelyingParty{ID: name, Origin: scheme + "://" + strings.ToLower(host)}, nil
}

func (rp RelyingParty) webauthn() (*webauthn.WebAuthn, error) {
	return webauthn.New(&webauthn.Config{
		RPID: rp.ID, RPDisplayName: "Hearth", RPOrigins: []string{rp.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementDiscouraged, UserVerification: protocol.VerificationPreferred,
		},
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyLifetime, TimeoutUVD: ceremonyLifetime},
			Registration: webauthn.TimeoutConfig{Enforce: true, Timeout: ceremonyLifetime, TimeoutUVD: ceremonyLifetime},
		},
	})
}

// passkeyUser is a Hearth user as the WebAuthn library sees them.
type passkeyUser struct {
	id    []byte
	login string
	creds []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.id }
func (u *passkeyUser) WebAuthnName() string                       { return u.login }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.login }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// passkeyUser loads a user's passkeys registered for a relying party. The user handle is a
// keyed hash of the login, so it reveals nothing to the authenticator.
func (s *Service) passkeyUser(ctx context.Context, login, rpID string) (*passkeyUser, []store.Passkey, error) {
	m := hmac.New(sha256.New, s.tokenKey)
	fmt.Fprintf(m, "webauthn-user\x00%s", login)
	u := &passkeyUser{id: m.Sum(nil), login: login}
	all, err := s.meta.Passkeys(ctx, login)
	if err != nil {
		return nil, nil, err
	}
	var keys []store.Passkey
	for _, p := range all {
		if p.RPID != rpID {
			continue
		}
		var c webauthn.Credential
		if err := json.Unmarshal(p.Credential, &c); err != nil {
			return nil, nil, fmt.Errorf("stored passkey of %s cannot be read: %w", login, err)
		}
		u.creds = append(u.creds, c)
		keys = append(keys, p)
	}
	return u, keys, nil
}

// relyingPartyUser prepares a ceremony: the relying party's WebAuthn configuration and the
// user with their passkeys for it.
func (s *Service) relyingPartyUser(ctx context.Context, login string, rp RelyingParty) (*webauthn.WebAuthn, *passkeyUser, []store.Passkey, error) {
	w, err := rp.webauthn()
	if err != nil {
		return nil, nil, nil, err
	}
	u, keys, err := s.passkeyUser(ctx, login, rp.ID)
	if err != nil {
		return nil, nil, nil, err
	}
	return w, u, keys, nil
}

type ceremony struct {
	data    webauthn.SessionData
	rp      RelyingParty
	expires time.Time
}

func ceremonyKey(purpose, login string) string { return purpose + "\x00" + login }

// keepCeremony remembers a started ceremony (one per user and purpose; a new one replaces it).
func (s *Service) keepCeremony(purpose, login string, rp RelyingParty, data *webauthn.SessionData) {
	s.ceremonyMu.Lock()
	defer s.ceremonyMu.Unlock()
	if s.ceremonies == nil {
		s.ceremonies = map[string]ceremony{}
	}
	now := s.now()
	for k, c := range s.ceremonies {
		if now.After(c.expires) {
			delete(s.ceremonies, k)
		}
	}
	s.ceremonies[ceremonyKey(purpose, login)] = ceremony{data: *data, rp: rp, expires: now.Add(ceremonyLifetime)}
}

// takeCeremony returns a started ceremony once.
func (s *Service) takeCeremony(purpose, login string, rp RelyingParty) (webauthn.SessionData, error) {
	s.ceremonyMu.Lock()
	defer s.ceremonyMu.Unlock()
	k := ceremonyKey(purpose, login)
	c, ok := s.ceremonies[k]
	delete(s.ceremonies, k)
	if !ok || s.now().After(c.expires) || c.rp != rp {
		return webauthn.SessionData{}, ErrPasskeyCeremony
	}
	return c.data, nil
}

// Passkeys lists a user's passkeys.
func (s *Service) Passkeys(ctx context.Context, login string) ([]store.Passkey, error) {
	return s.meta.Passkeys(ctx, login)
}

// BeginPasskeyRegistration starts adding a passkey for a signed-in user; the answer is the
// options for navigator.credentials.create, as JSON.
func (s *Service) BeginPasskeyRegistration(ctx context.Context, login string, rp RelyingParty) ([]byte, error) {
	w, u, _, err := s.relyingPartyUser(ctx, login, rp)
	if err != nil {
		return nil, err
	}
	creation, data, err := w.BeginRegistration(u, webauthn.WithExclusions(webauthn.Credentials(u.creds).CredentialDescriptors()))
	if err != nil {
		return nil, err
	}
	s.keepCeremony("register", login, rp, data)
	return json.Marshal(creation)
}

// FinishPasskeyRegistration checks the browser's answer and stores the passkey. When it is the
// user's first second factor, it returns the recovery codes, shown once.
func (s *Service) FinishPasskeyRegistration(ctx context.Context, login, name string, rp RelyingParty, body io.Reader, ip netip.Addr) ([]string, error) {
	name = strings.TrimSpace(name)
	if name == "" || utf8.RuneCountInString(name) > 64 {
		return nil, ErrPasskeyName
	}
	data, err := s.takeCeremony("register", login, rp)
	if err != nil {
		return nil, err
	}
	parsed, err := protocol.ParseCredentialCreationResponseBody(io.LimitReader(body, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrPasskeyRejected, protocolReason(err))
	}
	w, u, _, err := s.relyingPartyUser(ctx, login, rp)
	if err != nil {
		return nil, err
	}
	cred, err := w.CreateCredential(u, data, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrPasskeyRejected, protocolReason(err))
	}
	enc, err := json.Marshal(cred)
	if err != nil {
		return nil, err
	}
	had, err := s.Has2FA(ctx, login)
	if err != nil {
		return nil, err
	}
	err = s.meta.AddPasskey(ctx, store.Passkey{ID: cred.ID, Login: login, Name: name, RPID: rp.ID, Credential: enc, Created: s.now()})
	if errors.Is(err, store.ErrConflict) {
		return nil, ErrPasskeyExists
	}
	if err != nil {
		return nil, err
	}
	s.record(ctx, audit.Event{Actor: login, IP: ip, Action: audit.Action2FAEnable, Target: "user:" + login,
		Details: map[string]string{"factor": "passkey", "name": name}})
	return s.recoveryCodesForNewFactor(ctx, login, had)
}

// BeginPasskeyLogin starts the passkey step of a sign-in whose password was accepted; the
// answer is the options for navigator.credentials.get, as JSON.
func (s *Service) BeginPasskeyLogin(ctx context.Context, login string, rp RelyingParty) ([]byte, error) {
	w, u, _, err := s.relyingPartyUser(ctx, login, rp)
	if err != nil {
		return nil, err
	}
	if len(u.creds) == 0 {
		return nil, ErrNoPasskey
	}
	assertion, data, err := w.BeginLogin(u)
	if err != nil {
		return nil, err
	}
	s.keepCeremony("login", login, rp, data)
	return json.Marshal(assertion)
}

// FinishPasskeyLogin checks the browser's signed answer: the passkey must be one of the user's,
// made for this relying party, and its signature counter must not go back (a cloned
// authenticator). Failures count towards the brute-force limits.
func (s *Service) FinishPasskeyLogin(ctx context.Context, login string, rp RelyingParty, body io.Reader, ip netip.Addr) error {
	if blocked, err := s.blocked(ctx, ip, login); err != nil {
		return err
	} else if blocked {
		return ErrPasskeyRejected // not recorded: the block or lockout was, once
	}
	data, err := s.takeCeremony("login", login, rp)
	if err != nil {
		return err
	}
	reject := func(reason string) error {
		return errors.Join(fmt.Errorf("%w: %s", ErrPasskeyRejected, reason), s.fail(ctx, ip, login, "user:"+login))
	}
	parsed, err := protocol.ParseCredentialRequestResponseBody(io.LimitReader(body, 64<<10))
	if err != nil {
		return reject(protocolReason(err))
	}
	w, u, keys, err := s.relyingPartyUser(ctx, login, rp)
	if err != nil {
		return err
	}
	cred, err := w.ValidateLogin(u, data, parsed)
	if err != nil {
		return reject(protocolReason(err))
	}
	if cred.Authenticator.CloneWarning {
		return reject("its signature counter went back, as a cloned authenticator's would")
	}
	for _, k := range keys {
		if bytes.Equal(k.ID, cred.ID) {
			enc, err := json.Marshal(cred)
			if err != nil {
				return err
			}
			k.Credential, k.LastUsed = enc, s.now()
			return s.meta.UpdatePasskey(ctx, k)
		}
	}
	return reject("unknown credential")
}

// RemovePasskey deletes one of a user's passkeys. While two-factor authentication is
// required, the last second factor cannot go.
func (s *Service) RemovePasskey(ctx context.Context, login string, id []byte, actor string, ip netip.Addr) error {
	keys, err := s.meta.Passkeys(ctx, login)
	if err != nil {
		return err
	}
	name := ""
	for _, k := range keys {
		if bytes.Equal(k.ID, id) {
			name = k.Name
		}
	}
	if name == "" {
		return fmt.Errorf("passkey: %w", store.ErrNotFound)
	}
	if req, err := s.Require2FA(ctx); err != nil {
		return err
	} else if req && len(keys) == 1 {
		t, err := s.meta.TOTP(ctx, login)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if !t.Enabled {
			return ErrTOTPRequired
		}
	}
	if err := s.meta.DeletePasskey(ctx, login, id); err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: actor, IP: ip, Action: audit.Action2FADisable, Target: "user:" + login,
		Details: map[string]string{"factor": "passkey", "name": name}})
	return nil
}

// protocolReason is the short description of a WebAuthn verification error (never secrets:
// the library's texts describe which check failed).
func protocolReason(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) && pe.Details != "" {
		return pe.Details
	}
	return "verification failed"
}
