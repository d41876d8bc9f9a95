package matomo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"hearth/internal/auth"
)

// TestBulkRefusesPasswordMethods: one anonymous bulk request of many token creations for a
// login used to run an argon2 check for each, lock the login and burn seconds of CPU. Inside a
// bulk request every method that takes a password is refused without checking it.
func TestBulkRefusesPasswordMethods(t *testing.T) {
	r := newMatrixRig(t)
	ctx := context.Background()
	bulk := url.Values{"method": {"API.getBulkRequest"}}
	const n = 62
	for i := 0; i < n; i++ {
		bulk.Set(fmt.Sprintf("urls[%d]", i), url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"},
			"userLogin": {"target"}, "passwordConfirmation": {fmt.Sprintf("guess %d", i)}, "description": {"x"}}.Encode())
	}
	start := time.Now()
	code, body := r.call(t, "anonymous", bulk)
	if code != 200 {
		t.Fatalf("bulk: %d %s", code, body)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the bulk request took %s: passwords were hashed", d)
	}
	var answers []map[string]any
	if err := json.Unmarshal([]byte(body), &answers); err != nil || len(answers) != n {
		t.Fatalf("answers: %v %s", err, body)
	}
	for i, a := range answers {
		if a["result"] != "error" || !strings.Contains(fmt.Sprint(a["message"]), "cannot be called inside a bulk request") {
			t.Fatalf("answer %d: %v", i, a)
		}
	}
	if _, byLogin, err := r.meta.AuthFailures(ctx, time.Time{}, nil, "target"); err != nil || byLogin != 0 {
		t.Fatalf("failures counted against the login: %d %v", byLogin, err)
	}
	// The login still works, with its right password, in a request of its own.
	code, body = r.call(t, "anonymous", url.Values{"method": {"UsersManager.createAppSpecificTokenAuth"},
		"userLogin": {"target"}, "passwordConfirmation": {password("target")}, "description": {"mine"}})
	if code != 200 || !strings.Contains(body, `"value"`) {
		t.Fatalf("target's own token: %d %s", code, body)
	}

	// Authenticated methods that confirm the caller's password are refused inside a bulk too.
	for _, inner := range []url.Values{
		{"method": {"UsersManager.setUserAccess"}, "userLogin": {"viewer"}, "access": {"write"}, "idSites": {"1"}, "passwordConfirmation": {password("root")}},
		{"method": {"UsersManager.updateUser"}, "userLogin": {"root"}, "email": {"new@example.org"}, "passwordConfirmation": {password("root")}},
		{"method": {"UsersManager.addUser"}, "userLogin": {"newbie"}, "email": {"n@example.org"}, "password": {"a long new passphrase 1"}, "passwordConfirmation": {password("root")}},
		{"method": {"UsersManager.setSuperUserAccess"}, "userLogin": {"viewer"}, "hasSuperUserAccess": {"1"}, "passwordConfirmation": {password("root")}},
		{"method": {"UsersManager.deleteUser"}, "userLogin": {"viewer"}, "passwordConfirmation": {password("root")}},
	} {
		code, body := r.call(t, "root", url.Values{"method": {"API.getBulkRequest"}, "urls[0]": {inner.Encode()}})
		if code != 200 || !strings.Contains(body, "cannot be called inside a bulk request") {
			t.Errorf("%s in a bulk: %d %s", inner.Get("method"), code, body)
		}
	}
	if u, err := r.meta.User(ctx, "viewer"); err != nil || u.Superuser {
		t.Fatalf("viewer changed by a refused call: %+v %v", u, err)
	}
	if _, err := r.meta.User(ctx, "newbie"); err == nil {
		t.Fatal("a refused addUser created the user")
	}
}

// TestOnePasswordCheckPerRequest: whatever path leads to it, a request checks at most one
// password; a second check is refused before any hashing.
func TestOnePasswordCheckPerRequest(t *testing.T) {
	r := newMatrixRig(t)
	ctx := context.Background()
	c := &call{params: url.Values{}}
	if _, err := r.api.checkPassword(ctx, c, "target", password("target")); err != nil {
		t.Fatalf("first check: %v", err)
	}
	_, err := r.api.checkPassword(ctx, c, "target", password("target"))
	ae, ok := err.(*apiError)
	if !ok || ae.status != 400 || !strings.Contains(ae.msg, "only once") {
		t.Fatalf("second check in one request: %v", err)
	}
	// A fresh request checks again, and a wrong password is a bad credential, not the cap.
	if _, err := r.api.checkPassword(ctx, &call{params: url.Values{}}, "target", "wrong"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Fatalf("wrong password in a new request: %v", err)
	}
}
