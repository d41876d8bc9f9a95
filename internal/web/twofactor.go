package web

import (
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"

	"hearth/internal/auth"
	"hearth/internal/store"
)

type twoFactorPage struct {
	shell
	Superuser, CanAudit bool
	Login               string
	// Enabled: the user has a second factor; TOTP: an authenticator app among them.
	Enabled, TOTP bool
	Passkeys      []passkeyRow
	// Required: every user must have two-factor authentication (a superuser setting).
	Required      bool
	Setup         *auth.TOTPSetup
	QR            template.URL
	Codes         []string
	Error, Notice string
}

// twoFactor serves /account/2fa: the second factors of the signed-in user. An authenticator app
// is turned on by scanning and confirming a first code; passkeys are added by the page's script
// (see passkeyRegistration) and removed here with the password; the first factor brings the
// recovery codes, shown once; everything is turned off together with the password.
func (w *Web) twoFactor(rw http.ResponseWriter, r *http.Request) error {
	p := w.principal(r)
	if p == nil {
		return &redirect{"/login"}
	}
	ctx := r.Context()
	admin, _, err := w.adminSites(ctx, p)
	if err != nil {
		return fmt.Errorf("two-factor page: %w", err)
	}
	l := w.msgs.locale(r)
	page := twoFactorPage{Superuser: p.IsSuperuser(), CanAudit: p.IsSuperuser() || len(admin) > 0, Login: p.User.Login}
	status := http.StatusOK
	// fail shows a refused action on the page itself; anything unexpected is the error page.
	var unexpected error
	fail := func(err error) {
		switch {
		case errors.Is(err, auth.ErrBadCode), errors.Is(err, auth.ErrTOTPEnabled), errors.Is(err, auth.ErrNoTOTPSetup),
			errors.Is(err, auth.ErrTOTPRequired):
			page.Error, status = authText(l, err), http.StatusBadRequest
		case errors.Is(err, store.ErrNotFound): // a passkey removed meanwhile
			page.Error, status = l.Text("twofa.unknown_passkey"), http.StatusBadRequest
		case errors.Is(err, auth.ErrBadCredentials):
			page.Error, status = l.Text("twofa.wrong_password"), http.StatusUnauthorized
		default:
			unexpected = fmt.Errorf("two-factor page: %w", err)
		}
	}
	action, err := formAction(rw, r)
	if err != nil {
		return err
	}
	switch action {
	case "": // a GET: the page as it is
	case "begin":
		setup, err := w.accounts.Auth.BeginTOTP(ctx, p.User.Login)
		if err != nil {
			fail(err)
			break
		}
		page.Setup = &setup
		// #nosec G203 -- a data:image/png URL built here from a PNG encoded here.
		page.QR = template.URL(setup.QRPNG)
	case "confirm":
		codes, err := w.accounts.Auth.ConfirmTOTP(ctx, p.User.Login, r.PostForm.Get("code"), w.ip(r))
		if err != nil {
			fail(err)
			break
		}
		page.Codes = codes
		page.Notice = l.Text("twofa.app_set_up")
	case "require", "norequire":
		if !p.IsSuperuser() {
			return pageErrorT(http.StatusForbidden, "twofa.superuser_only")
		}
		if _, err := w.accounts.Auth.Password(ctx, p.User.Login, r.PostForm.Get("password"), w.ip(r)); err != nil {
			fail(err)
			break
		}
		on := action == "require"
		if err := w.accounts.Auth.SetRequire2FA(ctx, on, p.User.Login, w.ip(r)); err != nil {
			fail(err)
			break
		}
		page.Notice = l.Text(map[bool]string{true: "twofa.now_required", false: "twofa.now_optional"}[on])
	case "disable":
		if req, err := w.accounts.Auth.Require2FA(ctx); err != nil {
			fail(err)
			break
		} else if req {
			fail(auth.ErrTOTPRequired)
			break
		}
		if _, err := w.accounts.Auth.Password(ctx, p.User.Login, r.PostForm.Get("password"), w.ip(r)); err != nil {
			fail(err)
			break
		}
		if err := w.accounts.Auth.Disable2FA(ctx, p.User.Login, p.User.Login, w.ip(r)); err != nil {
			fail(err)
			break
		}
		page.Notice = l.Text("twofa.now_off")
	case "remove-passkey":
		id, err := base64.RawURLEncoding.DecodeString(r.PostForm.Get("id"))
		if err != nil {
			return pageErrorT(http.StatusBadRequest, "twofa.unknown_passkey")
		}
		if _, err := w.accounts.Auth.Password(ctx, p.User.Login, r.PostForm.Get("password"), w.ip(r)); err != nil {
			fail(err)
			break
		}
		if err := w.accounts.Auth.RemovePasskey(ctx, p.User.Login, id, p.User.Login, w.ip(r)); err != nil {
			fail(err)
			break
		}
		page.Notice = l.Text("twofa.passkey_removed")
	default:
		return pageErrorT(http.StatusBadRequest, "errorpage.unknown_action")
	}
	if unexpected != nil {
		return unexpected
	}
	if page.Required, err = w.accounts.Auth.Require2FA(ctx); err != nil {
		return fmt.Errorf("two-factor page: %w", err)
	}
	if page.Enabled, err = w.accounts.Auth.Has2FA(ctx, p.User.Login); err != nil {
		return fmt.Errorf("two-factor page: %w", err)
	}
	if page.TOTP, err = w.accounts.Auth.HasTOTP(ctx, p.User.Login); err != nil {
		return fmt.Errorf("two-factor page: %w", err)
	}
	keys, err := w.accounts.Auth.Passkeys(ctx, p.User.Login)
	if err != nil {
		return fmt.Errorf("two-factor page: %w", err)
	}
	page.Passkeys = passkeyRows(keys)
	return w.renderShell(rw, r, status, "account_2fa.html", &page)
}
