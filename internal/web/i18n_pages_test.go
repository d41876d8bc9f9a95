package web_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"hearth/internal/store"
	"hearth/internal/web"
)

// i18nMoment is the rig's clock in these tests: the audit entry of a page view and the
// grant below carry it, so the pages' dates are known in advance.
var i18nMoment = time.Date(2026, time.March, 7, 9, 5, 0, 0, time.UTC)

// i18nRig is a rig at i18nMoment with a superuser root, a viewer of site 1 whose grant was
// made at i18nMoment as a clock two hours east of UTC reads it, and a user keyed whose only
// second factor is a passkey added late on 6 March in New York (04:30 on 7 March, UTC) and
// never used.
func i18nRig(t *testing.T) (*pagesRig, map[string]map[string]string) {
	t.Helper()
	r := newPagesRig(t)
	r.now = i18nMoment
	ctx := context.Background()
	r.user(t, store.User{Login: "root", Superuser: true})
	r.user(t, store.User{Login: "viewer"})
	r.user(t, store.User{Login: "keyed"})
	site := r.site(t, "Shop", "https://shop.example")
	east := time.Date(2026, time.March, 7, 11, 5, 0, 0, time.FixedZone("UTC+2", 2*3600))
	if err := r.meta.SetRole(ctx, store.Grant{Login: "viewer", SiteID: site, Name: "view", Created: east}); err != nil {
		t.Fatal(err)
	}
	newYork := time.Date(2026, time.March, 6, 23, 30, 0, 0, time.FixedZone("UTC-5", -5*3600))
	if err := r.meta.AddPasskey(ctx, store.Passkey{ID: []byte("key-1"), Login: "keyed", Name: "desk key", RPID: host,
		Credential: []byte("{}"), Created: newYork}); err != nil {
		t.Fatal(err)
	}
	cookies := map[string]map[string]string{}
	for _, login := range []string{"root", "viewer", "keyed"} {
		cookies[login] = map[string]string{"hearth_session": r.session(t, login)}
	}
	return r, cookies
}

// pageCase is a request to one of the account pages and texts its answer must hold in
// English and in German; each language's texts must be missing from the other's answer.
type pageCase struct {
	name   string
	req    request
	code   int
	en, de []string
}

func checkLanguages(t *testing.T, r *pagesRig, cases []pageCase) {
	t.Helper()
	for _, c := range cases {
		for _, lang := range []string{"en", "de"} {
			t.Run(c.name+"/"+lang, func(t *testing.T) {
				q := c.req
				q.header = map[string]string{"Accept-Language": lang}
				if q.method != http.MethodGet {
					q.header["Origin"] = origin
				}
				a := r.do(t, q)
				if a.code != c.code {
					t.Fatalf("%s %s: %d, want %d: %.400s", q.method, q.path, a.code, c.code, a.body)
				}
				if want := `<html lang="` + lang + `">`; !strings.Contains(a.body, want) {
					t.Errorf("no %s in %.300s", want, a.body)
				}
				want, other := c.en, c.de
				if lang == "de" {
					want, other = c.de, c.en
				}
				for _, s := range want {
					if !strings.Contains(a.body, s) {
						t.Errorf("missing %q in\n%s", s, a.body)
					}
				}
				for _, s := range other {
					if strings.Contains(a.body, s) {
						t.Errorf("the other language's %q in\n%s", s, a.body)
					}
				}
			})
		}
	}
}

