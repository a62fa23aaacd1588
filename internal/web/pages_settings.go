package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/syncrun"
)

// storageView is the content of Settings → Storage.
type storageView struct {
	Conn *catalog.Connection
	// Config holds the connection's non-secret settings.
	Config        map[string]any
	LocalRoots    []string
	OAuthEnabled  bool
	DriveAuthored bool // back from the OAuth consent screen
	// Live is the live sync section; nil when the plan does not sync the
	// storage live.
	Live *liveSetup
	// WriteMetadata is the account setting write_metadata_to_files.
	WriteMetadata bool
}

// Str returns a non-secret setting as text for a form field.
func (sv storageView) Str(key string) string {
	v, ok := sv.Config[key]
	if !ok || v == nil {
		return ""
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// Bool returns a non-secret boolean setting.
func (sv storageView) Bool(key string) bool {
	b, _ := sv.Config[key].(bool)
	return b
}

// Kind is the connected kind, or "" when none.
func (sv storageView) Kind() string {
	if sv.Conn == nil {
		return ""
	}
	return sv.Conn.Kind
}

// handleStorage renders the storage connection and the forms to connect
// or reconnect S3, Google Drive or a local folder.
func (p *pages) handleStorage(w http.ResponseWriter, r *http.Request, v *view) error {
	if !v.IsAdmin() {
		return errForbidden("only account admins manage storage; your role is %s", v.User.Role)
	}
	sv := storageView{
		LocalRoots:    p.s.cfg.LocalRoots,
		OAuthEnabled:  p.s.cfg.GoogleClientID != "",
		DriveAuthored: r.URL.Query().Get("drive") == "authorized",
		Config:        map[string]any{},
	}
	var err error
	if sv.WriteMetadata, err = p.s.store.WriteMetadataToFiles(r.Context(), v.Account.ID); err != nil {
		return err
	}
	conn, err := p.s.store.GetConnection(r.Context(), v.Account.ID)
	switch {
	case err == nil:
		sv.Conn = &conn
		if len(conn.Config) > 0 {
			if err := json.Unmarshal(conn.Config, &sv.Config); err != nil {
				return fmt.Errorf("reading the storage settings: %w", err)
			}
		}
	case !errors.Is(err, catalog.ErrNotFound):
		return err
	}
	if sv.Conn != nil {
		if sv.Live, err = p.liveSetup(r, v.Account.ID, sv.Conn.Kind); err != nil {
			return err
		}
		if sv.Live != nil {
			sv.Live.Bucket, sv.Live.Prefix, sv.Live.Region = sv.Str("bucket"), sv.Str("prefix"), sv.Str("region")
		}
	}
	v.Nav, v.Title, v.Data = "storage", "Storage", sv
	return p.render(w, http.StatusOK, "storage", v)
}

// liveSetup is the Storage page's live sync section, or nil when the plan
// does not sync the storage live.
func (p *pages) liveSetup(r *http.Request, accountID int64, kind string) (*liveSetup, error) {
	st, err := p.s.syncs.Status(r.Context(), accountID, p.s.now())
	if err != nil {
		return nil, err
	}
	lv := p.s.liveOf(st)
	if lv == nil {
		return nil, nil
	}
	ls := &liveSetup{liveView: *lv, PushReady: strings.HasPrefix(p.s.cfg.PublicURL, "https://")}
	if kind == string(storage.KindS3) {
		if ls.EventsURL, err = p.s.eventsURL(r, accountID); err != nil {
			return nil, err
		}
	}
	return ls, nil
}

// syncView is the content of Settings → Sync: the account's sync status
// (syncrun.Status, which the API and Sync now's 429 render too) and the
// run history.
type syncView struct {
	HasStorage bool
	Running    *catalog.SyncRun
	Latest     *catalog.SyncRun
	Runs       []catalog.SyncRun
	Manual     syncrun.ManualStatus
	// Held is the latest run when it stopped for a confirmation of its
	// removals and no sync runs since.
	Held *catalog.SyncRun
	// PreviewsPending counts the previews still being made (at most
	// previewsCountLimit).
	PreviewsPending int64
	// Live says how changes arrive when the plan syncs live; nil when not.
	Live *liveView
	// Notes are what the latest run (and the reading of file metadata
	// after it) skipped or noticed about single files.
	Notes []catalog.RunNote
}

// previewsCountLimit bounds the count of previews still to make: beyond
// it the page says "more than".
const previewsCountLimit = 100000

// handleSync renders the sync status and the run history.
func (p *pages) handleSync(w http.ResponseWriter, r *http.Request, v *view) error {
	ctx := r.Context()
	st, err := p.s.syncs.Status(ctx, v.Account.ID, p.s.now())
	if err != nil {
		return err
	}
	sv := syncView{HasStorage: st.StorageKind != "", Running: st.Running, Latest: st.Latest, Manual: st.Manual, Live: p.s.liveOf(st)}
	runs, err := p.s.store.ListSyncRuns(ctx, v.Account.ID, 25)
	if err != nil {
		return err
	}
	sv.Runs = runs
	if len(runs) > 0 {
		if sv.Notes, err = p.s.store.ListRunNotes(ctx, v.Account.ID, runs[0].ID); err != nil {
			return err
		}
	}
	if sv.Running == nil {
		sv.Held = st.Held
	}
	if sv.PreviewsPending, err = p.s.store.CountPendingPreviews(ctx, v.Account.ID, previewsCountLimit+1); err != nil {
		return err
	}
	v.Nav, v.Title, v.Data = "sync", "Sync", sv
	return p.render(w, http.StatusOK, "sync", v)
}

// teamView is the content of the team page.
type teamView struct {
	Users []catalog.User
	Roles []string
}

// handleTeam lists the account's users; admins may add users and change
// roles.
func (p *pages) handleTeam(w http.ResponseWriter, r *http.Request, v *view) error {
	users, err := p.s.store.ListUsers(r.Context(), v.Account.ID)
	if err != nil {
		return err
	}
	v.Nav, v.Title = "team", "Team"
	v.Data = teamView{Users: users, Roles: []string{catalog.RoleViewer, catalog.RoleEditor, catalog.RoleAdmin}}
	return p.render(w, http.StatusOK, "team", v)
}

// tokensView is the content of the API tokens page.
type tokensView struct {
	Own []catalog.APIToken
	// Team holds the other users' live tokens (admins only).
	Team []catalog.AccountAPIToken
}

// handleTokens lists the user's personal API tokens and, for admins, the
// other users' tokens of the account, which admins may revoke.
func (p *pages) handleTokens(w http.ResponseWriter, r *http.Request, v *view) error {
	tokens, err := p.s.store.ListAPITokens(r.Context(), v.User.ID)
	if err != nil {
		return err
	}
	tv := tokensView{Own: slices.DeleteFunc(tokens, func(t catalog.APIToken) bool { return t.RevokedAt != nil })}
	if v.IsAdmin() {
		team, err := p.s.store.ListAccountAPITokens(r.Context(), v.Account.ID)
		if err != nil {
			return err
		}
		tv.Team = slices.DeleteFunc(team, func(t catalog.AccountAPIToken) bool { return t.UserID == v.User.ID })
	}
	v.Nav, v.Title, v.Data = "tokens", "API tokens", tv
	return p.render(w, http.StatusOK, "tokens", v)
}

// handleNotifications renders the notification list shell; the list is
// read from GET /api/v1/notifications by the page's script and grows live.
func (p *pages) handleNotifications(w http.ResponseWriter, r *http.Request, v *view) error {
	v.Nav, v.Title = "notifications", "Notifications"
	return p.render(w, http.StatusOK, "notifications", v)
}

// handleWebhooks renders the webhook manager for admins (data from
// GET /api/v1/webhooks).
func (p *pages) handleWebhooks(w http.ResponseWriter, r *http.Request, v *view) error {
	if !v.IsAdmin() {
		return errForbidden("only account admins manage webhooks; your role is %s", v.User.Role)
	}
	v.Nav, v.Title = "webhooks", "Webhooks"
	return p.render(w, http.StatusOK, "webhooks", v)
}
