package s3

import (
	"fmt"
	"log/slog"
	"mime"
	"path"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/shelf-dam/shelf/internal/storage"
)

// fileEntry builds the Entry of a file object at clean path p.
func fileEntry(p string, o types.Object) storage.Entry {
	return storage.Entry{
		ID:       p,
		ParentID: storage.Dir(p),
		Path:     p,
		Name:     storage.Base(p),
		Size:     aws.ToInt64(o.Size),
		ETag:     trimETag(aws.ToString(o.ETag)),
		ModTime:  aws.ToTime(o.LastModified).UTC(),
		MIME:     mimeFor(storage.Base(p)),
	}
}

// folderEntry builds the Entry of a folder at clean path p; marker is its
// folder-marker object, if it has one.
func folderEntry(p string, marker *types.Object) storage.Entry {
	e := storage.Entry{ID: p, ParentID: storage.Dir(p), Path: p, Name: storage.Base(p), IsDir: true}
	if marker != nil {
		e.ModTime = aws.ToTime(marker.LastModified).UTC()
	}
	return e
}

// trimETag removes the quotes S3 puts around ETags.
func trimETag(s string) string { return strings.Trim(s, `"`) }

// mimeFor guesses a media type from a file name's extension ("" when
// unknown), without parameters. Listings carry no content type.
func mimeFor(name string) string {
	t := mime.TypeByExtension(strings.ToLower(path.Ext(name)))
	if i := strings.IndexByte(t, ';'); i >= 0 {
		t = strings.TrimSpace(t[:i])
	}
	return t
}

// treeBuilder turns objects listed in key order into entries: it emits
// each folder once, parents before children (folders implied by deeper
// keys included), and skips keys no path can name. Because S3 lists keys
// in byte order and a folder's sort key "a/" is a prefix of its children's
// keys, the entries come out in storage.SortKey order.
type treeBuilder struct {
	conn *Conn
	emit func(storage.Entry) error
	open []string // the folders enclosing the last entry, outermost first
}

func (t *treeBuilder) object(o types.Object) error {
	key := aws.ToString(o.Key)
	p, isDir, ok := t.conn.pathOf(key)
	if !ok {
		if key != t.conn.prefix {
			t.conn.logger.Warn("s3 scan: skipping a key no path can name (empty, '.', '..' or control-character parts)",
				slog.String("bucket", t.conn.bucket), slog.String("key", key))
		}
		return nil
	}
	if isDir {
		if err := t.openFolders(storage.Dir(p)); err != nil {
			return err
		}
		if err := t.emit(folderEntry(p, &o)); err != nil {
			return err
		}
		t.open = append(t.open, p)
		return nil
	}
	if err := t.openFolders(storage.Dir(p)); err != nil {
		return err
	}
	return t.emit(fileEntry(p, o))
}

// openFolders makes dir (and its ancestors) the open folder chain,
// emitting the folders not yet emitted.
func (t *treeBuilder) openFolders(dir string) error {
	for n := len(t.open); n > 0; n = len(t.open) {
		top := t.open[n-1]
		if dir == top || strings.HasPrefix(dir, top+"/") {
			break
		}
		t.open = t.open[:n-1]
	}
	if dir == "" {
		return nil
	}
	done := ""
	if n := len(t.open); n > 0 {
		done = t.open[n-1]
		if done == dir {
			return nil
		}
	}
	rest := dir
	if done != "" {
		rest = dir[len(done)+1:]
	}
	cur := done
	for _, name := range strings.Split(rest, "/") {
		cur = storage.Join(cur, name)
		if err := t.emit(folderEntry(cur, nil)); err != nil {
			return err
		}
		t.open = append(t.open, cur)
	}
	return nil
}

// orderChecker wraps emit and fails if entries leave storage.SortKey
// order, so a sorted scan can never hand the merge-join a wrong order.
func orderChecker(emit func(storage.Entry) error) func(storage.Entry) error {
	last := ""
	return func(e storage.Entry) error {
		k := storage.SortKey(e.Path, e.IsDir)
		if last != "" && k <= last {
			return storage.Classify(storage.ErrFatal, "scan", e.Path,
				fmt.Errorf("%w: %q after %q", ErrKeysOutOfOrder, k, last))
		}
		last = k
		return emit(e)
	}
}
