package s3

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/shelf-dam/shelf/internal/storage"
)

// classify wraps an SDK error with its storage class. Rules:
//   - 500, 502, 503 (SlowDown), 504, 429, RequestTimeout and errors
//     without an HTTP answer (network faults) are ErrRetryable;
//   - InvalidAccessKeyId, SignatureDoesNotMatch, expired or invalid tokens
//     are ErrAuth (the keys must be fixed);
//   - AccessDenied and other 403s are ErrPermission;
//   - NoSuchBucket is ErrFatal (the connection points at nothing);
//   - NoSuchKey and other 404s are ErrNotFound;
//   - PreconditionFailed (412) and ConditionalRequestConflict (409), the
//     answers to a conditional write whose key is taken, are ErrExists;
//   - NotImplemented (501) is ErrFatal;
//   - everything else is ErrFatal.
func (c *Conn) classify(op, p string, err error) error {
	if err == nil {
		return nil
	}
	var ce *storage.ClassError
	if errors.As(err, &ce) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	code := ""
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	status := 0
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	hint, class := classOf(status, code)
	if class == storage.ErrFatal && code == "NoSuchBucket" {
		hint = fmt.Sprintf("bucket %q does not exist (or was deleted); check the bucket name or reconnect storage", c.bucket)
	}
	var out error = err
	if hint != "" {
		out = fmt.Errorf("%s: %w", hint, err)
	}
	if ra := retryAfterOf(respErr); ra > 0 {
		out = retryAfterError{error: out, after: ra}
	}
	return storage.Classify(class, op, p, out)
}

// classOf maps an HTTP status and S3 error code to a class and a hint
// saying what to do.
func classOf(status int, code string) (hint string, class error) {
	switch code {
	case "SlowDown", "InternalError", "ServiceUnavailable", "RequestTimeout",
		"OperationAborted", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests":
		return "", storage.ErrRetryable
	case "InvalidAccessKeyId", "XAdminUserNotFound": // versitygw answers 404 XAdminUserNotFound
		return "the access key ID is not known to the server; check it", storage.ErrAuth
	case "SignatureDoesNotMatch":
		return "the secret access key does not match the access key ID; check it", storage.ErrAuth
	case "ExpiredToken", "InvalidToken", "TokenRefreshRequired", "InvalidSecurity":
		return "the credentials are expired or invalid; renew them", storage.ErrAuth
	case "AccessDenied", "AllAccessDisabled", "AccountProblem":
		return "the credentials may not do this on the bucket or prefix; grant the permission", storage.ErrPermission
	case "NoSuchBucket":
		return "", storage.ErrFatal
	case "RequestTimeTooSkewed":
		return "this machine's clock and the server's differ by more than 15 minutes; fix the clock", storage.ErrFatal
	case "ObjectParentIsFile", "ExistingObjectIsDirectory", "DirectoryNotEmpty":
		// File-system backed stores (versitygw posix, MinIO on a disk)
		// cannot hold a file and a folder of the same name.
		return "a file and a folder of the same name cannot both exist on this store", storage.ErrExists
	case "NoSuchKey", "NotFound", "NoSuchUpload":
		return "", storage.ErrNotFound
	case "PreconditionFailed":
		// Shelf sends only If-None-Match: *, refused when the key exists.
		return "an object of this name was written meanwhile; nothing was replaced", storage.ErrExists
	case "ConditionalRequestConflict":
		return "another write of this name was in progress at the same moment; nothing was replaced", storage.ErrExists
	case "NotImplemented":
		return "the S3 server does not implement this request", storage.ErrFatal
	case "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException":
		return "the bucket is in another region; set the bucket's region", storage.ErrFatal
	}
	switch {
	case status == 0:
		return "no answer from the S3 endpoint (network error)", storage.ErrRetryable
	case status >= 500 || status == http.StatusTooManyRequests || status == http.StatusRequestTimeout:
		return "", storage.ErrRetryable
	case status == http.StatusNotFound:
		return "", storage.ErrNotFound
	case status == http.StatusPreconditionFailed:
		return "an object of this name was written meanwhile; nothing was replaced", storage.ErrExists
	case status == http.StatusForbidden:
		return "access denied; check the keys and that they may use the bucket and prefix", storage.ErrPermission
	case status == http.StatusMovedPermanently:
		return "the bucket is in another region or needs another endpoint; set the bucket's region", storage.ErrFatal
	default:
		return "", storage.ErrFatal
	}
}

// retryAfterError carries a server's Retry-After hint to the pacer.
type retryAfterError struct {
	error
	after time.Duration
}

func (e retryAfterError) Unwrap() error             { return e.error }
func (e retryAfterError) RetryAfter() time.Duration { return e.after }

func retryAfterOf(respErr *smithyhttp.ResponseError) time.Duration {
	if respErr == nil || respErr.Response == nil {
		return 0
	}
	v := strings.TrimSpace(respErr.Response.Header.Get("Retry-After"))
	if secs, err := strconv.Atoi(v); err == nil && secs > 0 {
		return time.Duration(secs) * time.Second
	}
	return 0
}

// isCode reports whether err is an S3 API error with one of codes.
func isCode(err error, codes ...string) bool {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return false
	}
	for _, c := range codes {
		if apiErr.ErrorCode() == c {
			return true
		}
	}
	return false
}
