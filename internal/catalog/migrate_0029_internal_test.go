package catalog

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// TestMigrate0029IndexesCustomValues migrates a SQLite catalog at 0028
// holding an indexed asset with custom fields and one waiting in the
// search backlog: after 0029 the first is found by its custom value, the
// second once the backlog is filled, and the index is sound.
func TestMigrate0029IndexesCustomValues(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "shelf.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	list, err := migrations(s.dialect)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.version > 28 {
			break
		}
		if err := s.InTx(ctx, func(tx *sql.Tx) error { _, err := tx.ExecContext(ctx, m.sql); return err }); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		if _, err := s.db.ExecContext(ctx, `INSERT INTO schema_migrations VALUES (?, ?, 0)`, m.version, m.name); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	acct, err := s.CreateAccount(ctx, NewAccount{Name: "A"}, now)
	if err != nil {
		t.Fatal(err)
	}
	add := func(name string) int64 {
		t.Helper()
		var id int64
		err := s.SyncApply(ctx, acct.ID, now, func(tx *SyncTx) error {
			var err error
			id, err = tx.AddAsset(nil, SyncFile{StorageID: name, Name: name, Path: name, Size: 1, MIME: "text/plain"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	indexed := add("indexed.txt")
	if _, err := s.UpdateAssetMetadata(ctx, acct.ID, indexed, MetadataUpdate{Custom: map[string]string{"client": "Okapi"}}, now); err != nil {
		t.Fatal(err)
	}
	if err := s.StartSearchBacklog(ctx, acct.ID, now); err != nil {
		t.Fatal(err)
	}
	waiting := add("waiting.txt")
	if _, err := s.UpdateAssetMetadata(ctx, acct.ID, waiting, MetadataUpdate{Custom: map[string]string{"client": "Quokka"}}, now); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	search := func(q string) int {
		t.Helper()
		got, _, err := s.ListAssets(ctx, AssetQuery{AccountID: acct.ID, Recursive: true, Q: q})
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	if search("okapi") != 1 || search("quokka") != 0 || search("client") != 0 {
		t.Fatalf("after 0029: okapi %d, quokka %d, client %d; want 1, 0 (waiting), 0 (a field's name)", search("okapi"), search("quokka"), search("client"))
	}
	for done := false; !done; {
		if done, err = s.FillSearchBacklog(ctx, acct.ID, 10); err != nil {
			t.Fatal(err)
		}
	}
	if search("quokka") != 1 {
		t.Fatal("the backlog's asset is not found by its custom value after the fill")
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO assets_fts (assets_fts) VALUES ('integrity-check')`); err != nil {
		t.Fatalf("FTS5 integrity-check: %v", err)
	}
}
