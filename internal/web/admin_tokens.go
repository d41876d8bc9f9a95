package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// adminToken is one API token as the tokens page lists it.
type adminToken struct {
	ID                         string
	Login, Description         string
	Created, LastUsed, Expires string
	ReadOnly, PostOnly, Mine   bool
}

// tokenForm is the form that creates a token, as sent (the password is never kept).
type tokenForm struct {
	Description, Expires string
	ReadOnly, PostOnly   bool
}

type adminTokensPage struct {
	adminFrame
	Tokens []adminToken
	Form   tokenForm
	// TwoFactor: the user signs in with a second factor, which creating a token asks for too.
	TwoFactor bool
	// NewToken is the token just created, shown this once.
	NewToken string
}

// tokensAdmin serves /admin/tokens: the user's API tokens (a superuser's: everyone's) with
// their description, creation, last use, expiry and flags; creating one with
// UsersManager.createAppSpecificTokenAuth (the password, and the second factor when the user
// has one), shown once, and revoking one with Hearth.revokeToken.
func (w *Web) tokensAdmin(rw http.ResponseWriter, r *http.Request) error {
	action, p, af, err := w.adminStart(rw, r, "admin.tokens.title", "tokens", "")
	if err != nil {
		return err
	}
	page := adminTokensPage{adminFrame: af}
	status := http.StatusOK
	f := r.PostForm
	switch action {
	case "":
	case "create":
		page.Form = tokenForm{Description: strings.TrimSpace(f.Get("description")), Expires: strings.TrimSpace(f.Get("expireDate")),
			ReadOnly: f.Get("readOnly") == "1", PostOnly: f.Get("postOnly") == "1"}
		params := url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"}, "userLogin": {p.User.Login},
			"passwordConfirmation": {f.Get("passwordConfirmation")}, "description": {page.Form.Description},
			"readOnly": {checkbox(page.Form.ReadOnly)}, "postOnly": {checkbox(page.Form.PostOnly)}}
		if page.Form.Expires != "" {
			params.Set("expireDate", page.Form.Expires)
		}
		if code := strings.TrimSpace(f.Get("authCode")); code != "" {
			params.Set("authCode", code)
		}
		v, err := w.submit(r, p, params)
		if rf, ok := refused(err); ok {
			page.Error, page.Failed, status = rf.message, "create", rf.status
			break
		}
		if err != nil {
			return err
		}
		page.NewToken, page.Form = fmt.Sprint(object(v)["value"]), tokenForm{}
	case "revoke":
		_, err := w.submit(r, p, url.Values{"method": {"Hearth.revokeToken"}, "idToken": {f.Get("idToken")}})
		if rf, ok := refused(err); ok {
			page.Error, page.Failed, status = rf.message, "revoke", rf.status
			break
		}
		if err != nil {
			return err
		}
		return &redirect{"/admin/tokens?done=revoked"}
	default:
		return pageErrorT(http.StatusBadRequest, "errorpage.unknown_action")
	}
	list := url.Values{"method": {"Hearth.getTokens"}}
	if p.IsSuperuser() {
		list.Set("userLogin", "all")
	}
	got, err := w.callAll(r, p, []url.Values{list, {"method": {"UsersManager.getUser"}, "userLogin": {p.User.Login}}})
	if err != nil {
		return err
	}
	l := af.L
	for _, t := range rows(got[0]) {
		tok := adminToken{ID: fmt.Sprint(t["id"]), Login: fmt.Sprint(t["login"]), Description: fmt.Sprint(t["description"]),
			Created: apiTime(l, fmt.Sprint(t["date_created"])), LastUsed: apiTime(l, fmt.Sprint(t["last_used"])),
			Expires: apiTime(l, fmt.Sprint(t["expires"])), ReadOnly: fmt.Sprint(t["read_only"]) == "1", PostOnly: fmt.Sprint(t["post_only"]) == "1"}
		tok.Mine = tok.Login == p.User.Login
		page.Tokens = append(page.Tokens, tok)
	}
	page.TwoFactor = fmt.Sprint(object(got[1])["uses_2fa"]) == "1"
	return w.renderPage(rw, status, "admin_tokens.html", page)
}
