package matomo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"hearth/internal/audit"
	"hearth/internal/auth"
	"hearth/internal/event"
	"hearth/internal/store"
)

func errSuperuserOnly() error {
	return errorf(401, "You can't access this resource as it requires 'superuser' access.")
}

// confirmPassword checks the caller's own password, as Matomo requires for sensitive changes.
func (a *API) confirmPassword(ctx context.Context, c *call) error {
	pw := c.params.Get("passwordConfirmation")
	if pw == "" {
		return errorf(400, "Please confirm your password (passwordConfirmation) for this change.")
	}
	if _, err := a.checkPassword(ctx, c, c.principal.User.Login, pw); err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			return errorf(401, "The password confirmation is not correct.")
		}
		return err
	}
	return nil
}

// parseExpiry reads an optional expiresAt (YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or RFC 3339).
func (a *API) parseExpiry(c *call) (time.Time, error) {
	raw := strings.TrimSpace(c.params.Get("expiresAt"))
	if raw == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, raw); err == nil {
			if !t.After(a.opts.Now()) {
				return time.Time{}, errorf(400, "expiresAt must be in the future.")
			}
			return t.UTC(), nil
		}
	}
	return time.Time{}, errorf(400, "expiresAt must be YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or RFC 3339.")
}

// targetSites parses idSites (a list or "all") and checks the caller administers each.
func (a *API) targetSites(ctx context.Context, c *call) ([]event.SiteID, error) {
	raw := strings.TrimSpace(c.params.Get("idSites"))
	if raw == "" {
		raw = strings.TrimSpace(c.params.Get("idSite"))
	}
	if raw == "" {
		return nil, errorf(400, "Please specify a value for 'idSites'.")
	}
	var ids []event.SiteID
	if raw == "all" {
		sites, err := a.opts.Meta.Sites(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range sites {
			if c.principal.CanAdmin(s.ID) {
				ids = append(ids, s.ID)
			}
		}
		if len(ids) == 0 && !c.principal.IsSuperuser() {
			// A caller who administers no site is refused, as Matomo does, not answered
			// "success" for a change made nowhere.
			return nil, errorf(401, "You can't access this resource as it requires 'admin' access for at least one website.")
		}
		return ids, nil
	}
	for _, part := range strings.Split(raw, ",") {
		var n int64
		if _, err := fmt.Sscan(strings.TrimSpace(part), &n); err != nil || n <= 0 {
			return nil, errorf(400, "idSites must be site ids or 'all'.")
		}
		id := event.SiteID(n)
		if !c.principal.CanAdmin(id) {
			return nil, errorf(401, "You can't access this resource as it requires 'admin' access for the website id = %d.", n)
		}
		if _, err := a.opts.Meta.Site(ctx, id); errors.Is(err, store.ErrNotFound) {
			return nil, errorf(400, "The website id = %d couldn't be found", n)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (a *API) targetUser(ctx context.Context, c *call) (store.User, error) {
	login := strings.TrimSpace(c.params.Get("userLogin"))
	if login == "" {
		return store.User{}, errorf(400, "Please specify a value for 'userLogin'.")
	}
	u, err := a.opts.Meta.User(ctx, login)
	if errors.Is(err, store.ErrNotFound) {
		// Only superusers learn whether a login exists.
		if !c.principal.IsSuperuser() {
			return u, errorf(401, "You can't access this resource as it requires 'superuser' access.")
		}
		return u, errorf(400, "The user '%s' doesn't exist.", truncate(login, 100))
	}
	return u, err
}

func (a *API) addUser(ctx context.Context, c *call) (any, error) {
	if !c.principal.IsSuperuser() {
		return nil, errSuperuserOnly()
	}
	if err := a.confirmPassword(ctx, c); err != nil {
		return nil, err
	}
	login, email, pw := strings.TrimSpace(c.params.Get("userLogin")), strings.TrimSpace(c.params.Get("email")), c.params.Get("password")
	if err := auth.ValidateNewUser(login, email); err != nil {
		return nil, errorf(400, "%s", err.Error())
	}
	if err := auth.CheckPasswordPolicy(pw, login, email); err != nil {
		return nil, errorf(400, "The %s.", err.Error())
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return nil, err
	}
	if err := a.opts.Meta.CreateUser(ctx, store.User{Login: login, Email: email, PasswordHash: hash, Created: a.opts.Now().UTC()}); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, errorf(400, "The login '%s' is already taken.", truncate(login, 100))
		}
		return nil, err
	}
	a.record(ctx, c, audit.ActionUserCreate, "user:"+login, audit.Success, map[string]string{"via": "UsersManager.addUser"})
	if site := c.params.Get("initialIdSite"); site != "" {
		c.params.Set("idSites", site)
		ids, err := a.targetSites(ctx, c)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			if err := a.grantRole(ctx, c, login, id, auth.RoleView, time.Time{}); err != nil {
				return nil, err
			}
		}
	}
	return success{}, nil
}

func (a *API) grantRole(ctx context.Context, c *call, login string, site event.SiteID, role string, expires time.Time) error {
	g := store.Grant{Login: login, SiteID: site, Name: role, Expires: expires, GrantedBy: c.actor(), Created: a.opts.Now().UTC()}
	if role == auth.RoleNone {
		g.Name = ""
	}
	if err := a.opts.Meta.SetRole(ctx, g); err != nil {
		return err
	}
	details := map[string]string{"role": role}
	if !expires.IsZero() {
		details["expires"] = expires.Format(time.RFC3339)
	}
	action := audit.ActionAccessGrant
	if role == auth.RoleNone {
		action = audit.ActionAccessRevoke
	}
	a.record(ctx, c, action, fmt.Sprintf("user:%s site:%d", login, site), audit.Success, details)
	return nil
}

func (a *API) setUserAccess(ctx context.Context, c *call) (any, error) {
	u, err := a.targetUser(ctx, c)
	if err != nil {
		return nil, err
	}
	role := c.params.Get("access")
	switch role {
	case auth.RoleView, auth.RoleWrite, auth.RoleAdmin, auth.RoleNone:
	default:
		return nil, errorf(400, "access must be view, write, admin or noaccess.")
	}
	ids, err := a.targetSites(ctx, c)
	if err != nil {
		return nil, err
	}
	if u.Superuser {
		return nil, errorf(400, "A superuser has access to every site; their access cannot be changed per site.")
	}
	if u.Login == c.principal.User.Login {
		return nil, errorf(400, "You cannot change your own access.")
	}
	if err := a.confirmPassword(ctx, c); err != nil {
		return nil, err
	}
	expires, err := a.parseExpiry(c)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if err := a.grantRole(ctx, c, u.Login, id, role, expires); err != nil {
			return nil, err
		}
	}
	return success{}, nil
}

