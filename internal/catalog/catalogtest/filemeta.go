package catalogtest

import (
	"slices"
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// testFileMeta: what a file's own metadata says fills the asset field by
// field without losing team work — a read that failed part-way changes
// nothing, a team edit stays until the file changes that field after it,
// a keyword list removed in the file is removed — and every read is kept
// per account.
func testFileMeta(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	ctx, s := f.ctx, f.store
	a := f.mkAsset(t, f.accA.ID, nil, "p.jpg", 10, f.now, "image/jpeg")
	text := func(s string) *string { return &s }
	rating := func(n int) *int { return &n }
	apply := func(seen catalog.Asset, m catalog.FileMeta, now time.Time) catalog.Asset {
		t.Helper()
		ok, err := s.ApplyFileMeta(ctx, seen, m, now)
		must(t, err, "ApplyFileMeta")
		if !ok {
			t.Fatalf("ApplyFileMeta refused the current version")
		}
		got, err := s.GetAsset(ctx, f.accA.ID, a.ID)
		must(t, err, "GetAsset")
		return got
	}
	sourceOf := func(field string) string {
		t.Helper()
		ff, err := s.GetFileFacts(ctx, f.accA.ID, a.ID)
		must(t, err, "GetFileFacts")
		return ff.Sources[field].Source
	}

	got := apply(a, catalog.FileMeta{Title: text("File"), Tags: []string{"X", "y"}, Rating: rating(3), Creator: "Ann", Reader: "exiftool"}, f.now)
	if got.Title != "File" || !slices.Equal(got.Tags, []string{"x", "y"}) || got.Rating != 3 || sourceOf("title") != "file" {
		t.Fatalf("first read: %q %q %d (%s)", got.Title, got.Tags, got.Rating, sourceOf("title"))
	}
	got = apply(a, catalog.FileMeta{Incomplete: true, Notes: "exiftool took too long"}, f.now)
	if got.Title != "File" || len(got.Tags) != 2 || got.Rating != 3 {
		t.Errorf("a failed read changed the asset: %q %q %d", got.Title, got.Tags, got.Rating)
	}
	if ff, _ := s.GetFileFacts(ctx, f.accA.ID, a.ID); ff.Creator != "Ann" {
		t.Errorf("a failed read dropped the creator: %q", ff.Creator)
	}

	_, err := s.UpdateAssetMetadata(ctx, f.accA.ID, a.ID, catalog.MetadataUpdate{Title: text("Team")}, f.now.Add(time.Hour))
	must(t, err, "UpdateAssetMetadata")
	got = apply(a, catalog.FileMeta{Title: text("Older file title"), Rating: rating(3)}, f.now.Add(time.Hour))
	if got.Title != "Team" || sourceOf("title") != "shelf" {
		t.Errorf("a file change older than the edit replaced it: %q (%s)", got.Title, sourceOf("title"))
	}
	if len(got.Tags) != 0 {
		t.Errorf("keywords removed in the file stayed: %q", got.Tags)
	}

	later := f.now.Add(2 * time.Hour)
	b := f.mkAsset(t, f.accA.ID, nil, "p.jpg", 11, later, "image/jpeg") // the file's new version
	got = apply(b, catalog.FileMeta{Title: text("Newer file title"), Rating: rating(3)}, later)
	if got.Title != "Newer file title" || sourceOf("title") != "file" {
		t.Errorf("a file change newer than the edit did not win: %q (%s)", got.Title, sourceOf("title"))
	}
	if ok, err := s.ApplyFileMeta(ctx, a, catalog.FileMeta{Title: text("stale")}, later); err != nil || ok {
		t.Errorf("a read of an old version was applied: %v %v", ok, err)
	}
	if ff, err := s.GetFileFacts(ctx, f.accB.ID, a.ID); err != nil || ff.ReadAt != nil || len(ff.Sources) != 0 {
		t.Errorf("another account sees the file metadata: %+v %v", ff, err)
	}
}

// testFileMetaSidecarTime: a change saved in a RAW file's sidecar after a
// team edit wins over the edit although the RAW file itself is older.
func testFileMetaSidecarTime(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	ctx, s := f.ctx, f.store
	raw := f.mkAsset(t, f.accA.ID, nil, "r.cr2", 10, f.now, "image/x-canon-cr2")
	text := func(s string) *string { return &s }
	if ok, err := s.ApplyFileMeta(ctx, raw, catalog.FileMeta{Title: text("File"), SidecarPath: "r.xmp"}, f.now); err != nil || !ok {
		t.Fatalf("first read: %v %v", ok, err)
	}
	_, err := s.UpdateAssetMetadata(ctx, f.accA.ID, raw.ID, catalog.MetadataUpdate{Title: text("Team")}, f.now.Add(time.Hour))
	must(t, err, "UpdateAssetMetadata")
	saved := f.now.Add(2 * time.Hour)
	if ok, err := s.ApplyFileMeta(ctx, raw, catalog.FileMeta{Title: text("Lightroom"), SidecarPath: "r.xmp", SidecarModTime: &saved}, saved); err != nil || !ok {
		t.Fatalf("second read: %v %v", ok, err)
	}
	got, err := s.GetAsset(ctx, f.accA.ID, raw.ID)
	must(t, err, "GetAsset")
	if got.Title != "Lightroom" {
		t.Errorf("a sidecar change newer than the team's edit lost to it: %q", got.Title)
	}
}
