package web

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"hearth/internal/auth"
	"hearth/internal/store"
)

// adminUser is one account of the users page with its access on the sites the viewer
// administers.
type adminUser struct {
	Login, Email                   string
	Superuser, Disabled, TwoFactor bool
	// Failures are the recent failed sign-ins (superusers see them) and Locked whether they
	// locked the login.
	Failures int
	Locked   bool
	Access   []siteAccessRow
}

// siteAccessRow is a user's role and raw-data access on one site, with when each ends.
type siteAccessRow struct {
	Site                string
	Role, RoleExpires   string
	Raw                 bool
	RawExpires, Granted string
}

// The forms of the users page, as sent (kept when the API refuses them).
type (
	grantForm   struct{ Login, Site, Access, Expires string }
	rawForm     struct{ Login, Site, Op, Expires string }
	newUserForm struct{ Login, Email, Site string }
	accountForm struct{ Login, Op string }
)

type adminUsersPage struct {
	adminFrame
	Users []adminUser
	// Sites are the sites the viewer administers, for the forms.
	Sites   []store.Site
	Roles   []string
	Grant   grantForm
	Raw     rawForm
	NewUser newUserForm
	Account accountForm
	// AccountOps are what the account form does: disable, enable, unlock, reset2fa.
	AccountOps []string
}

var grantRoles = []string{auth.RoleView, auth.RoleWrite, auth.RoleAdmin, auth.RoleNone}

// usersAdmin serves /admin/users: for a superuser every account, for a site admin the
// accounts with access to their sites; roles per site and view_raw grants with their expiry.
// Its forms grant roles (UsersManager.setUserAccess) and raw-data access (add/remove
// Capabilities) on the viewer's sites and, for superusers, add an account (addUser), disable
// or enable it, unlock it and reset its two-factor authentication (the Hearth methods).
func (w *Web) usersAdmin(rw http.ResponseWriter, r *http.Request) error {
	action, p, af, err := w.adminStart(rw, r, "admin.users.title", "users", "admin.err.no_users")
	if err != nil {
		return err
	}
	page := adminUsersPage{adminFrame: af, Roles: grantRoles, AccountOps: []string{"disable", "enable", "unlock", "reset2fa"}}
	for _, s := range af.Sites {
		if p.CanAdmin(s.ID) {
			page.Sites = append(page.Sites, s)
		}
	}
	// ?login= and ?site= choose the account and the site the forms start with.
	pick, site := r.URL.Query().Get("login"), r.URL.Query().Get("site")
	page.Grant = grantForm{Login: pick, Site: site, Access: auth.RoleView}
	page.Raw, page.Account = rawForm{Login: pick, Site: site, Op: "add"}, accountForm{Login: pick}
	status := http.StatusOK
	if action != "" {
		done, params, err := w.userChange(r, p, action, &page)
		if err == nil {
			_, err = w.submit(r, p, params)
		}
		if rf, ok := refused(err); ok {
			page.Error, page.Failed, status = rf.message, action, rf.status
		} else if err != nil {
			return err
		} else {
			login := r.PostForm.Get("userLogin")
			return &redirect{"/admin/users?done=" + done + "&login=" + url.QueryEscape(login) + "#users"}
		}
	}
	calls := []url.Values{{"method": {"UsersManager.getUsers"}}, {"method": {"Hearth.getAccessGrants"}, "idSites": {"all"}}}
	if p.IsSuperuser() {
		calls = append(calls, url.Values{"method": {"Hearth.getLoginFailures"}})
	}
	got, err := w.callAll(r, p, calls)
	if err != nil {
		return err
	}
	page.Users = usersOf(af.L, got, page.Sites)
	return w.renderPage(rw, status, "admin_users.html", page)
}

