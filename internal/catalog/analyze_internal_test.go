package catalog

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// TestSyncAnalyzeSQLite: after a big sync the SQLite catalog has planner
// statistics for its asset and folder indexes (the guard that skipped
// SQLite left them empty, so a library-wide search at 1M assets scanned
// the wrong index).
func TestSyncAnalyzeSQLite(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "shelf.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	acct, err := s.CreateAccount(ctx, NewAccount{Name: "Stats"}, now)
	if err != nil {
		t.Fatal(err)
	}
	err = s.SyncApply(ctx, acct.ID, now, func(tx *SyncTx) error {
		id, err := tx.AddFolder(nil, "f", "f", "f")
		if err != nil {
			return err
		}
		var folders []*int64
		var files []SyncFile
		for i := range 300 {
			p := fmt.Sprintf("f/a%03d.jpg", i)
			folders = append(folders, &id)
			files = append(files, SyncFile{StorageID: p, Name: p[2:], Path: p, Size: int64(i), ETag: p, MIME: "image/jpeg"})
		}
		return tx.AddAssets(folders, files)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SyncAnalyze(ctx, "assets", "folders"); err != nil {
		t.Fatal(err)
	}
	for _, tbl := range []string{"assets", "folders"} {
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_stat1 WHERE tbl = ?`, tbl).Scan(&n); err != nil {
			t.Fatalf("reading sqlite_stat1: %v", err)
		}
		if n == 0 {
			t.Errorf("no planner statistics for %s after SyncAnalyze", tbl)
		}
	}
}
