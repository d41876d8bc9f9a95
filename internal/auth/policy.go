package auth

import (
	"errors"
	"strings"
	"unicode"
)

// Password policy errors; their texts are safe to show.
var (
	ErrCommonPassword  = errors.New("password is too common: choose another")
	ErrPasswordPattern = errors.New("password is a simple pattern (one character, a sequence or a keyboard row): choose another")
	ErrPasswordLogin   = errors.New("password must not contain the login or e-mail name")
)

// MinPasswordLength is the policy's minimum number of characters.
const MinPasswordLength = 12

// commonPasswords are frequently breached passwords of at least 12 characters (shorter ones
// fail the length rule anyway), compared case-insensitively.
var commonPasswords = map[string]bool{}

func init() {
	for _, p := range strings.Fields(`
123456789012 1234567890123 12345678901234 123123123123 111111111111 000000000000 123456123456
password1234 password12345 password123456 passwordpassword password1! password1234! p@ssw0rd1234
qwertyuiopas qwertyuiop123 qwerty123456 qwertyqwerty 1q2w3e4r5t6y 1qaz2wsx3edc qazwsxedcrfv
iloveyou1234 iloveyouiloveyou letmein12345 welcome12345 welcome123456 administrator admin1234567
adminadmin123 changeme1234 football1234 baseball1234 superman1234 starwars1234 monkey123456
dragon123456 sunshine1234 princess1234 trustno1trustno1 abcdefghijkl abcdefghijklm abc123abc123
asdfghjkl123 zxcvbnm12345 zaq12wsx3edc 1234qwerasdf qwerasdfzxcv passw0rd1234 master123456
whatever1234 computer1234 internet1234 michael12345 jennifer1234 samsung12345 google123456
hello1234567 helloworld123 secret123456 mypassword123 mypassword1234 correcthorsebatterystaple
`) {
		commonPasswords[p] = true
	}
}

// CheckPasswordPolicy enforces the password policy: at least 12 characters, not a common
// password, not a trivial pattern, not containing the login or the e-mail's local part.
func CheckPasswordPolicy(password string, context ...string) error {
	if len([]rune(password)) < MinPasswordLength {
		return ErrWeakPassword
	}
	lower := strings.ToLower(password)
	if commonPasswords[lower] || commonPasswords[strings.ReplaceAll(lower, " ", "")] {
		return ErrCommonPassword
	}
	if trivialPattern(lower) {
		return ErrPasswordPattern
	}
	for _, c := range context {
		c = strings.ToLower(strings.TrimSpace(c))
		if i := strings.IndexByte(c, '@'); i > 0 {
			c = c[:i]
		}
		if len(c) >= 4 && strings.Contains(lower, c) {
			return ErrPasswordLogin
		}
	}
	return nil
}

// trivialPattern recognises one repeated character, ascending or descending runs and
// keyboard rows.
func trivialPattern(p string) bool {
	r := []rune(p)
	same, up, down := true, true, true
	for i := 1; i < len(r); i++ {
		same = same && r[i] == r[0]
		up = up && r[i] == r[i-1]+1
		down = down && r[i] == r[i-1]-1
	}
	if same || up || down {
		return true
	}
	letters := strings.Map(func(c rune) rune {
		if unicode.IsLetter(c) || unicode.IsDigit(c) {
			return c
		}
		return -1
	}, p)
	for _, row := range []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm", "qwertzuiop", "azertyuiop"} {
		if len(letters) >= 8 && strings.Contains(row+row, letters[:8]) && len(strings.Trim(letters, row)) == 0 {
			return true
		}
	}
	return false
}

// ValidateNewUser checks a login and e-mail address.
func ValidateNewUser(login, email string) error {
	if len(login) < 2 || len(login) > 100 {
		return errors.New("the login must be 2 to 100 characters")
	}
	for _, c := range login {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-@", c)) {
			return errors.New("the login may contain only letters, digits and . _ - @")
		}
	}
	at := strings.LastIndexByte(email, '@')
	if at < 1 || at == len(email)-1 || len(email) > 200 || strings.ContainsAny(email, " <>\"") {
		return errors.New("the e-mail address is not valid")
	}
	return nil
}
