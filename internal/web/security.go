package web

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"time"

	"hearth/internal/event"
)

type securityUser struct {
	Login, Email                         string
	Superuser, Disabled, TwoFactor, Lock bool
	Failures                             int
}

type grantRow struct {
	Login, Site, Grant, GrantedBy string
	// Since and Expires are in UTC; Expires is zero for a grant without an end.
	Since, Expires time.Time
}

type securityPage struct {
	shell
	Superuser, CanAudit bool
	Users               []securityUser
	Grants              []grantRow
	Required            bool
	Error, Notice       string
}

// security serves /security for superusers: every account's two-factor and lock state, and
// the unlock and unblock actions of `hearth user unlock` and `hearth unblock-ip`.
func (w *Web) security(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.signedIn(r)
	if err != nil {
		return err
	}
	if !p.IsSuperuser() {
		return pageErrorT(http.StatusForbidden, "security.superusers_only")
	}
	ctx := r.Context()
	l := w.msgs.locale(r)
	page := securityPage{Superuser: true, CanAudit: true}
	status := http.StatusOK
	action, err := formAction(rw, r)
	if err != nil {
		return err
	}
	switch action {
	case "": // a GET: the page as it is
	case "unlock":
		login := r.PostForm.Get("login")
		if _, err := w.meta.User(ctx, login); err != nil {
			page.Error, status = l.Text("security.no_user"), http.StatusNotFound
			break
		}
		n, err := w.accounts.Auth.Unlock(ctx, login, p.User.Login)
		if err != nil {
			return fmt.Errorf("unlock: %w", err)
		}
		page.Notice = l.Text("security.unlocked", login, n)
	case "unblock":
		ip, err := netip.ParseAddr(strings.TrimSpace(r.PostForm.Get("ip")))
		if err != nil {
			page.Error, status = l.Text("security.not_ip"), http.StatusBadRequest
			break
		}
		n, err := w.accounts.Auth.UnblockIP(ctx, ip, p.User.Login)
		if err != nil {
			return fmt.Errorf("unblock: %w", err)
		}
		page.Notice = l.Text("security.unblocked", n)
	default:
		return pageErrorT(http.StatusBadRequest, "errorpage.unknown_action")
	}
	users, err := w.meta.Users(ctx)
	if err == nil {
		page.Required, err = w.accounts.Auth.Require2FA(ctx)
	}
	for _, u := range users {
		if err != nil {
			break
		}
		su := securityUser{Login: u.Login, Email: u.Email, Superuser: u.Superuser, Disabled: u.Disabled}
		if su.TwoFactor, err = w.accounts.Auth.Has2FA(ctx, u.Login); err != nil {
			break
		}
		su.Failures, su.Lock, err = w.accounts.Auth.LoginFailures(ctx, u.Login)
		page.Users = append(page.Users, su)
	}
	if err == nil {
		page.Grants, err = w.accessReview(ctx)
	}
	if err != nil {
		return fmt.Errorf("security page: %w", err)
	}
	return w.renderShell(rw, r, status, "security.html", &page)
}

// accessReview lists every grant in force: who has which role or capability on which site,
// who granted it, since when and until when.
func (w *Web) accessReview(ctx context.Context) ([]grantRow, error) {
	sites, err := w.meta.Sites(ctx)
	if err != nil {
		return nil, err
	}
	names := map[event.SiteID]string{}
	for _, s := range sites {
		names[s.ID] = s.Name
	}
	roles, caps, err := w.meta.Grants(ctx, "")
	if err != nil {
		return nil, err
	}
	now := w.now()
	var out []grantRow
	for _, g := range append(roles, caps...) {
		if !g.Expires.IsZero() && !g.Expires.After(now) {
			continue // lapsed; removed by the next sweep
		}
		r := grantRow{Login: g.Login, Site: fmt.Sprintf("%d %s", g.SiteID, names[g.SiteID]), Grant: g.Name, GrantedBy: g.GrantedBy,
			Since: g.Created.UTC()}
		if !g.Expires.IsZero() {
			r.Expires = g.Expires.UTC()
		}
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Login != out[j].Login {
			return out[i].Login < out[j].Login
		}
		return out[i].Site < out[j].Site
	})
	return out, nil
}
