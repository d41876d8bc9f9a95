package web_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"hearth/internal/store"
	"hearth/internal/web"
)

const setupPassword = "a long setup passphrase of 2026"

// setupForm is the /setup form as the page posts it.
func setupForm(token, login string) url.Values {
	return url.Values{"token": {token}, "login": {login}, "email": {login + "@example.org"},
		"password": {setupPassword}, "password2": {setupPassword}}
}

func (r *pagesRig) users(t *testing.T) []store.User {
	t.Helper()
	list, err := r.meta.Users(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return list
}

const setupInvalid = "This setup link is invalid or has expired"

// TestSetupRefusesForgeries: the setup form creates no superuser when posted from another
// site, without the token, with a wrong or expired one, or with GET.
func TestSetupRefusesForgeries(t *testing.T) {
	r := newPagesRig(t)
	ctx := context.Background()
	token, err := web.NewSetupToken(ctx, r.meta, r.now)
	if err != nil || token == "" {
		t.Fatalf("setup token %q: %v", token, err)
	}
	// A token minted by another installation: well formed, unknown here.
	other := newPagesRig(t)
	foreign, err := web.NewSetupToken(ctx, other.meta, other.now)
	if err != nil {
		t.Fatal(err)
	}
	same := map[string]string{"Origin": origin, "Sec-Fetch-Site": "same-origin"}
	for _, f := range forgeries {
		t.Run(f.name, func(t *testing.T) {
			a := r.do(t, request{method: "POST", path: "/setup", form: setupForm(token, "mallory"), header: f.header})
			if a.code != http.StatusForbidden {
				t.Errorf("%d %.200q, want 403", a.code, a.body)
			}
		})
	}
	cases := []struct {
		name  string
		token string
		later time.Duration
	}{
		{"missing token", "", 0},
		{"wrong token", strings.Repeat("ab", 24), 0},
		{"the token with a character changed", token[:len(token)-1] + string("0123456789abcdef"[(strings.IndexByte("0123456789abcdef", token[len(token)-1])+1)%16]), 0},
		{"another installation's token", foreign, 0},
		{"expired token", token, 24*time.Hour + time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r.now = r.now.Add(tc.later)
			defer func() { r.now = r.now.Add(-tc.later) }()
			a := r.do(t, request{method: "POST", path: "/setup", form: setupForm(tc.token, "mallory"), header: same})
			if a.code != http.StatusForbidden || !strings.Contains(a.body, setupInvalid) {
				t.Errorf("%d %.300q, want 403 and the invalid-link page", a.code, a.body)
			}
		})
	}
	t.Run("GET instead of POST", func(t *testing.T) {
		a := r.do(t, request{method: "GET", path: "/setup", form: setupForm(token, "mallory"), header: same})
		if a.code != http.StatusOK || !strings.Contains(a.body, `<form method="post" action="/setup">`) {
			t.Errorf("%d %.300q, want the form", a.code, a.body)
		}
	})
	if users := r.users(t); len(users) != 0 {
		t.Fatalf("users created by refused requests: %+v", users)
	}
	// The control: the page's own request with the token creates the superuser.
	a := r.do(t, request{method: "POST", path: "/setup", form: setupForm(token, "owner"), header: same})
	if users := r.users(t); a.code != http.StatusOK || len(users) != 1 || users[0].Login != "owner" || !users[0].Superuser {
		t.Fatalf("setup: %d %.300q, users %+v", a.code, a.body, users)
	}
	r.log.check(t)
}

// TestSetupTokenRace posts the setup form with the one valid token many times at once, each
// for another login: exactly one superuser is created, every other request is told the link
// no longer works.
func TestSetupTokenRace(t *testing.T) {
	r := newPagesRig(t)
	token, err := web.NewSetupToken(context.Background(), r.meta, r.now)
	if err != nil {
		t.Fatal(err)
	}
	const n = 24
	answers := make([]response, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = r.do(t, request{method: "POST", path: "/setup", form: setupForm(token, fmt.Sprintf("racer%02d", i)),
				header: map[string]string{"Origin": origin}})
		}()
	}
	close(start)
	wg.Wait()
	winner := ""
	for i, a := range answers {
		login := fmt.Sprintf("racer%02d", i)
		switch {
		case a.code == http.StatusOK && strings.Contains(a.body, "The superuser <strong>"+login+"</strong> was created"):
			if winner != "" {
				t.Errorf("both %s and %s were told they created the superuser", winner, login)
			}
			winner = login
		case (a.code == http.StatusForbidden || a.code == http.StatusNotFound) && strings.Contains(a.body, setupInvalid):
		default:
			t.Errorf("%s: %d %.300q", login, a.code, a.body)
		}
	}
	users := r.users(t)
	if winner == "" || len(users) != 1 || users[0].Login != winner || !users[0].Superuser {
		t.Fatalf("winner %q, users %+v: want exactly the winner, a superuser", winner, users)
	}
	// The token is spent: a later request is refused too.
	if a := r.do(t, request{method: "GET", path: "/setup?token=" + token}); a.code != http.StatusNotFound {
		t.Errorf("setup after the race: %d", a.code)
	}
	r.log.check(t)
}

// TestSetupWithATakenLogin: the first superuser cannot take the login of an existing account:
// the form says so (400, no error logged) and the link stays valid for another login.
func TestSetupWithATakenLogin(t *testing.T) {
	r := newPagesRig(t)
	r.user(t, store.User{Login: "taken"})
	token, err := web.NewSetupToken(context.Background(), r.meta, r.now)
	if err != nil {
		t.Fatal(err)
	}
	a := r.do(t, request{method: "POST", path: "/setup", form: setupForm(token, "taken"), header: map[string]string{"Origin": origin}})
	if a.code != http.StatusBadRequest || !strings.Contains(a.body, "exists already") {
		t.Fatalf("taken login: %d %.300s", a.code, a.body)
	}
	a = r.do(t, request{method: "POST", path: "/setup", form: setupForm(token, "first"), header: map[string]string{"Origin": origin}})
	if a.code != http.StatusOK {
		t.Fatalf("another login after the refusal: %d %.300s", a.code, a.body)
	}
	r.log.check(t)
}
