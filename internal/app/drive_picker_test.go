package app_test

import "testing"

// TestDrivePickerBeforeAuthorizing checks that the Drive folder picker
// asked before any Google authorization answers 409 drive_not_authorized
// (the admin's next step), not a 502 storage error.
func TestDrivePickerBeforeAuthorizing(t *testing.T) {
	t.Parallel()
	e := start(t, "sqlite")
	c, _, _ := e.signup("picker@example.com", "A")
	r := c.Do("GET", "/api/v1/storage/gdrive/folders", nil)
	if r.Status != 409 || r.ErrorCode() != "drive_not_authorized" {
		t.Fatalf("picker without a grant: %d %s", r.Status, r.Raw)
	}
}
