package auth

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"fmt"
	"image/png"
	"net/netip"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"hearth/internal/audit"
	"hearth/internal/store"
)

// Second-factor errors; their texts are safe to show.
var (
	ErrTOTPEnabled = errors.New("two-factor authentication is already on")
	ErrNoTOTPSetup = errors.New("start the set-up first")
	ErrBadCode     = errors.New("wrong or already used code")
)

// TOTP parameters (RFC 6238): 30-second steps, 6 digits, SHA-1 (what authenticator apps support),
// one step of clock drift either way.
const (
	totpPeriod = 30
	totpSkew   = 1
	// RecoveryCodes is how many single-use recovery codes a user gets.
	RecoveryCodes = 10
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

func (s *Service) secretAEAD() (cipher.AEAD, error) {
	m := hmac.New(sha256.New, s.tokenKey)
	m.Write([]byte("totp-secret"))
	block, err := aes.NewCipher(m.Sum(nil))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func (s *Service) sealSecret(login, secret string) ([]byte, error) {
	aead, err := s.secretAEAD()
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return aead.Seal(nonce, nonce, []byte(secret), []byte(login)), nil
}

func (s *Service) openSecret(login string, sealed []byte) (string, error) {
	aead, err := s.secretAEAD()
	if err != nil {
		return "", err
	}
	if len(sealed) < aead.NonceSize() {
		return "", errors.New("stored TOTP secret is malformed")
	}
	plain, err := aead.Open(nil, sealed[:aead.NonceSize()], sealed[aead.NonceSize():], []byte(login))
	if err != nil {
		return "", errors.New("stored TOTP secret cannot be decrypted")
	}
	return string(plain), nil
}

// Has2FA reports whether a user has an active second factor: an authenticator app or a passkey.
func (s *Service) Has2FA(ctx context.Context, login string) (bool, error) {
	on, err := s.hasTOTP(ctx, login)
	if err != nil || on {
		return on, err
	}
	keys, err := s.meta.Passkeys(ctx, login)
	return len(keys) > 0, err
}

// hasTOTP reports whether a user's authenticator app is set up and confirmed.
func (s *Service) hasTOTP(ctx context.Context, login string) (bool, error) {
	t, err := s.meta.TOTP(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil && t.Enabled, err
}

// HasTOTP reports whether a user's authenticator app is set up.
func (s *Service) HasTOTP(ctx context.Context, login string) (bool, error) {
	return s.hasTOTP(ctx, login)
}

// TOTPSetup is what a user needs to add Hearth to an authenticator app.
type TOTPSetup struct {
	Secret string // base32, for typing in
	URI    string // otpauth:// URI
	QRPNG  string // data: URL of a QR code of the URI, rendered here
}

// BeginTOTP creates a new secret for a user, pending until ConfirmTOTP.
func (s *Service) BeginTOTP(ctx context.Context, login string) (TOTPSetup, error) {
	if on, err := s.hasTOTP(ctx, login); err != nil {
		return TOTPSetup{}, err
	} else if on {
		return TOTPSetup{}, ErrTOTPEnabled
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Hearth", AccountName: login, Period: totpPeriod, SecretSize: 20,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return TOTPSetup{}, err
	}
	sealed, err := s.sealSecret(login, key.Secret())
	if err != nil {
		return TOTPSetup{}, err
	}
	if err := s.meta.SetTOTP(ctx, store.TOTP{Login: login, SecretEnc: sealed, Created: s.now()}); err != nil {
		return TOTPSetup{}, err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return TOTPSetup{}, err
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return TOTPSetup{}, err
	}
	return TOTPSetup{Secret: key.Secret(), URI: key.URL(), QRPNG: "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes())}, nil
}

// checkTOTP accepts a code for the current step or one step either side, once.
func (s *Service) checkTOTP(ctx context.Context, t store.TOTP, code string) (bool, error) {
	secret, err := s.openSecret(t.Login, t.SecretEnc)
	if err != nil {
		return false, err
	}
	code = strings.TrimSpace(code)
	now := s.now().Unix() / totpPeriod
	for step := now - totpSkew; step <= now+totpSkew; step++ {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s.meta.UseTOTPStep(ctx, t.Login, step)
		}
	}
	return false, nil
}

func (s *Service) recoveryHash(login, code string) []byte {
	m := hmac.New(sha256.New, s.tokenKey)
	fmt.Fprintf(m, "recovery\x00%s\x00", login)
	m.Write([]byte(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(code), "-", ""))))
	return m.Sum(nil)
}

// ConfirmTOTP turns the pending secret on with a first valid code and returns the recovery
// codes, shown once.
func (s *Service) ConfirmTOTP(ctx context.Context, login, code string, ip netip.Addr) ([]string, error) {
	t, err := s.meta.TOTP(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoTOTPSetup
	}
	if err != nil {
		return nil, err
	}
	if t.Enabled {
		return nil, ErrTOTPEnabled
	}
	ok, err := s.checkTOTP(ctx, t, code)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ErrBadCode
	}
	had, err := s.Has2FA(ctx, login)
	if err != nil {
		return nil, err
	}
	t, err = s.meta.TOTP(ctx, login) // the accepted step is recorded
	if err != nil {
		return nil, err
	}
	t.Enabled = true
	if err := s.meta.SetTOTP(ctx, t); err != nil {
		return nil, err
	}
	s.record(ctx, audit.Event{Actor: login, IP: ip, Action: audit.Action2FAEnable, Target: "user:" + login,
		Details: map[string]string{"factor": "totp"}})
	return s.recoveryCodesForNewFactor(ctx, login, had)
}

