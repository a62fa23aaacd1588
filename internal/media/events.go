package media

import (
	"context"
	"log/slog"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
)

// PreviewPayload is the data of the asset.updated event sent when an
// asset's preview state changes: the asset as library events show it,
// plus its preview state, the reason when there is none, and the version
// to add to its thumbnail URL (?v=) so browsers fetch the new image.
type PreviewPayload struct {
	notify.AssetData
	PreviewState   string `json:"preview_state"`
	PreviewError   string `json:"preview_error,omitempty"`
	PreviewVersion string `json:"preview_version"`
}

// published tells open pages that a's preview state changed; a failure is
// logged only: the page shows the preview on its next load.
func (s *Service) published(ctx context.Context, a catalog.Asset) {
	if s.cfg.Publish == nil {
		return
	}
	data := PreviewPayload{AssetData: notify.AssetDataOf(a),
		PreviewState: a.PreviewState, PreviewError: Reason(a.PreviewError), PreviewVersion: ThumbVersion(a)}
	ev := notify.Event{Type: notify.AssetUpdated, AccountID: a.AccountID, Time: s.cfg.Now().UTC(), Data: notify.MarshalData(data)}
	if err := s.cfg.Publish(context.WithoutCancel(ctx), ev); err != nil {
		s.cfg.Logger.Warn("publishing a preview event failed",
			slog.Int64("account_id", a.AccountID), slog.Int64("asset_id", a.ID), slog.String("error", err.Error()))
	}
}

// ThumbVersion is the value pages put in a thumbnail URL's v parameter: the
// content version with the preview state, so the URL changes when the
// preview becomes ready (a browser never keeps showing the icon it was
// given while the preview was being made) and when the file changes.
func ThumbVersion(a catalog.Asset) string {
	if a.PreviewState == StateReady {
		return Version(a)
	}
	return Version(a) + "-" + a.PreviewState
}