func (a *API) capabilityParams(ctx context.Context, c *call) (store.User, []event.SiteID, []string, error) {
	u, err := a.targetUser(ctx, c)
	if err != nil {
		return u, nil, nil, err
	}
	caps, _ := list(c.params, "capabilities")
	if len(caps) == 0 {
		return u, nil, nil, errorf(400, "Please specify a value for 'capabilities'.")
	}
	for _, cp := range caps {
		if cp != auth.CapViewRaw {
			return u, nil, nil, errorf(400, "The capability '%s' does not exist; Hearth knows view_raw.", truncate(cp, 50))
		}
	}
	ids, err := a.targetSites(ctx, c)
	return u, ids, caps, err
}

func (a *API) addCapabilities(ctx context.Context, c *call) (any, error) {
	u, ids, caps, err := a.capabilityParams(ctx, c)
	if err != nil {
		return nil, err
	}
	expires, err := a.parseExpiry(c)
	if err != nil {
		return nil, err
	}
	roles, _, err := a.opts.Meta.Grants(ctx, u.Login)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		has := u.Superuser
		for _, g := range roles {
			has = has || (g.SiteID == id && (g.Expires.IsZero() || a.opts.Now().Before(g.Expires)))
		}
		if !has {
			return nil, errorf(400, "The user needs a role on site %d before a capability can be added.", id)
		}
		for _, cp := range caps {
			if err := a.opts.Meta.AddCapability(ctx, store.Grant{Login: u.Login, SiteID: id, Name: cp, Expires: expires, GrantedBy: c.actor(), Created: a.opts.Now().UTC()}); err != nil {
				return nil, err
			}
			details := map[string]string{"capability": cp}
			if !expires.IsZero() {
				details["expires"] = expires.Format(time.RFC3339)
			}
			a.record(ctx, c, audit.ActionCapabilityAdd, fmt.Sprintf("user:%s site:%d", u.Login, id), audit.Success, details)
		}
	}
	return success{}, nil
}

