package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// FileMeta is what a file's own metadata (embedded XMP / IPTC / EXIF and
// its XMP sidecar) says. Nil Title, Description, Tags and Rating: the file
// says nothing about that field.
type FileMeta struct {
	Title       *string
	Description *string
	Tags        []string
	Rating      *int
	Creator     string
	Copyright   string
	Lens        string
	GPSLat      *float64
	GPSLon      *float64
	SidecarPath string
	// SidecarModTime is the modification time of the sidecar read with
	// the file: a change made there is as new as the sidecar.
	SidecarModTime *time.Time
	Reader         string // exiftool | go | "" (not read: no metadata in this kind of file)
	Notes          string
	// Incomplete says part of the metadata could not be read (a timeout,
	// a malformed packet, a refused download): a field missing here keeps
	// what the last read found, rather than counting as removed.
	Incomplete bool
}

// FileFacts is an asset's file metadata as the asset page shows it: the
// last read (nil ReadAt: never read), where each team field's value came
// from, and the last write-back's outcome.
type FileFacts struct {
	FileMeta
	ReadAt     *time.Time
	WriteError string
	WrittenAt  *time.Time
	Sources    map[string]MetaSource
}

// MetaSource says where a field's current value came from: "file" or
// "shelf", and when it changed there.
type MetaSource struct {
	Source    string    `json:"source"`
	ChangedAt time.Time `json:"changed_at"`
}

// Meta fields whose source is kept.
const (
	FieldTitle       = "title"
	FieldDescription = "description"
	FieldTags        = "tags"
	FieldRating      = "rating"
	SourceFile       = "file"
	SourceShelf      = "shelf"
)

const fileMetaColumns = `title, description, tags, rating, creator, copyright, lens, gps_lat, gps_lon,
sidecar_path, reader, notes, read_at, write_error, written_at`

// scanFileFacts reads fileMetaColumns.
func scanFileFacts(row interface{ Scan(...any) error }) (FileFacts, error) {
	var (
		f                 FileFacts
		title, desc, tags sql.NullString
		rating, written   sql.NullInt64
		lat, lon          sql.NullFloat64
		readAt            int64
	)
	if err := row.Scan(&title, &desc, &tags, &rating, &f.Creator, &f.Copyright, &f.Lens, &lat, &lon,
		&f.SidecarPath, &f.Reader, &f.Notes, &readAt, &f.WriteError, &written); err != nil {
		return FileFacts{}, mapErr(err)
	}
	if title.Valid {
		f.Title = &title.String
	}
	if desc.Valid {
		f.Description = &desc.String
	}
	if tags.Valid {
		t, err := decodeTags(tags.String)
		if err != nil {
			return FileFacts{}, err
		}
		f.Tags = t
	}
	if rating.Valid {
		r := int(rating.Int64)
		f.Rating = &r
	}
	if lat.Valid && lon.Valid {
		f.GPSLat, f.GPSLon = &lat.Float64, &lon.Float64
	}
	if readAt != 0 { // 0: a row holding only a write-back failure
		r := fromMS(readAt)
		f.ReadAt = &r
	}
	f.WrittenAt = fromNullMS(written)
	return f, nil
}

// GetFileFacts returns what Shelf knows of an asset's file metadata
// (zero FileFacts, no error, when it was never read) with the sources of
// its team fields.
func (s *Store) GetFileFacts(ctx context.Context, accountID, assetID int64) (FileFacts, error) {
	return s.fileFacts(ctx, s.db, accountID, assetID)
}

func (s *Store) fileFacts(ctx context.Context, q querier, accountID, assetID int64) (FileFacts, error) {
	f, err := scanFileFacts(s.queryRow(ctx, q, `SELECT `+fileMetaColumns+` FROM asset_file_meta WHERE asset_id = ? AND account_id = ?`, assetID, accountID))
	if err != nil && !errors.Is(err, ErrNotFound) {
		return FileFacts{}, fmt.Errorf("reading the file metadata of asset %d: %w", assetID, err)
	}
	if f.Sources, err = s.metaSources(ctx, q, accountID, assetID); err != nil {
		return FileFacts{}, err
	}
	return f, nil
}

