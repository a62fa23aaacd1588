package gdrive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"

	"github.com/shelf-dam/shelf/internal/storage"
)

// MaxChannelTTL is the longest Drive keeps a changes channel open (a
// week); WatchChanges asks for no more. To keep notifications coming, open
// a new channel (with a new ID) before Channel.Expiration and then stop the
// old one.
const MaxChannelTTL = 7 * 24 * time.Hour

// WatchChanges opens a Drive push channel (changes.watch) on the changes
// feed Changes reads: the connected folder's shared drive, or the whole of
// My Drive, so changes outside the folder notify too. Drive POSTs to
// address (https with a certificate Drive trusts; Drive refuses plain
// http) first a "sync" message, which may arrive before WatchChanges
// returns, then a "change" message when the feed moves; several changes
// may share one message. token comes back in X-Goog-Channel-Token. ttl is
// cut to MaxChannelTTL (0 asks for it); Channel.Expiration is what Drive
// granted. An empty cursor watches from now.
//
// Errors: a refused address is storage.ErrFatal saying why; a channel ID
// in use is storage.ErrExists (perhaps this call's own, when a reply was
// lost and the call retried: open again with a new ID, the lost channel
// expires by itself); a refused cursor is classified as Changes does.
func (c *Conn) WatchChanges(ctx context.Context, cursor, address, channelID, token string, ttl time.Duration) (storage.Channel, error) {
	root, err := c.rootFolder(ctx)
	if err != nil {
		return storage.Channel{}, err
	}
	if cursor == "" {
		if cursor, err = c.StartCursor(ctx); err != nil {
			return storage.Channel{}, err
		}
	}
	if ttl <= 0 || ttl > MaxChannelTTL {
		ttl = MaxChannelTTL
	}
	want := &drive.Channel{
		Id: channelID, Type: "web_hook", Address: address, Token: token,
		Expiration: time.Now().Add(ttl).UnixMilli(),
	}
	var got *drive.Channel
	err = c.do(ctx, "watch", "", func(ctx context.Context) error {
		// The same feed parameters as Changes, so the channel watches
		// the feed Changes reads.
		call := c.svc.Changes.Watch(cursor, want).IncludeRemoved(true).
			SupportsAllDrives(true).IncludeItemsFromAllDrives(true).Context(ctx)
		if root.driveID != "" {
			call = call.DriveId(root.driveID)
		}
		var err error
		got, err = call.Do()
		return err
	})
	if err != nil {
		return storage.Channel{}, c.watchRefused(ctx, address, err)
	}
	ch := storage.Channel{ID: got.Id, ResourceID: got.ResourceId}
	if got.Expiration > 0 {
		ch.Expiration = time.UnixMilli(got.Expiration)
	}
	return ch, nil
}

// watchRefused classifies a failed changes.watch. Drive answers a bad
// address or channel 400 with a reason of its own; a refused page token as
// changes.list does (but a 400 counts as one only when it names
// pageToken, since watch has other things to refuse). The answer is
// wrapped, not its class.
func (c *Conn) watchRefused(ctx context.Context, address string, err error) error {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return err
	}
	reason := ""
	if len(ge.Errors) > 0 {
		reason = ge.Errors[0].Reason
	}
	switch {
	case reason == "push.webhookUrlNotHttps":
		return storage.Classify(storage.ErrFatal, "watch", "",
			fmt.Errorf("Drive sends notifications only to https addresses, and %s is not one (%w); serve Shelf's public URL over https", address, ge))
	case reason == "push.webhookUrlUnauthorized", reason == "push.webhookUrlNoHostOrAddress":
		return storage.Classify(storage.ErrFatal, "watch", "",
			fmt.Errorf("Drive refused the notification address %s (%w); use Shelf's public https URL", address, ge))
	case reason == "channelIdNotUnique":
		return storage.Classify(storage.ErrExists, "watch", "",
			fmt.Errorf("the Drive channel ID is in use (%w); open the channel with a new ID", ge))
	case ge.Code == http.StatusNotFound, ge.Code == http.StatusGone,
		ge.Code == http.StatusBadRequest && slices.Contains(errorLocations(ge), "pageToken"):
		return c.refusedCursor(ctx, ge)
	}
	return err
}

// StopChannel stops a channel WatchChanges opened (channels.stop). Drive
// answers 404 for a channel stopped already or expired; that is not an
// error.
func (c *Conn) StopChannel(ctx context.Context, ch storage.Channel) error {
	err := c.do(ctx, "stop watch", "", func(ctx context.Context) error {
		return c.svc.Channels.Stop(&drive.Channel{Id: ch.ID, ResourceId: ch.ResourceID}).Context(ctx).Do()
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	return err
}
