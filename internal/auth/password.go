// Package auth holds Shelf's sign-in primitives: password hashing
// (argon2id), random tokens for sessions and API access (only their hashes
// are stored) and password rules. The sign-in limits are in
// internal/accounts, their counts in the catalog.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// argon2id parameters (OWASP's recommended minimum: m=19 MiB, t=2, p=1).
const (
	argonTime    = 2
	argonMemory  = 19 * 1024
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLength is the shortest password accepted.
const MinPasswordLength = 10

// ErrWeakPassword is returned by CheckPasswordRules.
var ErrWeakPassword = errors.New("weak password")

// common lists passwords that meet the length rule but are guessed first.
var common = map[string]bool{
	"password123": true, "1234567890": true, "qwertyuiop": true, "password1234": true,
	"iloveyou123": true, "letmein1234": true, "administrator": true, "0987654321": true,
	"passw0rd123": true, "welcome123": true, "1111111111": true, "abcdefghij": true,
}

// CheckPasswordRules says why a password is too weak, or nil.
func CheckPasswordRules(pw, email string) error {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return fmt.Errorf("%w: use at least %d characters", ErrWeakPassword, MinPasswordLength)
	case len(pw) > 1024:
		return fmt.Errorf("%w: use at most 1024 bytes", ErrWeakPassword)
	case common[strings.ToLower(pw)]:
		return fmt.Errorf("%w: this password is among the most commonly used; choose another", ErrWeakPassword)
	case email != "" && strings.EqualFold(pw, email):
		return fmt.Errorf("%w: do not use your email address as password", ErrWeakPassword)
	case allSame(pw):
		return fmt.Errorf("%w: use more than one distinct character", ErrWeakPassword)
	}
	return nil
}

func allSame(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}

// HashPassword returns an argon2id hash in the PHC string format.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generating salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword reports whether pw matches a hash made by HashPassword.
func VerifyPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false
	}
	var mem uint32
	var iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash is verified against when a login names an unknown email, so the
// answer takes as long as for a known one.
var dummyHash, _ = HashPassword("not-a-real-password-0")

// BurnPasswordCheck spends the time of one password verification.
func BurnPasswordCheck(pw string) { VerifyPassword(dummyHash, pw) }