func (a *API) removeCapabilities(ctx context.Context, c *call) (any, error) {
	u, ids, caps, err := a.capabilityParams(ctx, c)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		for _, cp := range caps {
			if err := a.opts.Meta.RemoveCapability(ctx, u.Login, id, cp); err != nil {
				return nil, err
			}
			a.record(ctx, c, audit.ActionCapabilityRemove, fmt.Sprintf("user:%s site:%d", u.Login, id), audit.Success, map[string]string{"capability": cp})
		}
	}
	return success{}, nil
}

// superuserChange checks a superuser-only change of another account: the caller's rights,
// the target user and the caller's password confirmation.
func (a *API) superuserChange(ctx context.Context, c *call) (store.User, error) {
	if !c.principal.IsSuperuser() {
		return store.User{}, errSuperuserOnly()
	}
	u, err := a.targetUser(ctx, c)
	if err != nil {
		return u, err
	}
	return u, a.confirmPassword(ctx, c)
}

func (a *API) setSuperUserAccess(ctx context.Context, c *call) (any, error) {
	u, err := a.superuserChange(ctx, c)
	if err != nil {
		return nil, err
	}
	v := strings.ToLower(c.params.Get("hasSuperUserAccess"))
	u.Superuser = v == "1" || v == "true"
	if err := a.opts.Meta.UpdateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrLastSuperuser) {
			return nil, errorf(400, "The last superuser cannot lose superuser access.")
		}
		return nil, err
	}
	a.record(ctx, c, audit.ActionSuperuserChange, "user:"+u.Login, audit.Success, map[string]string{"superuser": fmt.Sprint(u.Superuser)})
	return success{}, nil
}

