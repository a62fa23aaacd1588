package demo

import (
	"os"
	"path/filepath"
	"testing"
)

func TestPasswordIsKeptPrivateAndStable(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	pw, created, err := Password(dir)
	if err != nil || !created || len(pw) < 12 {
		t.Fatalf("first call: %q created=%v %v", pw, created, err)
	}
	info, err := os.Stat(filepath.Join(dir, PasswordFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("password file: %v %v, want mode 0600", info, err)
	}
	again, created, err := Password(dir)
	if err != nil || created || again != pw {
		t.Fatalf("second call: %q created=%v %v, want %q kept", again, created, err, pw)
	}
	if err := os.WriteFile(filepath.Join(dir, PasswordFile), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if fresh, created, err := Password(dir); err != nil || !created || fresh == "" || fresh == pw {
		t.Fatalf("an empty file: %q created=%v %v, want a new password", fresh, created, err)
	}
}
