// Package secret loads the instance secret and derives the purpose-specific keys that every
// HMAC and encryption in Hearth uses. The secret itself never leaves this package.
package secret

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// Size is the number of random bytes in a new instance secret.
const Size = 32

// Key is the instance secret. It formats and logs as "***".
type Key struct{ b []byte }

// String hides the key.
func (Key) String() string { return "***" }

// LogValue hides the key from structured logs.
func (Key) LogValue() slog.Value { return slog.StringValue("***") }

// Derive returns 64 bytes keyed for one purpose, e.g. "metadata-encryption" or "visitor-hash".
// Different purposes give independent keys.
func (k Key) Derive(purpose string) []byte {
	m := hmac.New(sha512.New, k.b)
	m.Write([]byte("hearth/v1/"))
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// FromBytes builds a key from raw bytes; tests use it for fixed keys.
func FromBytes(b []byte) (Key, error) {
	if len(b) < 16 {
		return Key{}, errors.New("instance secret is shorter than 16 bytes")
	}
	return Key{b: append([]byte(nil), b...)}, nil
}

// Load reads the secret file, creating it with mode 0600 (and its folder with 0700) when
// create is true and it does not exist. The file holds the secret as hex.
func Load(path string, create bool) (Key, error) {
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return Key{}, fmt.Errorf("create secret folder: %w", err)
		}
		b := make([]byte, Size)
		if _, err := rand.Read(b); err != nil {
			return Key{}, fmt.Errorf("generate instance secret: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			// Another command created it first: use theirs.
			return Load(path, false)
		}
		if err != nil {
			return Key{}, fmt.Errorf("create secret file: %w", err)
		}
		if _, err := f.WriteString(hex.EncodeToString(b) + "\n"); err != nil {
			f.Close()
			return Key{}, fmt.Errorf("write secret file: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return Key{}, fmt.Errorf("sync secret file: %w", err)
		}
		if err := f.Close(); err != nil {
			return Key{}, fmt.Errorf("close secret file: %w", err)
		}
		return Key{b: b}, nil
	}
	if err != nil {
		return Key{}, fmt.Errorf("read secret file: %w", err)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		return Key{}, fmt.Errorf("secret file %s is readable by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		return Key{}, fmt.Errorf("secret file %s is not hex", path)
	}
	return FromBytes(b)
}
