package catalogtest

import (
	"testing"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

func testNotifications(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	ed, err := s.CreateUser(ctx, catalog.NewUser{AccountID: f.accA.ID, Email: "ed@alpha.example", PasswordHash: "h", Role: catalog.RoleEditor}, now)
	must(t, err, "CreateUser")

	all, err := s.CreateNotification(ctx, catalog.Notification{AccountID: f.accA.ID, Kind: "sync.completed", Message: "Sync finished", Data: []byte(`{"run":1}`), CreatedAt: now})
	must(t, err, "CreateNotification account-wide")
	mine, err := s.CreateNotification(ctx, catalog.Notification{AccountID: f.accA.ID, UserID: &ed.ID, Kind: "upload.done", Message: "Your upload finished", CreatedAt: now.Add(time.Second)})
	must(t, err, "CreateNotification for a user")
	if string(mine.Data) != "{}" || mine.ID == 0 {
		t.Fatalf("CreateNotification = %+v", mine)
	}
	_, err = s.CreateNotification(ctx, catalog.Notification{AccountID: f.accB.ID, Kind: "sync.failed", Message: "B failed", CreatedAt: now})
	must(t, err, "CreateNotification B")
	_, err = s.CreateNotification(ctx, catalog.Notification{AccountID: f.accB.ID, UserID: &ed.ID, Kind: "x", Message: "cross", CreatedAt: now})
	wantErr(t, err, catalog.ErrNotFound, "notifying a user of another account")

	list, err := s.ListNotifications(ctx, f.accA.ID, ed.ID, false, 0, 10)
	must(t, err, "ListNotifications")
	if len(list) != 2 || list[0].ID != mine.ID || list[1].ID != all.ID || string(list[1].Data) != `{"run":1}` {
		t.Fatalf("ed's notifications = %+v", list)
	}
	list, err = s.ListNotifications(ctx, f.accA.ID, f.adminA.ID, false, 0, 10)
	must(t, err, "ListNotifications")
	if len(list) != 1 || list[0].ID != all.ID {
		t.Fatalf("admin A sees %+v, want only the account-wide one", list)
	}
	list, err = s.ListNotifications(ctx, f.accA.ID, ed.ID, false, mine.ID, 10)
	must(t, err, "ListNotifications before an id")
	if len(list) != 1 || list[0].ID != all.ID {
		t.Fatalf("page below %d = %+v", mine.ID, list)
	}

	// Reading the account-wide one is per user.
	must(t, s.MarkNotificationRead(ctx, f.accA.ID, ed.ID, all.ID, now), "MarkNotificationRead")
	must(t, s.MarkNotificationRead(ctx, f.accA.ID, ed.ID, all.ID, now), "MarkNotificationRead twice")
	unread, err := s.CountUnreadNotifications(ctx, f.accA.ID, ed.ID)
	must(t, err, "CountUnreadNotifications")
	if unread != 1 {
		t.Fatalf("ed's unread = %d, want 1", unread)
	}
	unread, err = s.CountUnreadNotifications(ctx, f.accA.ID, f.adminA.ID)
	must(t, err, "CountUnreadNotifications")
	if unread != 1 {
		t.Fatalf("admin's unread = %d, want 1 (ed's read mark is ed's)", unread)
	}
	wantErr(t, s.MarkNotificationRead(ctx, f.accA.ID, f.adminA.ID, mine.ID, now), catalog.ErrNotFound, "marking another user's notification")
	wantErr(t, s.MarkNotificationRead(ctx, f.accB.ID, f.adminB.ID, all.ID, now), catalog.ErrNotFound, "marking another account's notification")
	list, err = s.ListNotifications(ctx, f.accA.ID, ed.ID, true, 0, 10)
	must(t, err, "ListNotifications unread")
	if len(list) != 1 || list[0].ID != mine.ID {
		t.Fatalf("ed's unread list = %+v", list)
	}
	must(t, s.MarkAllNotificationsRead(ctx, f.accA.ID, ed.ID, now.Add(time.Minute)), "MarkAllNotificationsRead")
	list, err = s.ListNotifications(ctx, f.accA.ID, ed.ID, false, 0, 10)
	must(t, err, "ListNotifications")
	for _, n := range list {
		if n.ReadAt == nil {
			t.Fatalf("notification %d unread after MarkAllNotificationsRead", n.ID)
		}
	}
	if !timeEq(list[1].ReadAt, &now) {
		t.Fatalf("the first read time was overwritten: %v", list[1].ReadAt)
	}
	n, err := s.PurgeNotifications(ctx, now.Add(500*time.Millisecond))
	must(t, err, "PurgeNotifications")
	if n != 2 {
		t.Fatalf("purged %d, want 2 (A's and B's account-wide ones)", n)
	}
}

func testWebhooks(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now

	w, err := s.CreateWebhook(ctx, catalog.Webhook{AccountID: f.accA.ID, URL: "http://127.0.0.1:9/hook", Secret: []byte("enc"), Events: []string{"sync.*", "asset.deleted"}, Enabled: true}, now)
	must(t, err, "CreateWebhook")
	if w.ID == 0 || !w.Enabled || w.FailureCount != 0 || len(w.Events) != 2 {
		t.Fatalf("CreateWebhook = %+v", w)
	}
	if _, err := s.CreateWebhook(ctx, catalog.Webhook{AccountID: f.accA.ID, URL: "http://x"}, now); err == nil {
		t.Fatal("a webhook without a secret was accepted")
	}
	other, err := s.CreateWebhook(ctx, catalog.Webhook{AccountID: f.accA.ID, URL: "http://127.0.0.1:9/all", Secret: []byte("s"), Events: []string{"*"}, Enabled: false}, now)
	must(t, err, "CreateWebhook")

	for event, want := range map[string]bool{"sync.completed": true, "sync.failed": true, "asset.deleted": true, "asset.created": false, "syncx": false} {
		if got := w.WantsEvent(event); got != want {
			t.Errorf("WantsEvent(%q) = %v, want %v", event, got, want)
		}
	}
	hooks, err := s.ListWebhooksForEvent(ctx, f.accA.ID, "sync.completed")
	must(t, err, "ListWebhooksForEvent")
	if len(hooks) != 1 || hooks[0].ID != w.ID {
		t.Fatalf("hooks for sync.completed = %+v (the disabled one must not be there)", hooks)
	}
	_, err = s.GetWebhook(ctx, f.accB.ID, w.ID)
	wantErr(t, err, catalog.ErrNotFound, "GetWebhook across accounts")
	list, err := s.ListWebhooks(ctx, f.accB.ID)
	must(t, err, "ListWebhooks B")
	if len(list) != 0 {
		t.Fatalf("B lists A's webhooks: %+v", list)
	}

	for i := 1; i <= 3; i++ {
		n, err := s.RecordWebhookFailure(ctx, f.accA.ID, w.ID, now)
		must(t, err, "RecordWebhookFailure")
		if n != i {
			t.Fatalf("failure count = %d, want %d", n, i)
		}
	}
	_, err = s.RecordWebhookFailure(ctx, f.accB.ID, w.ID, now)
	wantErr(t, err, catalog.ErrNotFound, "RecordWebhookFailure across accounts")
	must(t, s.ResetWebhookFailures(ctx, f.accA.ID, w.ID, now), "ResetWebhookFailures")
	got, err := s.GetWebhook(ctx, f.accA.ID, w.ID)
	must(t, err, "GetWebhook")
	if got.FailureCount != 0 {
		t.Fatalf("failure count after reset = %d", got.FailureCount)
	}
	_, err = s.RecordWebhookFailure(ctx, f.accA.ID, w.ID, now)
	must(t, err, "RecordWebhookFailure")
	changed, err := s.DisableWebhook(ctx, f.accA.ID, w.ID, "disabled after 10 failed deliveries", now)
	must(t, err, "DisableWebhook")
	if !changed {
		t.Fatal("DisableWebhook of an enabled webhook reported no change")
	}
	changed, err = s.DisableWebhook(ctx, f.accA.ID, w.ID, "disabled again", now)
	must(t, err, "DisableWebhook again")
	if changed {
		t.Fatal("DisableWebhook of a disabled webhook reported a change")
	}
	_, err = s.DisableWebhook(ctx, f.accB.ID, w.ID, "across accounts", now)
	wantErr(t, err, catalog.ErrNotFound, "DisableWebhook across accounts")
	got, err = s.GetWebhook(ctx, f.accA.ID, w.ID)
	must(t, err, "GetWebhook")
	if got.Enabled || got.DisabledReason != "disabled after 10 failed deliveries" || got.FailureCount != 1 {
		t.Fatalf("after DisableWebhook: %+v", got)
	}

	// Re-enabling clears the reason and the count; an empty secret keeps it.
	got.Enabled, got.URL, got.Secret, got.Events = true, "http://127.0.0.1:9/new", nil, []string{"asset.*"}
	upd, err := s.UpdateWebhook(ctx, got, now.Add(time.Hour))
	must(t, err, "UpdateWebhook")
	if !upd.Enabled || upd.DisabledReason != "" || upd.FailureCount != 0 || string(upd.Secret) != "enc" || upd.URL != "http://127.0.0.1:9/new" || !upd.WantsEvent("asset.created") {
		t.Fatalf("UpdateWebhook = %+v", upd)
	}
	cross := upd
	cross.AccountID = f.accB.ID
	_, err = s.UpdateWebhook(ctx, cross, now)
	wantErr(t, err, catalog.ErrNotFound, "UpdateWebhook across accounts")

	code := 500
	_, err = s.RecordWebhookDelivery(ctx, f.accA.ID, catalog.WebhookDelivery{WebhookID: w.ID, Event: "asset.created", Payload: []byte(`{"a":1}`), Attempt: 1, StatusCode: &code, Error: "server error", CreatedAt: now})
	must(t, err, "RecordWebhookDelivery")
	d2, err := s.RecordWebhookDelivery(ctx, f.accA.ID, catalog.WebhookDelivery{WebhookID: w.ID, Event: "asset.created", Payload: []byte(`{"a":1}`), Attempt: 2, CreatedAt: now.Add(time.Minute)})
	must(t, err, "RecordWebhookDelivery")
	_, err = s.RecordWebhookDelivery(ctx, f.accB.ID, catalog.WebhookDelivery{WebhookID: w.ID, Event: "x", Payload: []byte(`{}`), Attempt: 1, CreatedAt: now})
	wantErr(t, err, catalog.ErrNotFound, "RecordWebhookDelivery across accounts")
	ds, err := s.ListWebhookDeliveries(ctx, f.accA.ID, w.ID, 10)
	must(t, err, "ListWebhookDeliveries")
	if len(ds) != 2 || ds[0].ID != d2.ID || ds[0].StatusCode != nil || *ds[1].StatusCode != 500 || string(ds[1].Payload) != `{"a":1}` {
		t.Fatalf("deliveries = %+v", ds)
	}
	_, err = s.ListWebhookDeliveries(ctx, f.accB.ID, w.ID, 10)
	wantErr(t, err, catalog.ErrNotFound, "ListWebhookDeliveries across accounts")

	wantErr(t, s.DeleteWebhook(ctx, f.accB.ID, other.ID), catalog.ErrNotFound, "DeleteWebhook across accounts")
	must(t, s.DeleteWebhook(ctx, f.accA.ID, w.ID), "DeleteWebhook")
	_, err = s.GetWebhook(ctx, f.accA.ID, w.ID)
	wantErr(t, err, catalog.ErrNotFound, "GetWebhook after delete")
}

func testOAuthStates(t *testing.T, open OpenFunc) {
	f := setup(t, open)
	s, ctx, now := f.store, f.ctx, f.now
	st := catalog.OAuthState{State: "st-1", AccountID: f.accA.ID, UserID: f.adminA.ID, Verifier: "pkce", CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute)}
	must(t, s.CreateOAuthState(ctx, st), "CreateOAuthState")
	wantErr(t, s.CreateOAuthState(ctx, st), catalog.ErrConflict, "CreateOAuthState twice")
	must(t, s.CreateOAuthState(ctx, catalog.OAuthState{State: "st-2", AccountID: f.accA.ID, UserID: f.adminA.ID, Verifier: "v", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}), "CreateOAuthState")
	must(t, s.CreateOAuthState(ctx, catalog.OAuthState{State: "st-3", AccountID: f.accA.ID, UserID: f.adminA.ID, Verifier: "v", CreatedAt: now, ExpiresAt: now.Add(time.Minute)}), "CreateOAuthState")

	got, err := s.TakeOAuthState(ctx, "st-1", now.Add(time.Minute))
	must(t, err, "TakeOAuthState")
	if got.Verifier != "pkce" || got.UserID != f.adminA.ID || !got.ExpiresAt.Equal(st.ExpiresAt) {
		t.Fatalf("TakeOAuthState = %+v", got)
	}
	_, err = s.TakeOAuthState(ctx, "st-1", now.Add(time.Minute))
	wantErr(t, err, catalog.ErrNotFound, "taking a state twice")
	_, err = s.TakeOAuthState(ctx, "st-2", now.Add(time.Minute))
	wantErr(t, err, catalog.ErrNotFound, "taking an expired state")
	_, err = s.TakeOAuthState(ctx, "unknown", now)
	wantErr(t, err, catalog.ErrNotFound, "taking an unknown state")
	n, err := s.PurgeExpiredOAuthStates(ctx, now.Add(time.Hour))
	must(t, err, "PurgeExpiredOAuthStates")
	if n != 1 {
		t.Fatalf("purged %d states, want 1", n)
	}
}
