package web

import (
	"io"
	"mime/multipart"
	"net/http"
)

// uploadBody reads the parts of a multipart upload and hands each file to
// the storage as a reader that ends (io.EOF) only when the file arrived
// whole: its part was followed by the multipart body's next part or its
// closing boundary. Any other end is an error the storage cannot take for
// the end of the file (never io.EOF or io.ErrUnexpectedEOF), so it aborts
// its write and nothing is stored.
type uploadBody struct {
	mr *multipart.Reader
	// next is the part (or io.EOF) read ahead when the file before it
	// ended; nextErr its error.
	next    *multipart.Part
	nextErr error
	ahead   bool
	// failed is the API error of the first broken file, answered instead
	// of whatever the storage made of it.
	failed *apiError
}

// newUploadBody reads r's multipart body.
func (s *Server) newUploadBody(r *http.Request) (*uploadBody, error) {
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, err
	}
	return &uploadBody{mr: mr}, nil
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
	err  error
}

func (f *uploadFile) Read(b []byte) (int, error) {
	if f.err != nil {
		return 0, f.err
	}
	n, err := f.part.Read(b)
	switch {
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
// file name was read ("" between files).
func brokenBody(name string, err error) *apiError {
	where := ""
	if name != "" {
		where = " in " + name
	}
	return errBadRequest("invalid_upload", "the upload was cut short%s (%v); nothing of that file was stored. Send it again", where, err)
}
