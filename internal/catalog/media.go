package catalog

import (
	"context"
	"fmt"
	"time"
)

// PreviewUpdate is what the preview job learned from an asset's content:
// its preview state (pending | ready | icon | error), the error message and
// the content facts. Nil facts are stored as unknown.
type PreviewUpdate struct {
	State      string
	Error      string
	Width      *int
	Height     *int
	DurationMS *int64
	TakenAt    *time.Time
	Camera     string
}

// previewStates are the values assets.preview_state accepts.
var previewStates = map[string]bool{"pending": true, "ready": true, "icon": true, "error": true}

// SetAssetPreview records p on the asset seen, but only while the asset is
// still live and has the content fingerprint (ETag, size, modification time)
// that was read: it reports false and changes nothing when the file changed,
// was removed or deleted in the meantime, so a slow preview job never
// stamps old facts on new content.
func (s *Store) SetAssetPreview(ctx context.Context, seen Asset, p PreviewUpdate, now time.Time) (bool, error) {
	if !previewStates[p.State] {
		return false, fmt.Errorf("preview state %q is not one of pending, ready, icon, error", p.State)
	}
	res, err := s.exec(ctx, s.db, `
UPDATE assets SET preview_state = ?, preview_error = ?, width = ?, height = ?,
       duration_ms = ?, taken_at = ?, camera = ?, updated_at = ?
 WHERE account_id = ? AND id = ? AND removed_at IS NULL
   AND etag = ? AND size = ? AND mod_time IS NOT DISTINCT FROM ?`,
		p.State, p.Error, intPtrArg(p.Width), intPtrArg(p.Height),
		int64PtrArg(p.DurationMS), msPtr(p.TakenAt), p.Camera, ms(now),
		seen.AccountID, seen.ID, seen.ETag, seen.Size, msPtr(seen.ModTime))
	if err != nil {
		return false, fmt.Errorf("recording the preview of asset %d: %w", seen.ID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("counting changed rows: %w", err)
	}
	return n == 1, nil
}
