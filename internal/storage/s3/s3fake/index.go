package s3fake

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// indexedBackend is s3mem with listings answered from a sorted key index,
// the way real S3 answers them. s3mem's own ListBucket walks the bucket
// from its first key for every listing page whose prefix is not at the
// start, and to the bucket's end on a prefix's last page, so listing many
// prefixes costs O(prefixes × objects); the index makes a page cost
// O(log objects + page).
//
// Listing semantics (as AWS S3): keys in byte order; with a delimiter,
// keys are rolled into common prefixes (folder markers included), each
// reported once, and a page that ends on a common prefix continues after
// every key under it. All writes go through this type, so the index
// always matches the backend.
type indexedBackend struct {
	*s3mem.Backend
	mu      sync.RWMutex
	buckets map[string]*keyIndex
}

// keyIndex holds one bucket's keys sorted, with what a listing shows.
type keyIndex struct {
	keys []string
	meta map[string]objectMeta
}

type objectMeta struct {
	size     int64
	etag     string
	modified time.Time
}

func newIndexedBackend(b *s3mem.Backend) *indexedBackend {
	return &indexedBackend{Backend: b, buckets: map[string]*keyIndex{}}
}

func (b *indexedBackend) CreateBucket(name string) error {
	if err := b.Backend.CreateBucket(name); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buckets[name] = &keyIndex{meta: map[string]objectMeta{}}
	return nil
}

func (b *indexedBackend) DeleteBucket(name string) error {
	if err := b.Backend.DeleteBucket(name); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.buckets, name)
	return nil
}

func (b *indexedBackend) ForceDeleteBucket(name string) error {
	if err := b.Backend.ForceDeleteBucket(name); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.buckets, name)
	return nil
}

func (b *indexedBackend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, cond *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	// Read the body here to know its MD5 without asking the backend back.
	body, err := io.ReadAll(input)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	res, err := b.Backend.PutObject(bucket, key, meta, bytes.NewReader(body), int64(len(body)), cond)
	if err != nil {
		return res, err
	}
	b.record(bucket, key)
	return res, nil
}

func (b *indexedBackend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	res, err := b.Backend.CopyObject(srcBucket, srcKey, dstBucket, dstKey, meta)
	if err != nil {
		return res, err
	}
	b.record(dstBucket, dstKey)
	return res, nil
}

func (b *indexedBackend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	res, err := b.Backend.DeleteObject(bucket, key)
	if err != nil {
		return res, err
	}
	b.forget(bucket, key)
	return res, nil
}

func (b *indexedBackend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	res, err := b.Backend.DeleteMulti(bucket, keys...)
	if err != nil {
		return res, err
	}
	for _, d := range res.Deleted {
		b.forget(bucket, d.Key)
	}
	return res, nil
}

// record adds or refreshes key in the index from the backend's object.
func (b *indexedBackend) record(bucket, key string) {
	obj, err := b.Backend.HeadObject(bucket, key)
	if err != nil {
		return
	}
	m := objectMeta{size: obj.Size, etag: gofakes3.FormatETag(obj.Hash), modified: time.Now().UTC().Truncate(time.Millisecond)}
	b.mu.Lock()
	defer b.mu.Unlock()
	idx := b.buckets[bucket]
	if idx == nil {
		return
	}
	if i, found := slices.BinarySearch(idx.keys, key); !found {
		idx.keys = slices.Insert(idx.keys, i, key)
	}
	idx.meta[key] = m
}

func (b *indexedBackend) forget(bucket, key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	idx := b.buckets[bucket]
	if idx == nil {
		return
	}
	if i, found := slices.BinarySearch(idx.keys, key); found {
		idx.keys = slices.Delete(idx.keys, i, i+1)
	}
	delete(idx.meta, key)
}

// ListBucket answers one listing page from the index (gofakes3 calls it
// for ListObjects V1; V2 is answered by serveListV2).
func (b *indexedBackend) ListBucket(name string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	p, delim := "", ""
	if prefix != nil {
		if prefix.HasPrefix {
			p = prefix.Prefix
		}
		if prefix.HasDelimiter {
			delim = prefix.Delimiter
		}
	}
	return b.list(name, p, delim, page.Marker, true, page.MaxKeys)
}

// list answers one listing page. A marker that is a common prefix (a page
// ended on it) continues after every key under it when prefixMarker is
// set; a start-after key does not.
func (b *indexedBackend) list(name, p, delim, marker string, prefixMarker bool, maxKeys int64) (*gofakes3.ObjectList, error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	idx := b.buckets[name]
	if idx == nil {
		return nil, gofakes3.BucketNotFound(name)
	}
	if maxKeys <= 0 || maxKeys > 1000 {
		maxKeys = 1000
	}
	i, _ := slices.BinarySearch(idx.keys, p)
	if marker != "" {
		start := afterKey(idx.keys, marker)
		if prefixMarker && delim != "" && strings.HasSuffix(marker, delim) && strings.HasPrefix(marker, p) {
			start = afterPrefix(idx.keys, marker)
		}
		i = max(i, start)
	}
	out := gofakes3.NewObjectList()
	var n int64
	for i < len(idx.keys) && strings.HasPrefix(idx.keys[i], p) {
		if n == maxKeys {
			out.IsTruncated = true
			break
		}
		key := idx.keys[i]
		if delim != "" {
			if j := strings.Index(key[len(p):], delim); j >= 0 {
				cp := key[:len(p)+j+len(delim)]
				out.AddPrefix(cp)
				out.NextMarker = cp
				n++
				i = afterPrefix(idx.keys, cp)
				continue
			}
		}
		m := idx.meta[key]
		out.Add(&gofakes3.Content{Key: key, LastModified: gofakes3.NewContentTime(m.modified), ETag: m.etag, Size: m.size})
		out.NextMarker = key
		n++
		i++
	}
	if !out.IsTruncated {
		out.NextMarker = ""
	}
	return out, nil
}

// afterKey is the index of the first key greater than k.
func afterKey(keys []string, k string) int {
	i, found := slices.BinarySearch(keys, k)
	if found {
		i++
	}
	return i
}

// afterPrefix is the index of the first key that does not start with
// prefix and sorts after it.
func afterPrefix(keys []string, prefix string) int {
	lo, _ := slices.BinarySearch(keys, prefix)
	for hi := len(keys); lo < hi; {
		mid := (lo + hi) / 2
		if strings.HasPrefix(keys[mid], prefix) {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo
}
