package s3fake

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"

	"github.com/johannesboyne/gofakes3"
)

// conditionalWrites makes If-None-Match: * hold on every write S3 takes it
// on — PutObject, CopyObject and CompleteMultipartUpload (gofakes3 checks
// it on PutObject only) — as S3 does: when the key exists by the time the
// object would be stored, the write is refused with 412
// PreconditionFailed and nothing changes. Conditional writes of one key
// wait for each other, so of two racing for a free key exactly one lands.
func conditionalWrites(next http.Handler, backend gofakes3.Backend) http.Handler {
	var locks keyLocks
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := opOf(r)
		if r.Header.Get("If-None-Match") != "*" || (op != OpPut && op != OpCopy && op != OpCompleteMultipart) {
			next.ServeHTTP(w, r)
			return
		}
		bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		unlock := locks.lock(bucket + "/" + key)
		defer unlock()
		if _, err := backend.HeadObject(bucket, key); err == nil {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusPreconditionFailed)
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
				`<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition><RequestId>FAKE%08X</RequestId></Error>`,
				rand.Uint32())
			return
		}
		next.ServeHTTP(w, r)
	})
}

// keyLocks is one mutex per key, kept while someone holds or waits for it.
type keyLocks struct {
	mu   sync.Mutex
	keys map[string]*keyLock
}

type keyLock struct {
	mu   sync.Mutex
	refs int
}

func (l *keyLocks) lock(key string) (unlock func()) {
	l.mu.Lock()
	if l.keys == nil {
		l.keys = map[string]*keyLock{}
	}
	k := l.keys[key]
	if k == nil {
		k = &keyLock{}
		l.keys[key] = k
	}
	k.refs++
	l.mu.Unlock()
	k.mu.Lock()
	return func() {
		k.mu.Unlock()
		l.mu.Lock()
		if k.refs--; k.refs == 0 {
			delete(l.keys, key)
		}
		l.mu.Unlock()
	}
}
