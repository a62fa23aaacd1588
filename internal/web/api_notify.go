package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/notify"
)

func notificationJSON(n catalog.Notification) map[string]any {
	var data any = map[string]any{}
	if len(n.Data) > 0 {
		_ = json.Unmarshal(n.Data, &data)
	}
	return map[string]any{"id": n.ID, "kind": n.Kind, "message": n.Message, "data": data, "created_at": rfc3339(n.CreatedAt), "read_at": timeOrNil(n.ReadAt)}
}

func (s *Server) handleListNotifications(w http.ResponseWriter, r *http.Request, p *principal) {
	limit := 50
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			s.writeError(w, r, errBadRequest("invalid_field", "limit must be a number from 1 to 200"))
			return
		}
		limit = n
	}
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	list, err := s.store.ListNotifications(r.Context(), p.Account.ID, p.User.ID, r.URL.Query().Get("unread") == "true", before, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	unread, err := s.store.CountUnreadNotifications(r.Context(), p.Account.ID, p.User.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(list))
	for _, n := range list {
		out = append(out, notificationJSON(n))
	}
	writeJSON(w, http.StatusOK, map[string]any{"notifications": out, "unread": unread})
}

func (s *Server) handleReadNotifications(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		IDs *[]int64 `json:"ids"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSONStrict(r, &req); err != nil {
			s.writeError(w, r, err)
			return
		}
	}
	now := s.now()
	var err error
	switch {
	case req.IDs == nil: // absent (or null): everything
		err = s.store.MarkAllNotificationsRead(r.Context(), p.Account.ID, p.User.ID, now)
	case len(*req.IDs) > maxReadIDs:
		s.writeError(w, r, &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: "ids", Message: fmt.Sprintf("at most %d ids at once; leave ids out to mark everything read", maxReadIDs)})
		return
	default: // an empty list marks nothing
		err = s.store.MarkNotificationsRead(r.Context(), p.Account.ID, p.User.ID, *req.IDs, now)
	}
	if errors.Is(err, catalog.ErrNotFound) {
		s.writeError(w, r, errNotFound("notification"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// maxReadIDs bounds the ids of one "mark read" request.
const maxReadIDs = 1000

func webhookJSON(h catalog.Webhook) map[string]any {
	events := h.Events
	if events == nil {
		events = []string{}
	}
	return map[string]any{"id": h.ID, "url": h.URL, "events": events, "enabled": h.Enabled, "failure_count": h.FailureCount,
		"disabled_reason": h.DisabledReason, "created_at": rfc3339(h.CreatedAt)}
}

// webhookError maps the webhook settings' refusals to API errors.
func webhookError(err error) error {
	var we *notify.WebhookError
	if errors.As(err, &we) {
		return &apiError{Status: http.StatusBadRequest, Code: "invalid_field", Field: we.Field, Message: we.Message}
	}
	return notFoundAs(err, "webhook")
}

func (s *Server) handleListWebhooks(w http.ResponseWriter, r *http.Request, p *principal) {
	hooks, err := s.store.ListWebhooks(r.Context(), p.Account.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(hooks))
	for _, h := range hooks {
		out = append(out, webhookJSON(h))
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhooks": out})
}

// handleCreateWebhook adds a webhook and answers its signing secret, once.
func (s *Server) handleCreateWebhook(w http.ResponseWriter, r *http.Request, p *principal) {
	var req struct {
		URL    string   `json:"url"`
		Events []string `json:"events"`
	}
	if err := decodeJSONStrict(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	h, secret, err := s.webhooks.Create(r.Context(), p.Account.ID, req.URL, req.Events)
	if err != nil {
		s.writeError(w, r, webhookError(err))
		return
	}
	body := webhookJSON(h)
	body["secret"] = secret
	writeJSON(w, http.StatusCreated, map[string]any{"webhook": body, "note": "copy the signing secret now: it is shown only once"})
}

func (s *Server) handlePatchWebhook(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("webhook"))
		return
	}
	var req struct {
		URL     *string   `json:"url"`
		Events  *[]string `json:"events"`
		Enabled *bool     `json:"enabled"`
	}
	if err := decodeJSONStrict(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	h, err := s.webhooks.Update(r.Context(), p.Account.ID, id, notify.WebhookUpdate{URL: req.URL, Events: req.Events, Enabled: req.Enabled})
	if err != nil {
		s.writeError(w, r, webhookError(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"webhook": webhookJSON(h)})
}

func (s *Server) handleDeleteWebhook(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("webhook"))
		return
	}
	err := s.store.DeleteWebhook(r.Context(), p.Account.ID, id)
	if errors.Is(err, catalog.ErrNotFound) {
		s.writeError(w, r, errNotFound("webhook"))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleWebhookDeliveries(w http.ResponseWriter, r *http.Request, p *principal) {
	id, ok := pathID(r, "id")
	if !ok {
		s.writeError(w, r, errNotFound("webhook"))
		return
	}
	if _, err := s.store.GetWebhook(r.Context(), p.Account.ID, id); err != nil {
		s.writeError(w, r, notFoundAs(err, "webhook"))
		return
	}
	list, err := s.store.ListWebhookDeliveries(r.Context(), p.Account.ID, id, 100)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := make([]map[string]any, 0, len(list))
	for _, d := range list {
		out = append(out, map[string]any{"id": d.ID, "event": d.Event, "attempt": d.Attempt, "status_code": d.StatusCode, "error": d.Error, "created_at": rfc3339(d.CreatedAt)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": out})
}

func notFoundAs(err error, what string) error {
	if errors.Is(err, catalog.ErrNotFound) {
		return errNotFound(what)
	}
	return err
}
