// Package s3fake is an in-process S3 server for tests and benchmarks:
// gofakes3 with its in-memory backend, served on a loopback port, wrapped
// in a layer that can inject faults (500, 503 SlowDown, auth and
// permission errors, dropped connections) and latency, and that counts
// calls by operation.
//
// gofakes3 differs from real S3 in ways a connector must survive (and
// that Shelf's S3 connector handles as it would on a real server):
//   - A delimited listing (delimiter "/") that spans pages repeats a
//     CommonPrefix on the next page when the page boundary falls inside
//     that prefix, because its continuation marker is the last raw key, not
//     the prefix.
//   - CompleteMultipartUpload answers an ETag of the form "md5(md5s)-N",
//     but HEAD and LIST later report the plain MD5 of the whole object.
//   - A folder-marker key ("a/") is returned among the objects of a
//     delimited listing instead of being rolled into its common prefix.
//   - s3mem's listing walks the bucket from its first key for every page
//     of a prefix listing (and to its end on the last page), so listing
//     many prefixes is O(prefixes × objects).
//   - Keys holding characters XML 1.0 cannot carry are mangled in
//     listings, and encoding-type=url is ignored.
//   - Its XML encoder spends more CPU per listed key than the client
//     decoding it, which skews listing benchmarks.
//   - ListMultipartUploads on a bucket that never had an upload answers
//     404 NoSuchUpload; the fake answers an empty listing, as S3 does.
//   - Credentials are not checked: any keys work (inject FaultInvalidKey or
//     FaultSignature to test the connector's handling).
//   - If-None-Match: * (a write only if the key is free) is honoured by
//     gofakes3 on PutObject only; the fake honours it on CopyObject and
//     CompleteMultipartUpload too, as S3 does (412 PreconditionFailed).
//
// By default the fake answers listings from its own sorted key index, as
// AWS S3 does (no repeated or unrolled prefixes, O(log n) per page,
// encoding-type=url honoured, XML written directly);
// WithGofakes3Listing keeps gofakes3's own listing with its quirks, so
// tests can prove a connector survives them.
package s3fake

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Server is a running fake S3 endpoint. Use path-style addressing against
// URL with any access keys. Safe for concurrent use.
type Server struct {
	// URL is the endpoint, such as http://127.0.0.1:41234.
	URL string

	http    *httptest.Server
	backend gofakes3.Backend
	faults  *faultTable
}

// Option adjusts a Server made by Start.
type Option func(*settings)

type settings struct{ rawListing bool }

// WithGofakes3Listing answers listings with gofakes3's own s3mem listing,
// quirks included (see the package doc), instead of the sorted index.
func WithGofakes3Listing() Option { return func(s *settings) { s.rawListing = true } }

// Start starts a fake S3 server on a loopback port. Close it when done.
func Start(opts ...Option) *Server {
	var set settings
	for _, o := range opts {
		o(&set)
	}
	var backend gofakes3.Backend
	var indexed *indexedBackend
	if set.rawListing {
		backend = s3mem.New()
	} else {
		indexed = newIndexedBackend(s3mem.New())
		backend = indexed
	}
	faker := gofakes3.New(backend, gofakes3.WithAutoBucket(false), gofakes3.WithoutVersioning(),
		gofakes3.WithLogger(gofakes3.DiscardLog()))
	handler := faker.Server()
	if indexed != nil {
		handler = indexed.serveListV2(handler)
	}
	handler = listUploadsLikeS3(handler)
	handler = conditionalWrites(handler, backend)
	s := &Server{backend: backend, faults: newFaultTable()}
	s.http = httptest.NewServer(s.faults.wrap(handler))
	s.URL = s.http.URL
	return s
}

// Close stops the server.
func (s *Server) Close() { s.http.Close() }

// CreateBucket creates a bucket directly in the backend.
func (s *Server) CreateBucket(name string) error {
	if err := s.backend.CreateBucket(name); err != nil {
		return fmt.Errorf("creating fake bucket %q: %w", name, err)
	}
	return nil
}

// PutObject stores an object directly in the backend, bypassing HTTP,
// fault injection and call counts (for seeding test data quickly).
func (s *Server) PutObject(bucket, key string, body []byte) error {
	if _, err := s.backend.PutObject(bucket, key, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil); err != nil {
		return fmt.Errorf("seeding fake object %s/%s: %w", bucket, key, err)
	}
	return nil
}

// ObjectExists reports whether bucket holds key, reading the backend
// directly.
func (s *Server) ObjectExists(bucket, key string) bool {
	_, err := s.backend.HeadObject(bucket, key)
	return err == nil
}

// Calls returns how many requests of op reached the server (faulted ones
// included). OpAny counts every request.
func (s *Server) Calls(op Op) int { return s.faults.calls(op) }

// MaxConcurrent returns the most requests of op (OpAny: of any
// operation) that were in flight at once since the last ResetCalls.
func (s *Server) MaxConcurrent(op Op) int { return s.faults.maxConcurrent(op) }

// ResetCalls sets every call count (and MaxConcurrent) back to zero.
func (s *Server) ResetCalls() { s.faults.resetCalls() }

// FailNext makes the next n requests of op (OpAny: of any operation) fail
// with fault.
func (s *Server) FailNext(op Op, n int, fault Fault) { s.faults.failNext(op, n, fault) }

// FailRate makes each request of op fail with fault with probability p
// (0 turns it off).
func (s *Server) FailRate(op Op, p float64, fault Fault) { s.faults.failRate(op, p, fault) }

// SetLatency delays every request of op (OpAny: every request) by d
// before it is served; 0 turns it off. Delays for OpAny and for the
// specific operation add up.
func (s *Server) SetLatency(op Op, d time.Duration) { s.faults.setLatency(op, d) }

// ClearFaults removes every injected fault and latency.
func (s *Server) ClearFaults() { s.faults.clear() }

// Handler returns the server's HTTP handler (fault layer included), for
// tests that put their own proxy in front.
func (s *Server) Handler() http.Handler { return s.http.Config.Handler }
