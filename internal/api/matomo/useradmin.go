package matomo

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"hearth/internal/audit"
	"hearth/internal/event"
	"hearth/internal/store"
)

// Hearth's own account administration, beyond Matomo's UsersManager: the grants with their
// expiry, locked logins, disabling, unlocking and resetting two-factor authentication, and
// listing and revoking API tokens. The `hearth user` and `hearth token` commands and the
// native API do the same through the same auth service calls and audit actions; the dashboard
// reaches them through these methods so its changes pass the API's checks.

// userAdminMethods registers the methods of this file.
func (a *API) userAdminMethods() {
	for name, m := range map[string]method{
		"Hearth.getAccessGrants":  {fn: a.accessGrants},
		"Hearth.getLoginFailures": {fn: a.loginFailures},
		"Hearth.setUserDisabled":  {fn: a.setUserDisabled, write: true, password: true},
		"Hearth.unlockUser":       {fn: a.unlockUser, write: true},
		"Hearth.resetTwoFactor":   {fn: a.resetTwoFactor, write: true, password: true},
		"Hearth.getTokens":        {fn: a.listTokens},
		"Hearth.revokeToken":      {fn: a.revokeToken, write: true},
	} {
		a.methods[name] = m
	}
}

// timeText is a stored time as the API shows it, "" for never.
func timeText(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}

// accessGrants serves Hearth.getAccessGrants: the roles and capabilities in force on the
// sites the caller administers (idSites, default all of them), with who granted them and when
// they end. Superusers have every right without grants and are not listed.
func (a *API) accessGrants(ctx context.Context, c *call) (any, error) {
	if !c.params.Has("idSites") && !c.params.Has("idSite") {
		c.params.Set("idSites", "all")
	}
	ids, err := a.targetSites(ctx, c)
	if err != nil {
		return nil, err
	}
	on := map[event.SiteID]bool{}
	for _, id := range ids {
		on[id] = true
	}
	roles, caps, err := a.opts.Meta.Grants(ctx, "")
	if err != nil {
		return nil, err
	}
	now := a.opts.Now()
	out := []*Row{}
	add := func(kind string, gs []store.Grant) {
		for _, g := range gs {
			if !on[g.SiteID] || !g.Expires.IsZero() && !now.Before(g.Expires) {
				continue
			}
			out = append(out, NewRow().Set("login", g.Login).Set("idsite", int64(g.SiteID)).Set("kind", kind).Set("access", g.Name).
				Set("expires", timeText(g.Expires)).Set("granted_by", g.GrantedBy).Set("date_granted", timeText(g.Created)))
		}
	}
	add("role", roles)
	add("capability", caps)
	return out, nil
}

// loginFailures serves Hearth.getLoginFailures (superusers): the logins with failed sign-in
// attempts in the last FailureWindow, and whether each is locked.
func (a *API) loginFailures(ctx context.Context, c *call) (any, error) {
	if !c.principal.IsSuperuser() {
		return nil, errSuperuserOnly()
	}
	users, err := a.opts.Meta.Users(ctx)
	if err != nil {
		return nil, err
	}
	out := []*Row{}
	for _, u := range users {
		n, locked, err := a.opts.Auth.LoginFailures(ctx, u.Login)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out = append(out, NewRow().Set("login", u.Login).Set("failures", n).Set("locked", boolInt(locked)))
		}
	}
	return out, nil
}

// setUserDisabled serves Hearth.setUserDisabled (superusers, with their password): disabled=1
// turns an account off and ends its sessions, disabled=0 turns it on again, as
// `hearth user disable|enable` do. The last enabled superuser cannot be disabled.
func (a *API) setUserDisabled(ctx context.Context, c *call) (any, error) {
	raw := strings.ToLower(strings.TrimSpace(c.params.Get("disabled")))
	if raw == "" {
		return nil, errorf(400, "Please specify a value for 'disabled' (1 or 0).")
	}
	u, err := a.superuserChange(ctx, c)
	if err != nil {
		return nil, err
	}
	want := isTrue(raw)
	if want && u.Login == c.principal.User.Login {
		return nil, errorf(400, "You cannot disable your own account.")
	}
	action := audit.ActionUserEnable
	if want {
		action = audit.ActionUserDisable
	}
	if u.Disabled == want {
		return success{}, nil
	}
	u.Disabled = want
	if err := a.opts.Meta.UpdateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrLastSuperuser) {
			a.record(ctx, c, action, "user:"+u.Login, audit.Failure, map[string]string{"reason": "last enabled superuser"})
			return nil, errorf(400, "The last enabled superuser cannot be disabled.")
		}
		return nil, err
	}
	details := map[string]string{"via": "Hearth.setUserDisabled"}
	if want {
		n, err := a.opts.Auth.EndUserSessions(ctx, u.Login)
		if err != nil {
			return nil, err
		}
		details["sessions_ended"] = strconv.Itoa(n)
	}
	a.record(ctx, c, action, "user:"+u.Login, audit.Success, details)
	return success{}, nil
}

