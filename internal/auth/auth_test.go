package auth

import (
	"errors"
	"strings"
	"testing"
)

func TestPasswordHashRoundTrip(t *testing.T) {
	t.Parallel()
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$") {
		t.Fatalf("hash %q is not argon2id", h)
	}
	if !VerifyPassword(h, "correct horse battery") {
		t.Fatal("right password rejected")
	}
	if VerifyPassword(h, "correct horse batterz") {
		t.Fatal("wrong password accepted")
	}
	if VerifyPassword("garbage", "x") {
		t.Fatal("garbage hash accepted")
	}
	h2, _ := HashPassword("correct horse battery")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: salt missing")
	}
}

func TestPasswordRules(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{"short", "aaaaaaaaaaaa", "password123", "me@example.com"} {
		if err := CheckPasswordRules(pw, "me@example.com"); !errors.Is(err, ErrWeakPassword) {
			t.Errorf("%q accepted", pw)
		}
	}
	if err := CheckPasswordRules("a long passphrase", "me@example.com"); err != nil {
		t.Errorf("good password refused: %v", err)
	}
}

func TestTokens(t *testing.T) {
	t.Parallel()
	tok, hash, prefix, err := NewAPIToken()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, APITokenPrefix) || !strings.HasPrefix(tok, prefix) || HashToken(tok) != hash || strings.Contains(hash, tok) {
		t.Fatalf("token %q hash %q prefix %q", tok, hash, prefix)
	}
	tok2, _, _, _ := NewAPIToken()
	if tok == tok2 {
		t.Fatal("tokens repeat")
	}
}

func TestNormalizeEmail(t *testing.T) {
	t.Parallel()
	if e, err := NormalizeEmail("  Ann@Example.COM "); err != nil || e != "ann@example.com" {
		t.Fatalf("got %q %v", e, err)
	}
	for _, bad := range []string{"", "ann", "@example.com", "ann@", "ann@example", "a b@example.com"} {
		if _, err := NormalizeEmail(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
