package s3

import (
	"context"
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
//
// A key can be both a file and a folder: "a" next to "a/b" (old s3fs and
// some other tools write folders as such objects). Paths are IDs, so only
// the folder is reported and the file is skipped with a warning. A file
// is therefore held back until a later key settles it: keys sorting
// between "a" and "a/" ("a-1", "a.jpg") are held with it, up to maxHeld
// entries, after which one LIST call per pending file settles them.
type treeBuilder struct {
	ctx  context.Context
	conn *Conn
	emit func(storage.Entry) error
	open []string // the folders enclosing the last entry, outermost first

	pending []pendingFile // unsettled files, outermost first
	held    []heldEntry   // entries waiting for the pending files
}

// maxHeld bounds the entries a treeBuilder holds back.
const maxHeld = 1000

type pendingFile struct {
	path string
	idx  int // index in held
}

type heldEntry struct {
	e       storage.Entry
	dropped bool
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
	if err := t.settle(strings.TrimPrefix(key, t.conn.prefix)); err != nil {
		return err
	}
	if err := t.openFolders(storage.Dir(p)); err != nil {
		return err
	}
	if isDir {
		t.open = append(t.open, p)
		return t.out(folderEntry(p, &o))
	}
	t.pending = append(t.pending, pendingFile{path: p, idx: len(t.held)})
	t.held = append(t.held, heldEntry{e: fileEntry(p, o)})
	return nil
}

// out emits e, or holds it while files before it are unsettled.
func (t *treeBuilder) out(e storage.Entry) error {
	if len(t.pending) > 0 {
		t.held = append(t.held, heldEntry{e: e})
		return nil
	}
	return t.emit(e)
}

// settle decides pending files with the next listed key rel (relative to
// the root): a file whose path plus "/" starts rel is also a folder and is
// dropped; one that sorts before rel without being its prefix is a file.
func (t *treeBuilder) settle(rel string) error {
	for n := len(t.pending); n > 0; n = len(t.pending) {
		top := t.pending[n-1]
		dir := top.path + "/"
		if strings.HasPrefix(rel, dir) {
			t.drop(top)
		} else if rel < dir {
			break // rel sorts between the file and its would-be folder
		}
		t.pending = t.pending[:n-1]
	}
	if len(t.pending) > 0 && len(t.held) >= maxHeld {
		for _, pf := range t.pending {
			objs, err := t.conn.firstKeys(t.ctx, t.conn.keyOf(pf.path)+"/", 1)
			if err != nil {
				return err
			}
			if len(objs) > 0 {
				t.drop(pf)
			}
		}
		t.pending = t.pending[:0]
	}
	if len(t.pending) == 0 {
		return t.flush()
	}
	return nil
}

func (t *treeBuilder) drop(pf pendingFile) {
	t.held[pf.idx].dropped = true
	t.conn.logger.Warn("s3 scan: a key is both a file and a folder (other keys start with it and '/'); listing only the folder",
		slog.String("bucket", t.conn.bucket), slog.String("path", pf.path))
}

func (t *treeBuilder) flush() error {
	for _, h := range t.held {
		if !h.dropped {
			if err := t.emit(h.e); err != nil {
				return err
			}
		}
	}
	t.held = t.held[:0]
	return nil
}

// finish settles what is still pending once the listing is complete: no
// later key exists, so every pending file is a file.
func (t *treeBuilder) finish() error {
	t.pending = t.pending[:0]
	return t.flush()
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
		if err := t.out(folderEntry(cur, nil)); err != nil {
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
