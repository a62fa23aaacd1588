package secrets

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, KeySize)
	box, err := NewBox(key)
	if err != nil {
		t.Fatal(err)
	}
	ct, err := box.Seal([]byte("hunter2"), "account:1:storage")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, []byte("hunter2")) {
		t.Fatal("ciphertext contains the plaintext")
	}
	pt, err := box.Open(ct, "account:1:storage")
	if err != nil || string(pt) != "hunter2" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if _, err := box.Open(ct, "account:2:storage"); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open with other associated data: %v, want ErrOpen", err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := box.Open(ct, "account:1:storage"); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open of tampered ciphertext: %v, want ErrOpen", err)
	}
	other, _ := NewBox(bytes.Repeat([]byte{8}, KeySize))
	ct2, _ := box.Seal([]byte("x"), "a")
	if _, err := other.Open(ct2, "a"); !errors.Is(err, ErrOpen) {
		t.Fatalf("Open with another key: %v, want ErrOpen", err)
	}
}

func TestLoadOrCreateKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	k1, err := LoadOrCreateKey("", dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(dir, "secret.key"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	k2, err := LoadOrCreateKey("", dir, logger)
	if err != nil || !bytes.Equal(k1, k2) {
		t.Fatalf("second load gave another key: %v", err)
	}
	if _, err := LoadOrCreateKey("too-short", dir, logger); err == nil {
		t.Fatal("short configured key accepted")
	}
	hexKey := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	k3, err := LoadOrCreateKey(hexKey, dir, logger)
	if err != nil || k3[31] != 0x1f {
		t.Fatalf("hex key: %v", err)
	}
}
