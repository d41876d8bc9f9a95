package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"hearth/internal/auth"
	"hearth/internal/store"
)

// The administration pages: sites and their settings, users and their access, API tokens and
// the state of the system. Every change goes through the Reporting API as the signed-in user
// (w.change's way), so the API's checks and audit records apply; each page checks the user's
// rights first and answers 403 (or 404 for a site they cannot see) before anything is shown.

// adminRoutes mounts the administration pages.
func (w *Web) adminRoutes(mux *http.ServeMux) {
	mux.Handle("GET /admin", w.serve(func(http.ResponseWriter, *http.Request) error { return &redirect{"/admin/sites"} }))
	mux.Handle("/admin/sites", w.serve(w.sitesAdmin))
	mux.Handle("/admin/sites/{idSite}", w.serve(w.siteSettings))
	mux.Handle("/admin/users", w.serve(w.usersAdmin))
	mux.Handle("/admin/tokens", w.serve(w.tokensAdmin))
	mux.Handle("/admin/system", w.serve(w.systemAdmin))
}

// adminFrame is the frame of an administration page with its tabs and the outcome of the
// last action: a notice after a change, or the API's message beside the form that failed.
type adminFrame struct {
	frame
	// Tab is the active tab: "sites", "users", "tokens" or "system".
	Tab string
	// Notice is the message key of a change just made (after the redirect that follows it).
	Notice string
	// Error is the message of a refused change and Failed the form it belongs to.
	Error, Failed string
}

// adminNotices are the notices a page shows after ?done=…, by their key.
var adminNotices = map[string]string{
	"added": "admin.done.added", "saved": "admin.done.saved", "granted": "admin.done.granted", "raw": "admin.done.raw",
	"useradded": "admin.done.useradded", "disabled": "admin.done.disabled", "enabled": "admin.done.enabled",
	"unlocked": "admin.done.unlocked", "reset2fa": "admin.done.reset2fa", "revoked": "admin.done.revoked",
}

// newAdminFrame is the frame of an administration page for p (no site: the pages of one site
// show their own heading, not the site's date picker and segment bar).
func (w *Web) newAdminFrame(r *http.Request, p *auth.Principal, titleKey, tab string) (adminFrame, error) {
	l := w.msgs.locale(r)
	f, err := w.newFrame(r, p, l.Or(titleKey, "Administration"), "admin", store.Site{}, state{})
	if err != nil {
		return adminFrame{}, err
	}
	a := adminFrame{frame: f, Tab: tab}
	if r.Method == http.MethodGet {
		a.Notice = adminNotices[r.URL.Query().Get("done")]
	}
	return a, nil
}

// CanManage tells the tabs whether to offer the pages of sites and users.
func (a adminFrame) CanManage() bool { return a.Superuser || a.AdminAny }

// adminForbidden is the refusal of an administration page to a user without the right: key
// names its message in the catalogue.
func adminForbidden(key string) error { return pageErrorT(http.StatusForbidden, key) }

// refusal is an API's answer to a form's change that the user can act on: its message (a
// complaint about the input, a wrong password, a missing right) and the status to answer with.
type refusal struct {
	status  int
	message string
}

func (e *refusal) Error() string { return e.message }

// submit runs a form's change through the Reporting API as p, like w.change, but hands back
// the API's complaints and refusals with their message, to be shown beside the form with the
// user's input kept; any other failure is an error.
func (w *Web) submit(r *http.Request, p *auth.Principal, params url.Values) (any, error) {
	rec, err := w.serveAs(r, p, params, true)
	if err != nil {
		return nil, err
	}
	var e struct {
		Result  string `json:"result"`
		Message string `json:"message"`
	}
	body := rec.body.Bytes()
	_ = json.Unmarshal(body, &e)
	switch {
	case rec.status == http.StatusOK && e.Result != "error":
		dec := json.NewDecoder(&rec.body)
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		return v, nil
	case e.Message != "" && (rec.status == http.StatusOK || rec.status == http.StatusBadRequest):
		return nil, &refusal{http.StatusBadRequest, e.Message}
	case e.Message != "" && (rec.status == http.StatusUnauthorized || rec.status == http.StatusForbidden):
		return nil, &refusal{http.StatusForbidden, e.Message}
	}
	return nil, apiFailure(rec.status, body)
}

// refused reads a refusal from submit's error: the message and status to show the form with.
func refused(err error) (*refusal, bool) {
	var rf *refusal
	ok := errors.As(err, &rf)
	return rf, ok
}

// formLines splits a textarea into its non-empty lines, trimmed.
func formLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// listParam is a list as the API reads it (name[]=a&name[]=b); an empty list is sent as one
// empty item, so that it clears the setting rather than leaving it as it was.
func listParam(v url.Values, name string, items []string) {
	if len(items) == 0 {
		v[name+"[]"] = []string{""}
		return
	}
	v[name+"[]"] = items
}

// checkbox is a checkbox as the API reads it: "1" or "0", always sent so unticking applies.
func checkbox(on bool) string {
	if on {
		return "1"
	}
	return "0"
}

// apiTime shows a time the API gives as "YYYY-MM-DD HH:MM:SS" in UTC in the user's language;
// "" stays "" (never).
func apiTime(l *locale, s string) string {
	t, err := time.Parse(time.DateTime, s)
	if err != nil {
		return s
	}
	return l.Time(t) + " UTC"
}

// adminStart is the start of an administration page: its form's action (formAction), the
// signed-in user and the page's frame; with denied (a catalogue key) set, a user who manages
// no site is refused with it.
func (w *Web) adminStart(rw http.ResponseWriter, r *http.Request, titleKey, tab, denied string) (string, *auth.Principal, adminFrame, error) {
	action, err := formAction(rw, r)
	if err != nil {
		return "", nil, adminFrame{}, err
	}
	p, err := w.signedIn(r)
	if err != nil {
		return "", nil, adminFrame{}, err
	}
	af, err := w.newAdminFrame(r, p, titleKey, tab)
	if err != nil {
		return "", nil, adminFrame{}, err
	}
	if denied != "" && !af.CanManage() {
		return "", nil, adminFrame{}, adminForbidden(denied)
	}
	return action, p, af, nil
}