func (a *API) deleteUser(ctx context.Context, c *call) (any, error) {
	u, err := a.superuserChange(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := a.opts.Meta.DeleteUser(ctx, u.Login); err != nil {
		if errors.Is(err, store.ErrLastSuperuser) {
			return nil, errorf(400, "The last superuser cannot be deleted.")
		}
		return nil, err
	}
	a.record(ctx, c, audit.ActionUserDelete, "user:"+u.Login, audit.Success, nil)
	return success{}, nil
}

func (a *API) updateUser(ctx context.Context, c *call) (any, error) {
	u, err := a.ownOrSuperuser(ctx, c)
	if err != nil {
		return nil, err
	}
	if err := a.confirmPassword(ctx, c); err != nil {
		return nil, err
	}
	changed := map[string]string{}
	if email := strings.TrimSpace(c.params.Get("email")); email != "" {
		if err := auth.ValidateNewUser(u.Login, email); err != nil {
			return nil, errorf(400, "%s", err.Error())
		}
		u.Email, changed["email"] = email, "changed"
	}
	if pw := c.params.Get("password"); pw != "" {
		if err := auth.CheckPasswordPolicy(pw, u.Login, u.Email); err != nil {
			return nil, errorf(400, "The %s.", err.Error())
		}
		if u.PasswordHash, err = auth.HashPassword(pw); err != nil {
			return nil, err
		}
		changed["password"] = "changed"
	}
	if len(changed) == 0 {
		return nil, errorf(400, "Nothing to update: give email or password.")
	}
	if err := a.opts.Meta.UpdateUser(ctx, u); err != nil {
		return nil, err
	}
	if changed["password"] != "" {
		if _, err := a.opts.Auth.EndUserSessions(ctx, u.Login); err != nil {
			return nil, err
		}
	}
	a.record(ctx, c, audit.ActionUserUpdate, "user:"+u.Login, audit.Success, changed)
	return success{}, nil
}

// userRow describes a user as Matomo does, with whether they use two-factor authentication.
func (a *API) userRow(ctx context.Context, u store.User) (*Row, error) {
	has2FA, err := a.opts.Auth.Has2FA(ctx, u.Login)
	if err != nil {
		return nil, err
	}
	return NewRow().Set("login", u.Login).Set("email", u.Email).Set("superuser_access", boolInt(u.Superuser)).
		Set("date_registered", u.Created.Format("2006-01-02 15:04:05")).Set("disabled", boolInt(u.Disabled)).
		Set("uses_2fa", boolInt(has2FA)), nil
}

// ownOrSuperuser resolves the userLogin of a call that users may make about themselves and
// superusers about anyone.
func (a *API) ownOrSuperuser(ctx context.Context, c *call) (store.User, error) {
	login := strings.TrimSpace(c.params.Get("userLogin"))
	if login != c.principal.User.Login && !c.principal.IsSuperuser() {
		return store.User{}, errSuperuserOnly()
	}
	return a.targetUser(ctx, c)
}

func (a *API) getUser(ctx context.Context, c *call) (any, error) {
	u, err := a.ownOrSuperuser(ctx, c)
	if err != nil {
		return nil, err
	}
	return a.userRow(ctx, u)
}

func (a *API) getUsers(ctx context.Context, c *call) (any, error) {
	users, err := a.opts.Meta.Users(ctx)
	if err != nil {
		return nil, err
	}
	roles, _, err := a.opts.Meta.Grants(ctx, "")
	if err != nil {
		return nil, err
	}
	visible := map[string]bool{c.principal.User.Login: true}
	for _, g := range roles {
		if c.principal.CanAdmin(g.SiteID) {
			visible[g.Login] = true
		}
	}
	out := []*Row{}
	for _, u := range users {
		if c.principal.IsSuperuser() || visible[u.Login] {
			row, err := a.userRow(ctx, u)
			if err != nil {
				return nil, err
			}
			out = append(out, row)
		}
	}
	return out, nil
}

func (a *API) getUsersPlusRole(ctx context.Context, c *call) (any, error) {
	site, err := a.oneSite(ctx, c)
	if err != nil {
		return nil, err
	}
	if !c.principal.CanAdmin(site.ID) {
		return nil, errorf(401, "You can't access this resource as it requires 'admin' access for the website id = %d.", site.ID)
	}
	users, err := a.opts.Meta.Users(ctx)
	if err != nil {
		return nil, err
	}
	roles, caps, err := a.opts.Meta.Grants(ctx, "")
	if err != nil {
		return nil, err
	}
	now := a.opts.Now()
	live := func(g store.Grant) bool { return g.SiteID == site.ID && (g.Expires.IsZero() || now.Before(g.Expires)) }
	role, capsOf := map[string]string{}, map[string][]string{}
	for _, g := range roles {
		if live(g) {
			role[g.Login] = g.Name
		}
	}
	for _, g := range caps {
		if live(g) {
			capsOf[g.Login] = append(capsOf[g.Login], g.Name)
		}
	}
	out := []*Row{}
	for _, u := range users {
		r := role[u.Login]
		if u.Superuser {
			r = "superuser"
		}
		if r == "" {
			continue
		}
		userCaps := append([]string{}, capsOf[u.Login]...)
		sort.Strings(userCaps)
		row, err := a.userRow(ctx, u)
		if err != nil {
			return nil, err
		}
		out = append(out, row.Set("role", r).Set("capabilities", userCaps))
	}
	return out, nil
}