// unlockUser serves Hearth.unlockUser (superusers): it clears a login's failed attempts, and
// with them the lock and the client blocks they caused, as `hearth user unlock` does. The
// auth service records the unlock. The answer is how many attempts were cleared.
func (a *API) unlockUser(ctx context.Context, c *call) (any, error) {
	if !c.principal.IsSuperuser() {
		return nil, errSuperuserOnly()
	}
	u, err := a.targetUser(ctx, c)
	if err != nil {
		return nil, err
	}
	n, err := a.opts.Auth.Unlock(ctx, u.Login, c.actor())
	if err != nil {
		return nil, err
	}
	return value{int64(n)}, nil
}

// resetTwoFactor serves Hearth.resetTwoFactor (superusers, with their password): it removes
// every second factor of a user who lost them and ends their sessions, as `hearth user
// reset-2fa` does; they set it up again after signing in with their password.
func (a *API) resetTwoFactor(ctx context.Context, c *call) (any, error) {
	u, err := a.superuserChange(ctx, c)
	if err != nil {
		return nil, err
	}
	if u.Login == c.principal.User.Login {
		return nil, errorf(400, "Manage your own two-factor authentication on your account page.")
	}
	on, err := a.opts.Auth.Has2FA(ctx, u.Login)
	if err != nil {
		return nil, err
	}
	if !on {
		return nil, errorf(400, "The user '%s' has no two-factor authentication.", truncate(u.Login, 100))
	}
	if err := a.opts.Auth.Disable2FA(ctx, u.Login, c.actor(), c.ip); err != nil {
		return nil, err
	}
	if _, err := a.opts.Auth.EndUserSessions(ctx, u.Login); err != nil {
		return nil, err
	}
	return success{}, nil
}

// tokenOwner is the login whose tokens a call lists or revokes: the caller's own, or for a
// superuser another login's (userLogin) or everyone's ("", userLogin=all).
func tokenOwner(c *call) (string, error) {
	login := strings.TrimSpace(c.params.Get("userLogin"))
	switch {
	case login == "" || login == c.principal.User.Login:
		return c.principal.User.Login, nil
	case !c.principal.IsSuperuser():
		return "", errSuperuserOnly()
	case login == "all":
		return "", nil
	}
	return login, nil
}

// listTokens serves Hearth.getTokens: the caller's API tokens, or for a superuser another
// user's (userLogin) or everyone's (userLogin=all). A token's secret is never shown again.
func (a *API) listTokens(ctx context.Context, c *call) (any, error) {
	login, err := tokenOwner(c)
	if err != nil {
		return nil, err
	}
	list, err := a.opts.Meta.Tokens(ctx, login)
	if err != nil {
		return nil, err
	}
	out := []*Row{}
	for _, t := range list {
		out = append(out, NewRow().Set("id", t.ID).Set("login", t.Login).Set("description", t.Description).
			Set("date_created", timeText(t.Created)).Set("last_used", timeText(t.LastUsed)).Set("expires", timeText(t.Expires)).
			Set("read_only", boolInt(t.ReadOnly)).Set("post_only", boolInt(t.PostOnly)))
	}
	return out, nil
}

// revokeToken serves Hearth.revokeToken (idToken), for the token's owner or a superuser, as
// DELETE /api/v1/tokens/{id} does. A token the caller may not see is refused like one that
// does not exist.
func (a *API) revokeToken(ctx context.Context, c *call) (any, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(c.params.Get("idToken")), 10, 64)
	if err != nil || id <= 0 {
		return nil, errorf(400, "Please specify the token's number as 'idToken'.")
	}
	login := c.principal.User.Login
	if c.principal.IsSuperuser() {
		login = ""
	}
	list, err := a.opts.Meta.Tokens(ctx, login)
	if err != nil {
		return nil, err
	}
	var tok *store.Token
	for i := range list {
		if list[i].ID == id {
			tok = &list[i]
		}
	}
	if tok == nil {
		if c.principal.IsSuperuser() {
			return nil, errorf(400, "The token %d doesn't exist.", id)
		}
		return nil, errorf(401, "You can't access this resource: token %d is not one of your tokens.", id)
	}
	if err := a.opts.Meta.DeleteToken(ctx, id); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, errorf(400, "The token %d doesn't exist.", id)
		}
		return nil, fmt.Errorf("revoke token %d: %w", id, err)
	}
	a.record(ctx, c, audit.ActionTokenRevoke, "token:"+strconv.FormatInt(id, 10), audit.Success,
		map[string]string{"owner": tok.Login, "via": "Hearth.revokeToken"})
	return success{}, nil
}
