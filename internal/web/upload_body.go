package web

import (
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"time"

	"github.com/shelf-dam/shelf/internal/config"
)

// uploadBody reads the parts of a multipart upload and hands each file to
// the storage as a reader that ends (io.EOF) only when the file arrived
// whole: its part was followed by the multipart body's next part or its
// closing boundary, it stayed within the size limit and the client kept up
// the minimum rate. Any other end is an error the storage cannot take for
// the end of the file (never io.EOF or io.ErrUnexpectedEOF), so it aborts
// its write and nothing is stored.
type uploadBody struct {
	mr      *multipart.Reader
	maxFile int64
	// next is the part (or io.EOF) read ahead when the file before it
	// ended; nextErr its error.
	next    *multipart.Part
	nextErr error
	ahead   bool
	// failed is the API error of the first broken file, answered instead
	// of whatever the storage made of it.
	failed *apiError
}

// newUploadBody reads r's multipart body with the server's upload limits.
func (s *Server) newUploadBody(w http.ResponseWriter, r *http.Request) (*uploadBody, error) {
	if rate := s.cfg.MinUploadRate; rate > 0 {
		r.Body = newMinRateBody(w, r.Body, rate, max(s.cfg.MinUploadRateWindow, time.Second))
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	maxFile := s.cfg.MaxUploadBytes
	if maxFile <= 0 {
		maxFile = config.DefaultMaxUploadBytes
	}
	return &uploadBody{mr: mr, maxFile: maxFile}, nil
}

// nextPart returns the next part, or io.EOF after the last.
func (u *uploadBody) nextPart() (*multipart.Part, error) {
	if u.ahead {
		u.ahead = false
		return u.next, u.nextErr
	}
	return u.mr.NextPart()
}

// file returns the content of a file part for the storage, named name
// in messages.
func (u *uploadBody) file(part *multipart.Part, name string) io.Reader {
	return &uploadFile{body: u, part: part, name: name}
}

// uploadFile is the content of one file part; see uploadBody.
type uploadFile struct {
	body *uploadBody
	part *multipart.Part
	name string
	n    int64
	err  error
}

func (f *uploadFile) Read(b []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.part.Read(b)
	f.n += int64(n)
	switch {
	case f.n > f.body.maxFile:
		return 0, f.fail(errorf(http.StatusRequestEntityTooLarge, "file_too_large",
			"%s is larger than the %s this server accepts for one file; nothing of it was stored (the server's operator sets the limit: SHELF_MAX_UPLOAD_BYTES)",
			f.name, formatBytes(f.body.maxFile)))
	case err == nil:
		return n, nil
	case err == io.EOF:
		// The part ended at a boundary; it is whole only if the body goes
		// on from there: another part's headers or the closing boundary.
		next, nerr := f.body.mr.NextPart()
		if nerr != nil && nerr != io.EOF {
			return n, f.fail(brokenBody(f.name, nerr))
		}
		f.body.next, f.body.nextErr, f.body.ahead = next, nerr, true
		f.err = io.EOF // a Read after the end must not read ahead again
		return n, io.EOF
	default:
		return n, f.fail(brokenBody(f.name, err))
	}
}

func (f *uploadFile) fail(ae *apiError) error {
	f.err = ae
	if f.body.failed == nil {
		f.body.failed = ae
	}
	return ae
}

// brokenBody is the API error of a request body that failed while the
// file name was read ("" between files): too slow (408) or cut short (400).
func brokenBody(name string, err error) *apiError {
	where := ""
	if name != "" {
		where = " in " + name
	}
	if ts, ok := errors.AsType[*tooSlowError](err); ok {
		return errorf(http.StatusRequestTimeout, "upload_too_slow",
			"the upload arrived too slowly%s (less than %s); nothing of that file was stored. Try again on a faster connection", where, ts.limit)
	}
	return errBadRequest("invalid_upload", "the upload was cut short%s (%v); nothing of that file was stored. Send it again", where, err)
}

// formatBytes renders a byte count for messages ("5 GiB", "1000 bytes").
func formatBytes(n int64) string {
	for _, u := range []struct {
		size int64
		name string
	}{{1 << 40, "TiB"}, {1 << 30, "GiB"}, {1 << 20, "MiB"}, {1 << 10, "KiB"}} {
		if n >= u.size && n%u.size == 0 {
			return fmt.Sprintf("%d %s", n/u.size, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

// errTooSlow is the error of a request body that arrived below the
// minimum rate; the *tooSlowError returned matches it.
var errTooSlow = errors.New("the client sent the request body too slowly")

type tooSlowError struct{ limit string }

func (e *tooSlowError) Error() string        { return errTooSlow.Error() + " (under " + e.limit + ")" }
func (e *tooSlowError) Is(target error) bool { return target == errTooSlow }

// minRateBody cuts a request body off when the client sends fewer than
// rate×window bytes in a window of time spent waiting for it. Only the
// time spent in Read counts, so a slow storage write between reads is not
// blamed on the client. A read deadline on the connection, set for the
// length of each Read, ends one that waits past the window, so a client
// that stops sending is caught too.
type minRateBody struct {
	io.ReadCloser
	rc     *http.ResponseController
	window time.Duration
	quota  int64 // bytes due per window
	limit  string
	// due and left are what this window still needs: bytes, and time to
	// wait for them.
	due  int64
	left time.Duration
	// deadlines is false when the connection has no read deadlines (then
	// only reads that return late are caught).
	deadlines bool
}

func newMinRateBody(w http.ResponseWriter, body io.ReadCloser, rate int64, window time.Duration) *minRateBody {
	quota := max(rate*int64(window/time.Second), 1)
	return &minRateBody{ReadCloser: body, rc: http.NewResponseController(w), window: window, quota: quota,
		limit: fmt.Sprintf("%s in %s", formatBytes(quota), window), due: quota, left: window, deadlines: true}
}

func (b *minRateBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, &tooSlowError{limit: b.limit}
	}
	start := time.Now()
	if b.deadlines && b.rc.SetReadDeadline(start.Add(b.left)) != nil {
		b.deadlines = false
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= time.Since(start)
	b.due -= int64(n)
	if b.due <= 0 {
		b.due, b.left = b.quota, b.window
	}
	if b.left <= 0 || errors.Is(err, os.ErrDeadlineExceeded) {
		b.left = 0
		// Leave the deadline passed: the server reads what is left of
		// the body after the handler, and must not wait for this client.
		if b.deadlines {
			_ = b.rc.SetReadDeadline(time.Unix(1, 0))
		}
		return n, &tooSlowError{limit: b.limit}
	}
	if b.deadlines {
		// No deadline outlives the Read: the server's own reads of the
		// connection (its check for a client that hung up) must not fail.
		_ = b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
