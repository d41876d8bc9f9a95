package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"hearth/internal/auth"
)

// The account pages (sign-in, setup, account, two-factor, security, audit trail, error) in
// the request's language: what they give the shared head and navigation, texts holding markup,
// and the auth package's refusals in the catalogue's words.

// shell is what an account page gives the shared "head" and "nav" templates: the request's
// language and the catalogue key of the page's title.
type shell struct {
	L        *locale
	TitleKey string
}

func (s *shell) setShell(v shell) { *s = v }

// pageTitles are the catalogue keys of the account pages' titles, by template.
var pageTitles = map[string]string{
	"login.html":       "signin.title",
	"login_2fa.html":   "signin.2fa_title",
	"setup.html":       "setup.title",
	"error.html":       "errorpage.title",
	"account.html":     "account.title",
	"account_2fa.html": "twofa.title",
	"security.html":    "security.title",
	"audit.html":       "audit.title",
}

// renderShell renders an account page in the request's language, with the title its
// template has.
func (w *Web) renderShell(rw http.ResponseWriter, r *http.Request, status int, name string, page interface{ setShell(shell) }) error {
	page.setShell(shell{L: w.msgs.locale(r), TitleKey: pageTitles[name]})
	return w.renderPage(rw, status, name, page)
}

// Text is T for handlers: the text of key, or the key itself should the catalogue lack it
// (the pages' tests check that every key a handler names is there).
func (l *locale) Text(key string, args ...any) string {
	s, err := l.T(key, args...)
	if err != nil {
		return key
	}
	return s
}

// HTML is the text of key as markup, for sentences that wrap a name or a command in inline
// tags: the catalogue's own text is trusted, each text argument is escaped.
func (l *locale) HTML(key string, args ...any) (template.HTML, error) {
	texts, ok := l.c[key]
	if !ok {
		return "", fmt.Errorf("no message %q", key)
	}
	s := texts[l.Lang]
	if len(args) > 0 {
		safe := make([]any, len(args))
		for i, a := range args {
			switch a.(type) {
			case int, int64, float64:
				safe[i] = a // numbers, formatted in the language's signs
			default:
				safe[i] = template.HTMLEscapeString(fmt.Sprint(a))
			}
		}
		s = l.p.Sprintf(s, safe...)
	}
	// #nosec G203 -- the catalogue's own text, every argument escaped above.
	return template.HTML(s), nil
}

// authMessages are the catalogue keys of the auth package's refusals a page shows; a key with
// a "_detail" variant also takes the detail the error adds after its text.
var authMessages = []struct {
	err error
	key string
}{
	{auth.ErrBadCode, "autherr.bad_code"},
	{auth.ErrTOTPEnabled, "autherr.totp_enabled"},
	{auth.ErrNoTOTPSetup, "autherr.no_totp_setup"},
	{auth.ErrTOTPRequired, "autherr.totp_required"},
	{auth.ErrNoPasskey, "autherr.no_passkey"},
	{auth.ErrPasskeyCeremony, "autherr.passkey_ceremony"},
	{auth.ErrPasskeyRejected, "autherr.passkey_rejected"},
	{auth.ErrPasskeyName, "autherr.passkey_name"},
	{auth.ErrPasskeyNeedsHost, "autherr.passkey_needs_host"},
	{auth.ErrPasskeyExists, "autherr.passkey_exists"},
	{auth.ErrWeakPassword, "autherr.weak_password"},
	{auth.ErrCommonPassword, "autherr.common_password"},
	{auth.ErrPasswordPattern, "autherr.password_pattern"},
	{auth.ErrPasswordLogin, "autherr.password_login"},
}

// authText is the text of an auth error the pages may show, in the request's language; an
// error the catalogue does not know is shown in the auth package's words, as a sentence.
func authText(l *locale, err error) string {
	first, _, _ := strings.Cut(err.Error(), "\n")
	for _, m := range authMessages {
		if !errors.Is(err, m.err) {
			continue
		}
		if first == m.err.Error() {
			return l.Text(m.key)
		}
		if detail, ok := strings.CutPrefix(first, m.err.Error()+": "); ok && l.Has(m.key+"_detail") {
			return l.Text(m.key+"_detail", detail)
		}
	}
	return sentence(first)
}
