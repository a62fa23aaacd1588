package web

import (
	"context"
	"errors"
	"net/http"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// classify maps errors from the layers below to API errors.
func (s *Server) classify(err error) *apiError {
	var locked *catalog.LockedError
	switch {
	case errors.As(err, &locked):
		id := locked.RunID
		return &apiError{Status: http.StatusLocked, Code: "library_locked", Message: locked.Error(), SyncRunID: &id}
	case errors.Is(err, catalog.ErrNotFound):
		return errNotFound("the requested item")
	case errors.Is(err, catalog.ErrConflict):
		return errorf(http.StatusConflict, "conflict", "%v", err)
	case errors.Is(err, context.Canceled):
		return errorf(statusClientClosed, "canceled", "the request was canceled")
	default:
		return errorf(http.StatusInternalServerError, "internal", "an internal error occurred; it has been logged")
	}
}
