package live

import (
	"context"
	"hash/fnv"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
)

// folderFingerprint sums what a listing of a local folder would report —
// every name, type, size and modification time — into one number, without
// the catalog: a folder that cannot be watched is looked at this way every
// policy.LocalLivePoll, and only a change queues a re-list. Names the
// connector skips (its temporary files) are left out.
func folderFingerprint(ctx context.Context, dir string) (uint64, error) {
	h := fnv.New64a()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(d.Name(), tempPrefix) {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // gone meanwhile: the next look sees it
		}
		h.Write([]byte(p))
		h.Write([]byte{0, byte(d.Type() >> 24)})
		h.Write([]byte(strconv.FormatInt(info.Size(), 10) + ":" + strconv.FormatInt(info.ModTime().UnixNano(), 10)))
		return nil
	})
	return h.Sum64(), err
}

// tempPrefix starts the names of the local connector's temporary files.
const tempPrefix = ".shelf-tmp-"
