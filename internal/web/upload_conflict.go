package web

import (
	"errors"

	"github.com/shelf-dam/shelf/internal/library"
)

// uploadResultJSON is one file's entry in an upload's "results": the name
// it was sent with, what happened (created, renamed, replaced, skipped)
// and the asset stored, or for a skipped file the one already there (null
// when the library does not hold it yet).
func uploadResultJSON(sent string, res library.UploadResult) map[string]any {
	out := map[string]any{"name": sent, "outcome": res.Outcome, "asset": nil}
	if res.Asset.ID != 0 {
		out["asset"] = assetJSON(res.Asset)
	}
	return out
}

// uploadAPIError is libraryAPIError for an upload; a conflict because the
// name is taken says so ("name_taken": true, "name"), so a client can offer
// to replace, keep both or skip and send the file again with on_conflict.
func uploadAPIError(err error, name string) error {
	mapped := libraryAPIError(err)
	var ae *apiError
	if !library.IsNameTaken(err) || !errors.As(mapped, &ae) {
		return mapped
	}
	with := *ae
	with.Extra = map[string]any{"name_taken": true, "name": name}
	return &with
}
