package media

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// Sizes of derived images.
const (
	SizeThumb   = "thumb"   // grid thumbnail
	SizePreview = "preview" // asset-page preview
)

// ThumbStore keeps derived images under <data>/thumbs/<account>/ as
// <asset-id>-<version>-<size>.jpg, where version is a hash of the content
// fingerprint: a changed file gets new names, so a
// browser or proxy never shows a stale preview and any node can tell
// whether its copy is current.
type ThumbStore struct {
	dir string
}

// NewThumbStore returns a ThumbStore rooted at <dataDir>/thumbs.
func NewThumbStore(dataDir string) *ThumbStore {
	return &ThumbStore{dir: filepath.Join(dataDir, "thumbs")}
}

// Version is the content version of an asset as previews know it: a short
// hash of its content fingerprint (ETag, size, modification time to the
// millisecond, as the catalog keeps it). A rename or move keeps it, so the
// previews stay valid.
func Version(a catalog.Asset) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", a.ETag, a.Size)
	if a.ModTime != nil {
		fmt.Fprintf(h, "%d", a.ModTime.UnixMilli())
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Path is where the derived image of size for asset a is kept.
func (s *ThumbStore) Path(a catalog.Asset, size string) string {
	return filepath.Join(s.accountDir(a.AccountID), fmt.Sprintf("%d-%s-%s.jpg", a.ID, Version(a), size))
}

func (s *ThumbStore) accountDir(accountID int64) string {
	return filepath.Join(s.dir, strconv.FormatInt(accountID, 10))
}

// Write stores the derived images for asset a atomically (temporary file,
// then rename) and removes those of older versions.
func (s *ThumbStore) Write(a catalog.Asset, thumb, preview []byte) error {
	dir := s.accountDir(a.AccountID)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating the thumbnail folder failed (check the data directory is writable): %w", err)
	}
	for size, data := range map[string][]byte{SizeThumb: thumb, SizePreview: preview} {
		if err := writeAtomic(s.Path(a, size), data); err != nil {
			return err
		}
	}
	s.removeOther(a, Version(a))
	return nil
}

// Remove deletes every derived image of asset a (of any version).
func (s *ThumbStore) Remove(a catalog.Asset) {
	s.removeOther(a, "")
}

// removeOther deletes the asset's derived images whose version is not keep.
// Failures are ignored: a left-over file is only wasted space.
func (s *ThumbStore) removeOther(a catalog.Asset, keep string) {
	prefix := strconv.FormatInt(a.ID, 10) + "-"
	matches, _ := filepath.Glob(filepath.Join(s.accountDir(a.AccountID), prefix+"*.jpg"))
	for _, m := range matches {
		rest := strings.TrimPrefix(filepath.Base(m), prefix)
		if keep != "" && strings.HasPrefix(rest, keep+"-") {
			continue
		}
		_ = os.Remove(m)
	}
}

// Has reports whether the derived image of size for a's current version is
// on this node's disk.
func (s *ThumbStore) Has(a catalog.Asset, size string) bool {
	_, err := os.Stat(s.Path(a, size))
	return err == nil
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing a thumbnail failed: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("writing a thumbnail failed: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("saving a thumbnail failed: %w", err)
	}
	return nil
}
