package catalog

import (
	"context"
	"fmt"
	"time"
)

// MultipartUpload is an S3 multipart upload in progress, recorded so that
// one whose process died can be aborted (its parts are billed but listed
// nowhere).
type MultipartUpload struct {
	ID        int64
	AccountID int64
	Bucket    string
	Key       string // the object's full key, prefix included
	UploadID  string
	StartedAt time.Time
	// RenewedAt is when the uploading process last said it was alive.
	RenewedAt time.Time
}

// RecordMultipartUpload records an upload that has just started (u's
// AccountID, Bucket, Key and UploadID).
func (s *Store) RecordMultipartUpload(ctx context.Context, u MultipartUpload, now time.Time) error {
	_, err := s.exec(ctx, s.db, `INSERT INTO multipart_uploads (account_id, bucket, object_key, upload_id, started_at, renewed_at) VALUES (?, ?, ?, ?, ?, ?)`,
		u.AccountID, u.Bucket, u.Key, u.UploadID, ms(now), ms(now))
	if err != nil {
		return fmt.Errorf("recording multipart upload %s of %s: %w", u.UploadID, u.Key, err)
	}
	return nil
}

// RenewMultipartUpload notes that the upload's process is alive at now.
// ErrNotFound: the upload is no longer recorded (it was aborted as stale).
func (s *Store) RenewMultipartUpload(ctx context.Context, accountID int64, uploadID string, now time.Time) error {
	return s.execOne(ctx, s.db, `UPDATE multipart_uploads SET renewed_at = ? WHERE account_id = ? AND upload_id = ?`, ms(now), accountID, uploadID)
}

// ForgetMultipartUpload drops the record of an upload that was completed
// or aborted; an unknown upload is not an error.
func (s *Store) ForgetMultipartUpload(ctx context.Context, accountID int64, uploadID string) error {
	if _, err := s.exec(ctx, s.db, `DELETE FROM multipart_uploads WHERE account_id = ? AND upload_id = ?`, accountID, uploadID); err != nil {
		return fmt.Errorf("forgetting multipart upload %s: %w", uploadID, err)
	}
	return nil
}

// StaleMultipartUploads returns up to limit uploads, of every account, not
// renewed since before, with ids above afterID, in id order.
func (s *Store) StaleMultipartUploads(ctx context.Context, before time.Time, afterID int64, limit int) ([]MultipartUpload, error) {
	rows, err := s.query(ctx, s.db, `SELECT id, account_id, bucket, object_key, upload_id, started_at, renewed_at FROM multipart_uploads
WHERE renewed_at < ? AND id > ? ORDER BY id LIMIT ?`, ms(before), afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing stale multipart uploads: %w", err)
	}
	defer rows.Close()
	var out []MultipartUpload
	for rows.Next() {
		var (
			u                MultipartUpload
			started, renewed int64
		)
		if err := rows.Scan(&u.ID, &u.AccountID, &u.Bucket, &u.Key, &u.UploadID, &started, &renewed); err != nil {
			return nil, fmt.Errorf("listing stale multipart uploads: %w", err)
		}
		u.StartedAt, u.RenewedAt = fromMS(started), fromMS(renewed)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("listing stale multipart uploads: %w", err)
	}
	return out, nil
}