// TestAccountPagesInTheRequestsLanguage: the sign-in, account, two-factor, security, audit
// and error pages, with the messages their handlers show, speak the language the browser
// asks for: German for de, and the English texts as before for en. Dates are in UTC, in the
// language's form.
func TestAccountPagesInTheRequestsLanguage(t *testing.T) {
	r, sess := i18nRig(t)
	get := func(path string, cookies map[string]string) request {
		return request{method: http.MethodGet, path: path, cookies: cookies}
	}
	post := func(path string, cookies map[string]string, form url.Values) request {
		return request{method: http.MethodPost, path: path, cookies: cookies, form: form}
	}
	pending := map[string]string{web.PendingCookie: r.auth.PendingSignIn("keyed")}
	checkLanguages(t, r, []pageCase{
		{"sign-in page", get("/login", nil), 200,
			[]string{"<title>Sign in · Hearth</title>", "<h1>Sign in to Hearth</h1>", ">Sign in</button>", "Password <input"},
			[]string{"<title>Anmelden · Hearth</title>", "<h1>Bei Hearth anmelden</h1>", ">Anmelden</button>", "Passwort <input"}},
		{"wrong password", post("/login", nil, url.Values{"login": {"root"}, "password": {"not the password"}}), 401,
			[]string{"Wrong login or password."}, []string{"Anmeldename oder Passwort ist falsch."}},
		{"second step", post("/login", nil, url.Values{"login": {"keyed"}, "password": {password("keyed")}}), 200,
			[]string{"<h1>Two-factor sign-in</h1>", ">Use a passkey</button>", "Or enter a code:", "Enter the six-digit code"},
			[]string{"<h1>Anmeldung mit zweitem Faktor</h1>", ">Passkey verwenden</button>", "Oder geben Sie einen Code ein:", "Geben Sie den sechsstelligen Code"}},
		{"wrong code", post("/login/2fa", pending, url.Values{"code": {"000000"}}), 401,
			[]string{"Wrong or already used code.", ">Start again</a>"}, []string{"Falscher oder bereits verwendeter Code.", ">Von vorn beginnen</a>"}},
		{"second step too late", post("/login/2fa", nil, url.Values{"code": {"000000"}}), 401,
			[]string{"The sign-in took too long; start again."}, []string{"Die Anmeldung hat zu lange gedauert; bitte beginnen Sie von vorn."}},
		{"account page", get("/account", sess["root"]), 200,
			[]string{"<title>Account · Hearth</title>", "<h1>Signed in as root</h1>", " · superuser: every site, every setting", "<h2>Your sites</h2>",
				"<th>Raw data</th>", ">Sites</a>", ">Audit trail</a>", ">Security</a>", ">Sign out</button>", "Your session ends after 1 h without activity, and after 24 h in any case."},
			[]string{"<title>Konto · Hearth</title>", "<h1>Angemeldet als root</h1>", " · Superuser: alle Websites, alle Einstellungen", "<h2>Ihre Websites</h2>",
				"<th>Rohdaten</th>", ">Websites</a>", ">Prüfprotokoll</a>", ">Sicherheit</a>", ">Abmelden</button>", "Ihre Sitzung endet nach 1 h ohne Aktivität und in jedem Fall nach 24 h."}},
		{"account page of a viewer", get("/account", sess["viewer"]), 200,
			[]string{"<td>Shop</td><td>view</td>"}, []string{"<td>Shop</td><td>ansehen</td>"}},
		{"two-factor page, nothing set up", get("/account/2fa", sess["root"]), 200,
			[]string{"<h1>Two-factor authentication</h1>", "Two-factor authentication is off. With it on", ">Set up an authenticator app</button>", "<h2>For every user</h2>"},
			[]string{"<h1>Zwei-Faktor-Authentifizierung</h1>", "Die Zwei-Faktor-Authentifizierung ist ausgeschaltet. Ist sie eingeschaltet", ">Authentifizierungs-App einrichten</button>", "<h2>Für alle Benutzer</h2>"}},
		{"two-factor page with a passkey", get("/account/2fa", sess["keyed"]), 200,
			[]string{"Signing in as <strong>keyed</strong> asks for a second factor after the password: a passkey.",
				"<th>Added (UTC)</th>", "<td>desk key</td><td>7 Mar 2026 04:30</td><td>never</td>"},
			[]string{"Bei der Anmeldung als <strong>keyed</strong> wird nach dem Passwort ein zweiter Faktor verlangt: ein Passkey.",
				"<th>Hinzugefügt (UTC)</th>", "<td>desk key</td><td>7. März 2026 04:30</td><td>nie</td>"}},
		{"two-factor page, wrong password", post("/account/2fa", sess["root"], url.Values{"action": {"disable"}, "password": {"wrong"}}), 401,
			[]string{`<p class="error" role="alert">Wrong password.</p>`}, []string{`<p class="error" role="alert">Falsches Passwort.</p>`}},
		{"security page", get("/security", sess["root"]), 200,
			[]string{"<h1>Security</h1>", `Two-factor authentication is optional (<a href="/account/2fa">change</a>).`, "A login is locked after more than 60",
				"<h2>Access review</h2>", "<td>viewer</td><td>1 Shop</td><td>view</td><td></td><td>7 Mar 2026 09:05</td><td>never</td>", "<td>off</td>"},
			[]string{"<h1>Sicherheit</h1>", `Die Zwei-Faktor-Authentifizierung ist freiwillig (<a href="/account/2fa">ändern</a>).`, "Ein Anmeldename wird nach mehr als 60",
				"<h2>Zugriffsübersicht</h2>", "<td>viewer</td><td>1 Shop</td><td>view</td><td></td><td>7. März 2026 09:05</td><td>nie</td>", "<td>aus</td>"}},
		{"security page, not an address", post("/security", sess["root"], url.Values{"action": {"unblock"}, "ip": {"somewhere"}}), 400,
			[]string{"That is not an IP address."}, []string{"Das ist keine IP-Adresse."}},
		{"security page, unlocked", post("/security", sess["root"], url.Values{"action": {"unlock"}, "login": {"viewer"}}), 200,
			[]string{"Unlocked viewer (0 failed attempts cleared)."}, []string{"viewer entsperrt (0 Fehlversuche gelöscht)."}},
		{"security page of a viewer", get("/security", sess["viewer"]), 403,
			[]string{"<title>Error · Hearth</title>", "This page is for superusers.", ">Back to Hearth</a>"},
			[]string{"<title>Fehler · Hearth</title>", "Diese Seite ist Superusern vorbehalten.", ">Zurück zu Hearth</a>"}},
		{"audit page", get("/audit", sess["root"]), 200,
			[]string{"<h1>Audit trail</h1>", "Every entry, newest first.", "Entries are kept forever.", "<th>Time (UTC)</th>", "<td>7 Mar 2026 09:05</td><td>root</td>"},
			[]string{"<h1>Prüfprotokoll</h1>", "Alle Einträge, die neuesten zuerst.", "Einträge werden unbegrenzt aufbewahrt.", "<th>Zeit (UTC)</th>", "<td>7. März 2026 09:05</td><td>root</td>"}},
		{"audit page of a viewer", get("/audit", sess["viewer"]), 403,
			[]string{"The audit trail is for superusers and site administrators."}, []string{"Das Prüfprotokoll ist Superusern und Administratoren von Websites vorbehalten."}},
		{"no such page", get("/no/such/page", nil), 404,
			[]string{"There is no page at this address."}, []string{"Unter dieser Adresse gibt es keine Seite."}},
		{"a method the page does not take", request{method: http.MethodPut, path: "/security", cookies: sess["root"]}, 405,
			[]string{"This page does not take that method."}, []string{"Diese Seite nimmt diese Anfragemethode nicht an."}},
		{"an unknown action", post("/security", sess["root"], url.Values{"action": {"dance"}}), 400,
			[]string{"Unknown action."}, []string{"Unbekannte Aktion."}},
	})

	// The passkey calls of the pages' script answer in the language too.
	for lang, want := range map[string]string{"en": "Sign in first.", "de": "Melden Sie sich zuerst an."} {
		a := r.do(t, request{method: http.MethodPost, path: "/account/passkeys/options", header: map[string]string{"Accept-Language": lang, "Origin": origin}})
		var body struct{ Error string }
		if err := json.Unmarshal([]byte(a.body), &body); err != nil || a.code != 401 || body.Error != want {
			t.Errorf("passkey options signed out, %s: %d %s, want 401 and %q", lang, a.code, a.body, want)
		}
	}
	r.log.check(t)
}