func (s *Store) metaSources(ctx context.Context, q querier, accountID, assetID int64) (map[string]MetaSource, error) {
	rows, err := s.query(ctx, q, `SELECT field, source, changed_at FROM asset_meta_sources WHERE asset_id = ? AND account_id = ?`, assetID, accountID)
	if err != nil {
		return nil, fmt.Errorf("reading metadata sources of asset %d: %w", assetID, err)
	}
	defer func() { _ = rows.Close() }()
	out := map[string]MetaSource{}
	for rows.Next() {
		var field, source string
		var at int64
		if err := rows.Scan(&field, &source, &at); err != nil {
			return nil, fmt.Errorf("reading metadata sources of asset %d: %w", assetID, err)
		}
		out[field] = MetaSource{Source: source, ChangedAt: fromMS(at)}
	}
	return out, rows.Err()
}

// setMetaSource records where a field's value came from.
func (s *Store) setMetaSource(ctx context.Context, q querier, accountID, assetID int64, field, source string, at time.Time) error {
	_, err := s.exec(ctx, q, `INSERT INTO asset_meta_sources (asset_id, account_id, field, source, changed_at) VALUES (?, ?, ?, ?, ?)
ON CONFLICT (asset_id, field) DO UPDATE SET source = excluded.source, changed_at = excluded.changed_at`,
		assetID, accountID, field, source, ms(at))
	if err != nil {
		return fmt.Errorf("recording where the %s of asset %d came from: %w", field, assetID, err)
	}
	return nil
}

