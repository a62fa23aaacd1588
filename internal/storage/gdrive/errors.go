package gdrive

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/shelf-dam/shelf/internal/storage"
)

// invalidator is implemented by token sources that can drop a cached access
// token Drive rejected (see cachedSource).
type invalidator interface {
	Invalidate()
}

// do runs one Drive request through the pacer, classifying its error. A 401
// with a token source that can be invalidated is tried once more with a
// fresh token before it counts as ErrAuth.
func (c *Conn) do(ctx context.Context, op, path string, fn func(ctx context.Context) error) error {
	retriedAuth := false
	return c.pacer.Call(ctx, op, func(ctx context.Context) error {
		err := fn(ctx)
		if err != nil && !retriedAuth && httpStatus(err) == http.StatusUnauthorized {
			if inv, ok := c.ts.(invalidator); ok {
				retriedAuth = true
				inv.Invalidate()
				err = fn(ctx)
			}
		}
		return classify(op, path, err)
	})
}

func httpStatus(err error) int {
	var ge *googleapi.Error
	if errors.As(err, &ge) {
		return ge.Code
	}
	return 0
}

// retryAfterError carries a Retry-After hint for the pacer.
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e *retryAfterError) Error() string             { return e.err.Error() }
func (e *retryAfterError) Unwrap() error             { return e.err }
func (e *retryAfterError) RetryAfter() time.Duration { return e.after }

// classify wraps a Drive client error with its storage class.
func classify(op, path string, err error) error {
	if err == nil {
		return nil
	}
	var ce *storage.ClassError
	var ge *googleapi.Error
	switch {
	case errors.As(err, &ce):
		return err
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &ge):
		return classifyAPI(op, path, ge, err)
	case errors.Is(err, io.ErrUnexpectedEOF), isNetError(err):
		return storage.Classify(storage.ErrRetryable, op, path, err)
	}
	return storage.Classify(storage.ErrFatal, op, path, err)
}

func isNetError(err error) bool {
	var ne net.Error
	var ue *url.Error
	return errors.As(err, &ne) || errors.As(err, &ue)
}

// classifyAPI classifies an HTTP error answer from Drive.
func classifyAPI(op, path string, ge *googleapi.Error, err error) error {
	r := ""
	if len(ge.Errors) > 0 {
		r = ge.Errors[0].Reason
	}
	switch {
	case ge.Code == http.StatusUnauthorized:
		return storage.Classify(storage.ErrAuth, op, path,
			fmt.Errorf("Drive rejected the credentials (%w); reconnect the Google account", err))
	case ge.Code == http.StatusNotFound:
		return storage.Classify(storage.ErrNotFound, op, path, err)
	case ge.Code == http.StatusTooManyRequests, ge.Code == http.StatusRequestTimeout, ge.Code >= 500,
		ge.Code == http.StatusForbidden && isRateLimit(r):
		var wait time.Duration
		if s := ge.Header.Get("Retry-After"); s != "" {
			if n, perr := strconv.Atoi(s); perr == nil {
				wait = time.Duration(n) * time.Second
			}
		}
		return storage.Classify(storage.ErrRetryable, op, path, &retryAfterError{err: err, after: wait})
	case ge.Code == http.StatusForbidden && r == "storageQuotaExceeded":
		return storage.Classify(storage.ErrFatal, op, path,
			fmt.Errorf("the Drive owner's storage quota is full (%w); free space in Drive", err))
	case ge.Code == http.StatusForbidden:
		return storage.Classify(storage.ErrPermission, op, path,
			fmt.Errorf("Drive refused this (%w); give the connected account edit access to the folder", err))
	}
	return storage.Classify(storage.ErrFatal, op, path, err)
}

// isRateLimit reports whether a 403 reason is a rate limit worth retrying.
func isRateLimit(reason string) bool {
	switch reason {
	case "userRateLimitExceeded", "rateLimitExceeded", "sharingRateLimitExceeded", "backendError":
		return true
	}
	return false
}
