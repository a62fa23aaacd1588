// Package secrets encrypts credentials at rest (storage keys, OAuth refresh
// tokens, webhook signing secrets) with AES-256-GCM, an authenticated cipher:
// a tampered or foreign ciphertext fails to open instead of yielding garbage.
package secrets

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the length of the key in bytes.
const KeySize = 32

// version prefixes every ciphertext so the format can evolve.
const version byte = 1

// Box seals and opens secrets with one key.
type Box struct {
	aead cipher.AEAD
}

// ErrOpen means a ciphertext could not be decrypted: wrong key (was
// SHELF_SECRET_KEY changed?) or corrupted data.
var ErrOpen = errors.New("cannot decrypt stored secret: the secret key differs from the one it was sealed with, or the data is corrupt")

// NewBox returns a Box for a 32-byte key.
func NewBox(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("secret key must be %d bytes, got %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("creating cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("creating GCM: %w", err)
	}
	return &Box{aead: aead}, nil
}

// Seal encrypts plaintext. associated binds the ciphertext to a context
// (e.g. "account:42:storage") so it cannot be moved to another row.
func (b *Box) Seal(plaintext []byte, associated string) ([]byte, error) {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("generating nonce: %w", err)
	}
	out := make([]byte, 0, 1+len(nonce)+len(plaintext)+b.aead.Overhead())
	out = append(out, version)
	out = append(out, nonce...)
	return b.aead.Seal(out, nonce, plaintext, []byte(associated)), nil
}

// Open decrypts what Seal produced with the same associated data.
func (b *Box) Open(ciphertext []byte, associated string) ([]byte, error) {
	ns := b.aead.NonceSize()
	if len(ciphertext) < 1+ns+b.aead.Overhead() || ciphertext[0] != version {
		return nil, ErrOpen
	}
	nonce := ciphertext[1 : 1+ns]
	pt, err := b.aead.Open(nil, nonce, ciphertext[1+ns:], []byte(associated))
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// ParseKey decodes a key given as 64 hex digits or base64 (std or URL).
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if k, err := hex.DecodeString(s); err == nil && len(k) == KeySize {
		return k, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("SHELF_SECRET_KEY must be %d bytes as 64 hex digits or base64 (generate one with: head -c32 /dev/urandom | base64)", KeySize)
}

// LoadOrCreateKey returns the key from configured (SHELF_SECRET_KEY) when
// set, otherwise the key stored in dataDir/secret.key, generating that file
// on first run (and logging that it did, since losing it makes stored
// credentials unreadable).
func LoadOrCreateKey(configured, dataDir string, logger *slog.Logger) ([]byte, error) {
	if configured != "" {
		return ParseKey(configured)
	}
	path := filepath.Join(dataDir, "secret.key")
	data, err := os.ReadFile(path)
	if err == nil {
		k, err := ParseKey(string(data))
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", path, err)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading secret key %s: %w", path, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("creating data directory %s: %w", dataDir, err)
	}
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("generating secret key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, os.ErrExist) { // another process created it first
			return LoadOrCreateKey("", dataDir, logger)
		}
		return nil, fmt.Errorf("writing secret key %s: %w", path, err)
	}
	if _, err := f.WriteString(base64.StdEncoding.EncodeToString(k) + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("writing secret key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("writing secret key %s: %w", path, err)
	}
	logger.Warn("generated a new secret key for stored credentials; back it up or set SHELF_SECRET_KEY, since stored credentials cannot be read without it", slog.String("path", path))
	return k, nil
}