// recoveryCodesForNewFactor gives a user fresh recovery codes when a second factor was just
// added and they had none before (or have used them all); otherwise nil.
func (s *Service) recoveryCodesForNewFactor(ctx context.Context, login string, had bool) ([]string, error) {
	if had {
		if left, err := s.meta.HasRecoveryCodes(ctx, login); err != nil || left {
			return nil, err
		}
	}
	codes := make([]string, RecoveryCodes)
	hashes := make([][]byte, RecoveryCodes)
	for i := range codes {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		c := strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
		codes[i] = c[:4] + "-" + c[4:8] + "-" + c[8:]
		hashes[i] = s.recoveryHash(login, codes[i])
	}
	if err := s.meta.SetRecoveryCodes(ctx, login, hashes); err != nil {
		return nil, err
	}
	return codes, nil
}

// VerifySecondFactor checks a TOTP code or a recovery code of a user with 2FA. Failures
// count towards the brute-force limits.
func (s *Service) VerifySecondFactor(ctx context.Context, login, code string, ip netip.Addr) error {
	if blocked, err := s.blocked(ctx, ip, login); err != nil {
		return err
	} else if blocked {
		return ErrBadCode // not recorded: the block or lockout was, once
	}
	if on, err := s.Has2FA(ctx, login); err != nil {
		return err
	} else if !on {
		return ErrBadCode
	}
	if len(strings.TrimSpace(code)) > 6 {
		ok, err := s.meta.UseRecoveryCode(ctx, login, s.recoveryHash(login, code))
		if err != nil {
			return err
		}
		if ok {
			s.record(ctx, audit.Event{Actor: login, IP: ip, Action: audit.Action2FARecovery, Target: "user:" + login})
			return nil
		}
		return errors.Join(ErrBadCode, s.fail(ctx, ip, login, "user:"+login))
	}
	t, err := s.meta.TOTP(ctx, login)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !t.Enabled) {
		return errors.Join(ErrBadCode, s.fail(ctx, ip, login, "user:"+login))
	}
	if err != nil {
		return err
	}
	ok, err := s.checkTOTP(ctx, t, code)
	if err != nil {
		return err
	}
	if !ok {
		return errors.Join(ErrBadCode, s.fail(ctx, ip, login, "user:"+login))
	}
	return nil
}

// Disable2FA removes all of a user's second factors (authenticator app, passkeys, recovery
// codes): by themselves with their password, or by an operator (`hearth user reset-2fa`).
func (s *Service) Disable2FA(ctx context.Context, login, actor string, ip netip.Addr) error {
	if err := s.meta.DeleteSecondFactors(ctx, login); err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: actor, IP: ip, Action: audit.Action2FADisable, Target: "user:" + login,
		Details: map[string]string{"factor": "all"}})
	return nil
}

// PendingLifetime bounds the time between the password and the second-factor step of a sign-in.
const PendingLifetime = 5 * time.Minute

func (s *Service) pendingMAC(login string, expires int64) []byte {
	m := hmac.New(sha256.New, s.tokenKey)
	fmt.Fprintf(m, "pending-2fa\x00%s\x00%d", login, expires)
	return m.Sum(nil)
}

// PendingSignIn returns a value proving that login gave the right password in the last
// PendingLifetime; the sign-in completes with the second factor (see PendingLogin).
func (s *Service) PendingSignIn(login string) string {
	exp := s.now().Add(PendingLifetime).Unix()
	payload := fmt.Sprintf("%d.%s", exp, base64.RawURLEncoding.EncodeToString([]byte(login)))
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.pendingMAC(login, exp))
}

// PendingLogin checks a PendingSignIn value and returns the login it is for.
func (s *Service) PendingLogin(value string) (string, error) {
	parts := strings.Split(value, ".")
	if len(parts) != 3 {
		return "", ErrNoSession
	}
	var exp int64
	if _, err := fmt.Sscan(parts[0], &exp); err != nil {
		return "", ErrNoSession
	}
	login, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", ErrNoSession
	}
	mac, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil || !hmac.Equal(mac, s.pendingMAC(string(login), exp)) || s.now().Unix() > exp {
		return "", ErrNoSession
	}
	return string(login), nil
}

// require2FAKey is the setting by which a superuser makes two-factor authentication mandatory.
const require2FAKey = "security.require_2fa"

// ErrTOTPRequired refuses to turn off or skip the second factor while it is mandatory.
var ErrTOTPRequired = errors.New("two-factor authentication is required for every user on this Hearth")

// Require2FA reports whether every user must have a second factor.
func (s *Service) Require2FA(ctx context.Context) (bool, error) {
	v, err := s.meta.Setting(ctx, require2FAKey)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return v == "1", err
}

// SetRequire2FA turns the requirement on or off (a superuser's decision, audited).
func (s *Service) SetRequire2FA(ctx context.Context, on bool, actor string, ip netip.Addr) error {
	v := "0"
	if on {
		v = "1"
	}
	if err := s.meta.SetSetting(ctx, require2FAKey, v); err != nil {
		return err
	}
	s.record(ctx, audit.Event{Actor: actor, IP: ip, Action: audit.ActionSettingChange, Target: "setting:" + require2FAKey,
		Details: map[string]string{"value": v}})
	return nil
}

// Needs2FASetup reports whether a user must set up a second factor before doing anything else.
func (s *Service) Needs2FASetup(ctx context.Context, login string) (bool, error) {
	req, err := s.Require2FA(ctx)
	if err != nil || !req {
		return false, err
	}
	on, err := s.Has2FA(ctx, login)
	return !on, err
}