// TestSetupPageInTheRequestsLanguage: the page that creates the first superuser, its
// refusals and its result speak the browser's language.
func TestSetupPageInTheRequestsLanguage(t *testing.T) {
	for _, lang := range []string{"en", "de"} {
		t.Run(lang, func(t *testing.T) {
			r := newPagesRig(t)
			token, err := web.NewSetupToken(context.Background(), r.meta, r.now)
			if err != nil || token == "" {
				t.Fatalf("setup token %q: %v", token, err)
			}
			form := func(pass, pass2 string) url.Values {
				return url.Values{"token": {token}, "login": {"first"}, "email": {"first@example.org"}, "password": {pass}, "password2": {pass2}}
			}
			steps := []pageCase{
				{"form", request{method: http.MethodGet, path: "/setup?token=" + token}, 200,
					[]string{"<title>Set up Hearth</title>", "Create the first superuser.", "Repeat password <input", ">Create superuser</button>"},
					[]string{"<title>Hearth einrichten</title>", "Legen Sie den ersten Superuser an.", "Passwort wiederholen <input", ">Superuser anlegen</button>"}},
				{"invalid link", request{method: http.MethodGet, path: "/setup?token=" + strings.Repeat("ab", 24)}, 403,
					[]string{"This setup link is invalid or has expired. Restart <code>hearth serve</code> to print a new one"},
					[]string{"Dieser Einrichtungslink ist ungültig oder abgelaufen. Starten Sie <code>hearth serve</code> neu"}},
				{"passwords differ", request{method: http.MethodPost, path: "/setup", form: form(setupPassword, setupPassword+"!")}, 400,
					[]string{"The passwords do not match."}, []string{"Die Passwörter stimmen nicht überein."}},
				{"password too short", request{method: http.MethodPost, path: "/setup", form: form("short", "short")}, 400,
					[]string{"Password must be at least 12 characters."}, []string{"Das Passwort muss mindestens 12 Zeichen lang sein."}},
				{"created", request{method: http.MethodPost, path: "/setup", form: form(setupPassword, setupPassword)}, 200,
					[]string{"The superuser <strong>first</strong> was created. This setup link no longer works."},
					[]string{"Der Superuser <strong>first</strong> wurde angelegt. Dieser Einrichtungslink funktioniert nicht mehr."}},
			}
			for _, s := range steps {
				q := s.req
				q.header = map[string]string{"Accept-Language": lang, "Origin": origin}
				a := r.do(t, q)
				want, other := s.en, s.de
				if lang == "de" {
					want, other = s.de, s.en
				}
				if a.code != s.code || !strings.Contains(a.body, `<html lang="`+lang+`">`) {
					t.Errorf("%s: %d, want %d and lang %s: %.300s", s.name, a.code, s.code, lang, a.body)
				}
				for _, w := range want {
					if !strings.Contains(a.body, w) {
						t.Errorf("%s: missing %q in\n%s", s.name, w, a.body)
					}
				}
				for _, w := range other {
					if strings.Contains(a.body, w) {
						t.Errorf("%s: the other language's %q", s.name, w)
					}
				}
			}
			r.log.check(t)
		})
	}
}

