package matomo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
)

// maxPasswordChecks bounds the password checks one HTTP request may cause.
const maxPasswordChecks = 1

// checkPassword checks a login's password, at most maxPasswordChecks times per request.
func (a *API) checkPassword(ctx context.Context, c *call, login, password string) (*auth.Principal, error) {
	if c.passwordChecks == nil {
		c.passwordChecks = new(int)
	}
	if *c.passwordChecks >= maxPasswordChecks {
		return nil, errorf(400, "A request may check a password only once: send each call that takes a password in a request of its own.")
	}
	*c.passwordChecks++
	return a.opts.Auth.Password(ctx, login, password, c.ip)
}

func (a *API) createToken(ctx context.Context, c *call) (any, error) {
	login := c.params.Get("userLogin")
	pass := c.params.Get("passwordConfirmation")
	desc := strings.TrimSpace(c.params.Get("description"))
	if login == "" || pass == "" {
		return nil, errorf(400, "userLogin and passwordConfirmation are required.")
	}
	if desc == "" {
		return nil, errorf(400, "Please specify a value for 'description'.")
	}
	if len(desc) > 100 {
		return nil, errorf(400, "The description must be at most 100 characters.")
	}
	p, err := a.checkPassword(ctx, c, login, pass)
	if err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			return nil, errorf(401, "The login or password is not correct.")
		}
		return nil, err
	}
	// With two-factor authentication on, a password alone does not make a token.
	if need, err := a.opts.Auth.Needs2FASetup(ctx, p.User.Login); err != nil {
		return nil, err
	} else if need {
		return nil, errorf(403, "Two-factor authentication is required on this Hearth: set it up at /account/2fa before creating tokens.")
	}
	if on, err := a.opts.Auth.Has2FA(ctx, p.User.Login); err != nil {
		return nil, err
	} else if on {
		code := c.params.Get("authCode")
		if code == "" {
			return nil, errorf(401, "Two-factor authentication is on for this user: add the 'authCode' parameter with a code from the authenticator app.")
		}
		if err := a.opts.Auth.VerifySecondFactor(ctx, p.User.Login, code, c.ip); err != nil {
			if errors.Is(err, auth.ErrBadCode) {
				return nil, errorf(401, "The authentication code is wrong or was already used.")
			}
			return nil, err
		}
	}
	var expires time.Time
	if d := c.params.Get("expireDate"); d != "" {
		t, err := time.Parse("2006-01-02", d)
		if err != nil {
			t, err = time.Parse("2006-01-02 15:04:05", d)
		}
		if err != nil {
			return nil, errorf(400, "expireDate must be YYYY-MM-DD or YYYY-MM-DD HH:MM:SS.")
		}
		expires = t.UTC()
	} else if h := c.params.Get("expireHours"); h != "" {
		n, err := strconv.ParseFloat(h, 64)
		if err != nil || n <= 0 || n > 24*365*10 {
			return nil, errorf(400, "expireHours must be a positive number of hours.")
		}
		expires = a.opts.Now().Add(time.Duration(n * float64(time.Hour))).UTC()
	}
	if !expires.IsZero() && !expires.After(a.opts.Now()) {
		return nil, errorf(400, "The expiry date must be in the future.")
	}
	var flags []auth.TokenFlag
	if isTrue(c.params.Get("readOnly")) {
		flags = append(flags, auth.ReadOnly)
	}
	if isTrue(c.params.Get("postOnly")) || isTrue(c.params.Get("secureOnly")) {
		flags = append(flags, auth.PostOnly)
	}
	tok, id, err := a.opts.Auth.NewToken(ctx, p.User.Login, desc, expires, flags...)
	if err != nil {
		return nil, fmt.Errorf("create token: %w", err)
	}
	c.principal = p
	details := map[string]string{"description": desc}
	if !expires.IsZero() {
		details["expires"] = expires.Format(time.RFC3339)
	}
	for _, f := range flags {
		details[map[auth.TokenFlag]string{auth.ReadOnly: "read_only", auth.PostOnly: "post_only"}[f]] = "true"
	}
	a.record(ctx, c, audit.ActionTokenCreate, fmt.Sprintf("token:%d", id), audit.Success, details)
	return value{tok}, nil
}
