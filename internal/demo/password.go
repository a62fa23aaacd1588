package demo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/shelf-dam/shelf/internal/auth"
)

// PasswordFile is the file in the data directory that keeps the demo
// admin's password, so that it stays the same across restarts.
const PasswordFile = "demo-password"

// Password returns the demo admin's password kept in dataDir, generating
// it and saving it (readable by the owner only) when there is none yet.
// created reports a new password.
func Password(dataDir string) (password string, created bool, err error) {
	path := filepath.Join(dataDir, PasswordFile)
	data, err := os.ReadFile(path)
	if err == nil {
		if pw := strings.TrimSpace(string(data)); pw != "" {
			return pw, false, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("reading the demo password %s: %w", path, err)
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", false, fmt.Errorf("creating data directory %s: %w", dataDir, err)
	}
	pw, err := auth.NewSecret(12)
	if err != nil {
		return "", false, err
	}
	// Written to a new file and renamed into place, so an interrupted write
	// never leaves a truncated password behind.
	tmp, err := os.CreateTemp(dataDir, PasswordFile+".*")
	if err != nil {
		return "", false, fmt.Errorf("writing the demo password: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("writing the demo password: %w", err)
	}
	if _, err := tmp.WriteString(pw + "\n"); err != nil {
		tmp.Close()
		return "", false, fmt.Errorf("writing the demo password: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", false, fmt.Errorf("writing the demo password: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", false, fmt.Errorf("writing the demo password %s: %w", path, err)
	}
	return pw, true, nil
}