// markShelfEdits records the fields a team edit changed as edited in
// Shelf at now (called in the edit's transaction).
func (s *Store) markShelfEdits(ctx context.Context, q querier, accountID, assetID int64, m MetadataUpdate, now time.Time) error {
	for field, set := range map[string]bool{FieldTitle: m.Title != nil, FieldDescription: m.Description != nil, FieldTags: m.Tags != nil || len(m.AddTags)+len(m.RemoveTags) > 0, FieldRating: m.Rating != nil} {
		if set {
			if err := s.setMetaSource(ctx, q, accountID, assetID, field, SourceShelf, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// ApplyFileMeta records what was read from the version of the file seen
// (its ETag, size and modification time) and fills the asset's title,
// description, tags and rating from it, field by field, without losing
// team work:
//   - a field the file's metadata did not change since the last read keeps
//     the asset's value (a team edit stays);
//   - a field the file changed replaces the asset's value unless a team
//     edit is newer than the file's change (the file's modification time);
//   - on the first read a file value fills a field only where the asset
//     has none, or has one the file gave it.
//
// It reports false, writing nothing, when the asset changed or is gone.
func (s *Store) ApplyFileMeta(ctx context.Context, seen Asset, m FileMeta, now time.Time) (bool, error) {
	applied := false
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.lockAccount(ctx, tx, seen.AccountID); err != nil {
			return err
		}
		a, err := s.getAsset(ctx, tx, seen.AccountID, seen.ID)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if a.ETag != seen.ETag || a.Size != seen.Size || !sameTimePtr(a.ModTime, seen.ModTime) {
			return nil
		}
		prev, err := s.fileFacts(ctx, tx, a.AccountID, a.ID)
		if err != nil {
			return err
		}
		// When the file's metadata last changed: the file's time, or its
		// sidecar's when that is newer (Lightroom saves only the sidecar).
		fileTime := now
		if a.ModTime != nil {
			fileTime = *a.ModTime
			if m.SidecarModTime != nil && m.SidecarModTime.After(fileTime) {
				fileTime = *m.SidecarModTime
			}
		}
		if m.Incomplete {
			m = fillUnread(m, prev.FileMeta)
		}
		changed := s.mergeFileMeta(&a, prev, m, fileTime)
		for _, field := range changed {
			if err := s.setMetaSource(ctx, tx, a.AccountID, a.ID, field, SourceFile, fileTime); err != nil {
				return err
			}
		}
		if len(changed) > 0 {
			if slices.Contains(changed, FieldTags) {
				if err := s.setAssetTags(ctx, tx, a.AccountID, a.ID, a.Tags); err != nil {
					return err
				}
			}
			tags, err := encodeJSON(a.Tags)
			if err != nil {
				return err
			}
			if err := s.execOne(ctx, tx, `UPDATE assets SET title = ?, description = ?, tags = ?, rating = ?, updated_at = ? WHERE id = ? AND account_id = ?`,
				a.Title, a.Description, tags, a.Rating, ms(now), a.ID, a.AccountID); err != nil {
				return fmt.Errorf("saving the metadata read from asset %d: %w", a.ID, err)
			}
		}
		if err := s.putFileMeta(ctx, tx, a, m, now); err != nil {
			return err
		}
		applied = true
		return nil
	})
	return applied, err
}

// fillUnread gives the fields an incomplete read lacks the values of the
// previous read, so that what could not be read counts as unchanged.
func fillUnread(m, prev FileMeta) FileMeta {
	if m.Title == nil {
		m.Title = prev.Title
	}
	if m.Description == nil {
		m.Description = prev.Description
	}
	if m.Tags == nil {
		m.Tags = prev.Tags
	}
	if m.Rating == nil {
		m.Rating = prev.Rating
	}
	for _, f := range []struct {
		dst *string
		src string
	}{{&m.Creator, prev.Creator}, {&m.Copyright, prev.Copyright}, {&m.Lens, prev.Lens}} {
		if *f.dst == "" {
			*f.dst = f.src
		}
	}
	if m.GPSLat == nil {
		m.GPSLat, m.GPSLon = prev.GPSLat, prev.GPSLon
	}
	return m
}

// mergeFileMeta applies the precedence rules of ApplyFileMeta to a and
// returns the fields it took from the file.
func (s *Store) mergeFileMeta(a *Asset, prev FileFacts, m FileMeta, fileTime time.Time) []string {
	first := prev.ReadAt == nil
	var taken []string
	take := func(field string, fileSays, sameAsPrev, sameAsAsset, assetEmpty bool, set func()) {
		switch {
		case !first && sameAsPrev: // the file did not change this field
			return
		case first && !fileSays: // a file without the field says nothing
			return
		case sameAsAsset:
			return
		}
		src, known := prev.Sources[field]
		if known && src.Source == SourceShelf && !fileTime.After(src.ChangedAt) {
			return // the team's edit is newer than the file's change
		}
		if first && !known && !assetEmpty {
			return // a value from before the file was first read stays
		}
		set()
		taken = append(taken, field)
	}
	text := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	take(FieldTitle, m.Title != nil, text(m.Title) == text(prev.Title), text(m.Title) == a.Title, a.Title == "",
		func() { a.Title = text(m.Title) })
	take(FieldDescription, m.Description != nil, text(m.Description) == text(prev.Description),
		text(m.Description) == a.Description, a.Description == "", func() { a.Description = text(m.Description) })
	fileTags := normalizeTags(m.Tags)
	take(FieldTags, m.Tags != nil, slices.Equal(fileTags, normalizeTags(prev.Tags)), slices.Equal(fileTags, a.Tags),
		len(a.Tags) == 0, func() { a.Tags = fileTags })
	rating := func(p *int) int {
		if p == nil {
			return 0
		}
		return *p
	}
	take(FieldRating, m.Rating != nil, rating(m.Rating) == rating(prev.Rating), rating(m.Rating) == a.Rating, a.Rating == 0,
		func() { a.Rating = rating(m.Rating) })
	return taken
}

// putFileMeta stores what was read from the asset's current version.
func (s *Store) putFileMeta(ctx context.Context, q querier, a Asset, m FileMeta, now time.Time) error {
	var tags any
	if m.Tags != nil {
		t, err := encodeJSON(normalizeTags(m.Tags))
		if err != nil {
			return err
		}
		tags = t
	}
	var rating any
	if m.Rating != nil {
		rating = *m.Rating
	}
	_, err := s.exec(ctx, q, `INSERT INTO asset_file_meta (asset_id, account_id, etag, size, mod_time, title, description, tags, rating,
  creator, copyright, lens, gps_lat, gps_lon, sidecar_path, reader, notes, read_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (asset_id) DO UPDATE SET etag = excluded.etag, size = excluded.size, mod_time = excluded.mod_time,
  title = excluded.title, description = excluded.description, tags = excluded.tags, rating = excluded.rating,
  creator = excluded.creator, copyright = excluded.copyright, lens = excluded.lens, gps_lat = excluded.gps_lat,
  gps_lon = excluded.gps_lon, sidecar_path = excluded.sidecar_path, reader = excluded.reader, notes = excluded.notes,
  read_at = excluded.read_at`,
		a.ID, a.AccountID, a.ETag, a.Size, msPtr(a.ModTime), nullText(m.Title), nullText(m.Description), tags, rating,
		m.Creator, m.Copyright, m.Lens, floatArg(m.GPSLat), floatArg(m.GPSLon), m.SidecarPath, m.Reader, strings.TrimSpace(m.Notes), ms(now))
	if err != nil {
		return fmt.Errorf("recording the file metadata of asset %d: %w", a.ID, err)
	}
	// a is the asset's current version (read in this transaction): its
	// metadata is no longer pending (a newer version sets it again).
	if _, err := s.exec(ctx, q, `UPDATE assets SET meta_pending = 0, meta_failures = 0 WHERE id = ? AND account_id = ? AND (meta_pending <> 0 OR meta_failures <> 0)`, a.ID, a.AccountID); err != nil {
		return fmt.Errorf("recording the file metadata of asset %d: %w", a.ID, err)
	}
	return nil
}

func nullText(p *string) any {
	if p == nil {
		return nil
	}
	return *p
}

func floatArg(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

func sameTimePtr(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

const fileMetaPendingQuery = `SELECT ` + assetColumns + ` FROM assets
WHERE account_id = ? AND meta_pending = 1 AND removed_at IS NULL AND id > ?
ORDER BY id LIMIT ?`

// ListFileMetaPending returns live assets of the account, in id order
// after afterID, whose current version's metadata was not read yet: those
// marked meta_pending (set for a new asset and a new version, cleared when
// a read is recorded; index assets_meta_pending).
func (s *Store) ListFileMetaPending(ctx context.Context, accountID, afterID int64, limit int) ([]Asset, error) {
	rows, err := s.query(ctx, s.db, fileMetaPendingQuery, accountID, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing assets whose file metadata is to be read: %w", err)
	}
	return collectAssets(rows)
}

// RecordFileMetaFailure counts a failed read of the asset's current
// version (seen: its etag, size and modification time) and returns how
// many reads of that version failed; 0 when the asset changed or is gone
// (the new version starts again).
func (s *Store) RecordFileMetaFailure(ctx context.Context, seen Asset) (int, error) {
	var n int
	err := s.queryRow(ctx, s.db, `UPDATE assets SET meta_failures = meta_failures + 1
WHERE id = ? AND account_id = ? AND etag = ? AND size = ? AND mod_time IS NOT DISTINCT FROM ? RETURNING meta_failures`,
		seen.ID, seen.AccountID, seen.ETag, seen.Size, msPtr(seen.ModTime)).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("counting a failed metadata read of asset %d: %w", seen.ID, err)
	}
	return n, nil
}

// collectAssets reads and closes rows of assetColumns.
func collectAssets(rows *sql.Rows) ([]Asset, error) {
	defer func() { _ = rows.Close() }()
	var out []Asset
	for rows.Next() {
		a, err := scanAsset(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// ListFolderAssetsByName returns the live assets of a folder (nil: the
// root) whose names, lower-cased, are among names (lower-cased) or start
// with prefix (lower-cased; "" for none): the files and sidecars that
// belong together.
func (s *Store) ListFolderAssetsByName(ctx context.Context, accountID int64, folderID *int64, names []string, prefix string) ([]Asset, error) {
	where := []string{"account_id = ?", "removed_at IS NULL"}
	args := []any{accountID}
	if folderID == nil {
		where = append(where, "folder_id IS NULL")
	} else {
		where = append(where, "folder_id = ?")
		args = append(args, *folderID)
	}
	var alt []string
	for _, n := range names {
		alt = append(alt, "lower(name) = ?")
		args = append(args, strings.ToLower(n))
	}
	if prefix != "" {
		alt = append(alt, `lower(name) LIKE ? ESCAPE '\'`)
		args = append(args, likeEscape(strings.ToLower(prefix))+"%")
	}
	if len(alt) == 0 {
		return nil, nil
	}
	rows, err := s.query(ctx, s.db, `SELECT `+assetColumns+` FROM assets WHERE `+strings.Join(where, " AND ")+
		` AND (`+strings.Join(alt, " OR ")+`) ORDER BY id LIMIT 50`, args...)
	if err != nil {
		return nil, fmt.Errorf("looking for the files a sidecar belongs with: %w", err)
	}
	return collectAssets(rows)
}
