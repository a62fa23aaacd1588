package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
)

// APITokenPrefix starts every personal API token, so leaked tokens are easy
// to recognise and grep for.
const APITokenPrefix = "shelf_"

// NewSecret returns a random URL-safe string carrying n random bytes.
func NewSecret(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// NewAPIToken returns a new personal API token, its hash (what is stored)
// and a short prefix for display.
func NewAPIToken() (token, hash, prefix string, err error) {
	s, err := NewSecret(32)
	if err != nil {
		return "", "", "", err
	}
	token = APITokenPrefix + s
	return token, HashToken(token), token[:len(APITokenPrefix)+6], nil
}

// HashToken returns the hex SHA-256 of a session or API token. Tokens carry
// 256 random bits, so a fast hash is enough (no brute force is possible).
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// NormalizeEmail lower-cases and trims an email address and checks its
// shape; it returns an error that says what is wrong.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(e, '@')
	if e == "" {
		return "", fmt.Errorf("email is required")
	}
	if at < 1 || at == len(e)-1 || !strings.Contains(e[at:], ".") || strings.ContainsAny(e, " \t\r\n<>\"") || len(e) > 254 {
		return "", fmt.Errorf("%q is not a valid email address", email)
	}
	return e, nil
}