// userChange reads a form of the users page into its API call and the notice it leaves.
func (w *Web) userChange(r *http.Request, p *auth.Principal, action string, page *adminUsersPage) (string, url.Values, error) {
	f := r.PostForm
	t := func(k string) string { return strings.TrimSpace(f.Get(k)) }
	login := t("userLogin")
	switch action {
	case "grant":
		page.Grant = grantForm{Login: login, Site: t("idSites"), Access: t("access"), Expires: t("expiresAt")}
		return "granted", url.Values{"method": {"UsersManager.setUserAccess"}, "userLogin": {login}, "access": {page.Grant.Access},
			"idSites": {page.Grant.Site}, "expiresAt": {page.Grant.Expires}, "passwordConfirmation": {f.Get("passwordConfirmation")}}, nil
	case "raw":
		page.Raw = rawForm{Login: login, Site: t("idSites"), Op: t("op"), Expires: t("expiresAt")}
		v := url.Values{"userLogin": {login}, "capabilities": {auth.CapViewRaw}, "idSites": {page.Raw.Site}}
		switch page.Raw.Op {
		case "add":
			v.Set("method", "UsersManager.addCapabilities")
			v.Set("expiresAt", page.Raw.Expires)
		case "remove":
			v.Set("method", "UsersManager.removeCapabilities")
		default:
			return "", nil, &refusal{http.StatusBadRequest, page.L.Text("admin.err.raw_op")}
		}
		return "raw", v, nil
	case "adduser":
		page.NewUser = newUserForm{Login: login, Email: t("email"), Site: t("initialIdSite")}
		if f.Get("password") != f.Get("password2") {
			return "", nil, &refusal{http.StatusBadRequest, page.L.Text("admin.err.passwords")}
		}
		v := url.Values{"method": {"UsersManager.addUser"}, "userLogin": {login}, "email": {page.NewUser.Email}, "password": {f.Get("password")},
			"passwordConfirmation": {f.Get("passwordConfirmation")}}
		if page.NewUser.Site != "" {
			v.Set("initialIdSite", page.NewUser.Site)
		}
		return "useradded", v, nil
	case "account":
		page.Account = accountForm{Login: login, Op: t("op")}
		pw := f.Get("passwordConfirmation")
		switch page.Account.Op {
		case "disable", "enable":
			disabled := checkbox(page.Account.Op == "disable")
			return page.Account.Op + "d", url.Values{"method": {"Hearth.setUserDisabled"}, "userLogin": {login}, "disabled": {disabled},
				"passwordConfirmation": {pw}}, nil
		case "unlock":
			return "unlocked", url.Values{"method": {"Hearth.unlockUser"}, "userLogin": {login}}, nil
		case "reset2fa":
			return "reset2fa", url.Values{"method": {"Hearth.resetTwoFactor"}, "userLogin": {login}, "passwordConfirmation": {pw}}, nil
		}
		return "", nil, &refusal{http.StatusBadRequest, page.L.Text("admin.err.account_op")}
	}
	return "", nil, pageErrorT(http.StatusBadRequest, "errorpage.unknown_action")
}

// usersOf builds the users table from the answers of getUsers, getAccessGrants and (for
// superusers) getLoginFailures, showing access on sites only.
func usersOf(l *locale, got []any, sites []store.Site) []adminUser {
	names := map[string]string{}
	for _, s := range sites {
		names[strconv.FormatInt(int64(s.ID), 10)] = s.Name
	}
	type key struct{ login, site string }
	access := map[key]*siteAccessRow{}
	var order []key
	for _, g := range rows(got[1]) {
		k := key{fmt.Sprint(g["login"]), fmt.Sprint(g["idsite"])}
		a := access[k]
		if a == nil {
			name := names[k.site]
			if name == "" {
				name = "#" + k.site
			}
			a = &siteAccessRow{Site: name}
			access[k] = a
			order = append(order, k)
		}
		expires := apiTime(l, fmt.Sprint(g["expires"]))
		if fmt.Sprint(g["kind"]) == "role" {
			a.Role, a.RoleExpires = fmt.Sprint(g["access"]), expires
		} else if fmt.Sprint(g["access"]) == auth.CapViewRaw {
			a.Raw, a.RawExpires = true, expires
		}
	}
	sort.SliceStable(order, func(i, j int) bool {
		a, _ := strconv.Atoi(order[i].site)
		b, _ := strconv.Atoi(order[j].site)
		return a < b
	})
	failures := map[string]map[string]any{}
	if len(got) > 2 {
		for _, f := range rows(got[2]) {
			failures[fmt.Sprint(f["login"])] = f
		}
	}
	var out []adminUser
	for _, u := range rows(got[0]) {
		au := adminUser{Login: fmt.Sprint(u["login"]), Email: fmt.Sprint(u["email"]), Superuser: fmt.Sprint(u["superuser_access"]) == "1",
			Disabled: fmt.Sprint(u["disabled"]) == "1", TwoFactor: fmt.Sprint(u["uses_2fa"]) == "1"}
		if f, ok := failures[au.Login]; ok {
			n, _ := toFloat(f["failures"])
			au.Failures, au.Locked = int(n), fmt.Sprint(f["locked"]) == "1"
		}
		for _, k := range order {
			if k.login == au.Login {
				au.Access = append(au.Access, *access[k])
			}
		}
		out = append(out, au)
	}
	return out
}
