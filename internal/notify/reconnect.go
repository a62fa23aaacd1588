package notify

import (
	"context"
	"log/slog"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// StorageNeedsReconnect is the event sent when a connection's credentials
// stopped working.
const StorageNeedsReconnect = "storage.needs_reconnect"

// StorageNeedsReconnect tells an account's users that its storage must be
// reconnected: a notification kept in the list and a live event. Failures
// are logged; the connection's status already says it.
func (d *Dispatcher) StorageNeedsReconnect(ctx context.Context, accountID int64, message string) {
	if _, err := d.cfg.Store.CreateNotification(ctx, catalog.Notification{
		AccountID: accountID, Kind: StorageNeedsReconnect, Message: message, Data: []byte("{}"), CreatedAt: d.now(),
	}); err != nil {
		d.logger.ErrorContext(ctx, "keeping the reconnect notification", slog.Int64("account_id", accountID), slog.Any("err", err))
	}
	if err := d.Emit(ctx, Event{Type: StorageNeedsReconnect, AccountID: accountID, Data: MarshalData(map[string]string{"message": message})}); err != nil {
		d.logger.WarnContext(ctx, "publishing the reconnect event", slog.Int64("account_id", accountID), slog.Any("err", err))
	}
}