// catalogueFile reads every key of the catalogue's files, with its texts.
func catalogueFile(t *testing.T) map[string]map[string]string {
	t.Helper()
	files, err := filepath.Glob("i18n/*.toml")
	if err != nil || len(files) == 0 {
		t.Fatalf("catalogue files: %v %v", files, err)
	}
	all := map[string]map[string]string{}
	for _, f := range files {
		var part map[string]map[string]string
		if _, err := toml.DecodeFile(f, &part); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for k, v := range part {
			all[k] = v
		}
	}
	return all
}

// templateKey finds the literal keys templates look up: {{.L.T "key"}}, {{$.L.T "key" x}},
// {{.L.HTML "key"}}. Keys built while the page runs ((print "col." .Metric)) are not
// literals and are not checked here; the pages' own tests render them.
var templateKey = regexp.MustCompile(`\$?\.L\.(?:T|HTML)\s+"([^"]+)"`)

// TestEveryKeyIsInTheCatalogue: every key a template names literally, and every key the
// handlers of the account pages and of the dashboard's reports, visitor, real-time, goals,
// ecommerce, funnels and administration pages name, is in the catalogue in English and
// German, so no page shows a key or fails on a missing one.
func TestEveryKeyIsInTheCatalogue(t *testing.T) {
	cat := catalogueFile(t)
	has := func(key string) bool { return cat[key]["en"] != "" && cat[key]["de"] != "" }

	templates, err := filepath.Glob("templates/*.html")
	if err != nil || len(templates) == 0 {
		t.Fatalf("templates: %v %v", templates, err)
	}
	seen := 0
	for _, name := range templates {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templateKey.FindAllStringSubmatch(string(b), -1) {
			seen++
			if !has(m[1]) {
				t.Errorf("%s names %q, which the catalogue lacks in English or German", name, m[1])
			}
		}
	}
	// The account pages alone name well over a hundred keys; far fewer means the pattern
	// stopped matching.
	if seen < 150 {
		t.Errorf("found %d key uses in the templates, want the account pages' and the dashboard's", seen)
	}

	// The handlers name their keys as string literals with their pages' prefixes (template
	// names such as "audit.html" aside, and prefixes a key is built from, "live.kind." + …).
	fset := token.NewFileSet()
	for _, group := range []struct {
		name  string
		key   *regexp.Regexp
		files []string
		least int
	}{
		{"account pages", regexp.MustCompile(`^(shell|signin|setup|errorpage|account|twofa|security|audit|autherr)\.[a-z0-9_.]+$`),
			[]string{"errors.go", "i18n_pages.go", "passkey.go", "security.go", "session.go", "twofactor.go", "web.go"}, 40},
		// The dashboard's pages (audit.head is a file of the system page, not a key).
		{"dashboard pages", regexp.MustCompile(`^(errorpage|rep|evo|live|goals|ecom|funnels|admin|nav|kpi|col)\.[a-z0-9_.]+$`),
			[]string{"reports.go", "report_evolution.go", "report_export.go", "visitors.go", "realtime.go", "goals.go", "ecommerce.go",
				"funnels.go", "admin.go", "admin_sites.go", "admin_users.go", "admin_tokens.go", "admin_system.go"}, 100},
	} {
		found := 0
		for _, file := range group.files {
			f, err := parser.ParseFile(fset, file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(lit.Value)
				if err != nil || !group.key.MatchString(s) || strings.HasSuffix(s, ".html") || strings.HasSuffix(s, ".") {
					return true
				}
				found++
				if !has(s) {
					t.Errorf("%s names %q, which the catalogue lacks in English or German", fset.Position(lit.Pos()), s)
				}
				return true
			})
		}
		if found < group.least {
			t.Errorf("found %d keys in the handlers of the %s, want every message they set", found, group.name)
		}
	}
}
