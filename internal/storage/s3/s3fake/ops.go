package s3fake

import (
	"net/http"
	"strings"
)

// Op names a kind of S3 request, for fault injection and call counts.
type Op string

// The operations the fake tells apart.
const (
	OpAny               Op = "*"
	OpList              Op = "ListObjects"
	OpHead              Op = "HeadObject"
	OpGet               Op = "GetObject"
	OpPut               Op = "PutObject"
	OpCopy              Op = "CopyObject"
	OpDelete            Op = "DeleteObject"
	OpDeleteMulti       Op = "DeleteObjects"
	OpCreateMultipart   Op = "CreateMultipartUpload"
	OpUploadPart        Op = "UploadPart"
	OpCompleteMultipart Op = "CompleteMultipartUpload"
	OpAbortMultipart    Op = "AbortMultipartUpload"
	OpListMultipart     Op = "ListMultipartUploads"
	OpBucket            Op = "Bucket" // bucket-level calls: create, head, delete, location
	OpOther             Op = "Other"
)

// opOf tells which S3 operation a path-style request is.
func opOf(r *http.Request) Op {
	path := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	_, hasUploads := q["uploads"]
	_, hasDelete := q["delete"]
	switch {
	case bucket == "":
		return OpOther
	case key == "":
		switch {
		case r.Method == http.MethodGet && hasUploads:
			return OpListMultipart
		case r.Method == http.MethodGet && (q.Has("list-type") || q.Has("prefix") || q.Has("delimiter") || len(q) == 0):
			return OpList
		case r.Method == http.MethodPost && hasDelete:
			return OpDeleteMulti
		default:
			return OpBucket
		}
	case r.Method == http.MethodPost && hasUploads:
		return OpCreateMultipart
	case r.Method == http.MethodPut && q.Has("uploadId"):
		return OpUploadPart
	case r.Method == http.MethodPost && q.Has("uploadId"):
		return OpCompleteMultipart
	case r.Method == http.MethodDelete && q.Has("uploadId"):
		return OpAbortMultipart
	case r.Method == http.MethodPut && r.Header.Get("x-amz-copy-source") != "":
		return OpCopy
	case r.Method == http.MethodPut:
		return OpPut
	case r.Method == http.MethodGet:
		return OpGet
	case r.Method == http.MethodHead:
		return OpHead
	case r.Method == http.MethodDelete:
		return OpDelete
	default:
		return OpOther
	}
}
