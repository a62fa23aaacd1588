package drivefake_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"

	"github.com/shelf-dam/shelf/internal/storage/gdrive/drivefake"
)

// receiver wraps drivefake.Receiver with test assertions.
type receiver struct {
	*drivefake.Receiver
}

func newReceiver(t *testing.T) receiver { return receiver{drivefake.NewReceiver(t)} }

// next waits a few seconds for the next notification.
func (r receiver) next(t *testing.T) drivefake.Notification {
	t.Helper()
	n, ok := r.Next(5 * time.Second)
	if !ok {
		t.Fatal("no notification arrived within 5s")
	}
	return n
}

// none checks that nothing arrived once the fake sent all it had queued.
func (r receiver) none(t *testing.T, f *drivefake.Server) {
	t.Helper()
	f.FlushNotifications()
	for _, n := range r.Pending() {
		t.Errorf("unexpected %q notification for channel %q", n.State(), n.Header.Get("X-Goog-Channel-ID"))
	}
}

// clock is a settable time source for the fake.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func startToken(t *testing.T, svc *drive.Service) string {
	t.Helper()
	tok, err := svc.Changes.GetStartPageToken().Do()
	if err != nil {
		t.Fatal(err)
	}
	return tok.StartPageToken
}

func TestChangesWatchNotifiesUntilStopped(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{})
	svc := service(t, f)
	rcv := newReceiver(t)
	tok := startToken(t, svc)

	ch, err := svc.Changes.Watch(tok, &drive.Channel{Id: "chan-1", Type: "web_hook", Address: rcv.URL, Token: "secret"}).Do()
	if err != nil {
		t.Fatalf("changes.watch: %v", err)
	}
	if ch.Kind != "api#channel" || ch.Id != "chan-1" || ch.ResourceId == "" || ch.Token != "secret" ||
		!strings.Contains(ch.ResourceUri, "/drive/v3/changes?") || !strings.Contains(ch.ResourceUri, "pageToken="+tok) {
		t.Fatalf("changes.watch answered %+v, want the channel with its resource ID, the changes URI and the token", ch)
	}
	expiration := time.UnixMilli(ch.Expiration).UTC().Format(http.TimeFormat)
	check := func(n drivefake.Notification, state string, number int) {
		t.Helper()
		h := n.Header
		want := map[string]string{
			"X-Goog-Channel-Id": "chan-1", "X-Goog-Channel-Token": "secret", "X-Goog-Channel-Expiration": expiration,
			"X-Goog-Resource-Id": ch.ResourceId, "X-Goog-Resource-Uri": ch.ResourceUri, "X-Goog-Resource-State": state,
			"X-Goog-Message-Number": strconv.Itoa(number),
		}
		for k, v := range want {
			if h.Get(k) != v {
				t.Errorf("%s message: %s = %q, want %q", state, k, h.Get(k), v)
			}
		}
		if n.Method != http.MethodPost || len(n.Body) != 0 {
			t.Errorf("%s message: %s with %d body bytes, want a POST with an empty body", state, n.Method, len(n.Body))
		}
	}
	check(rcv.next(t), "sync", 1)

	f.CreateFile("root", "a.txt", "text/plain", []byte("a"))
	check(rcv.next(t), "change", 2)
	rcv.none(t, f)

	if err := svc.Channels.Stop(&drive.Channel{Id: ch.Id, ResourceId: ch.ResourceId}).Do(); err != nil {
		t.Fatalf("channels.stop: %v", err)
	}
	f.CreateFile("root", "b.txt", "text/plain", []byte("b"))
	rcv.none(t, f)

	err = svc.Channels.Stop(&drive.Channel{Id: ch.Id, ResourceId: ch.ResourceId}).Do()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != http.StatusNotFound {
		t.Errorf("stopping a stopped channel: %v, want 404", err)
	}
	if w, s := f.Calls("changes.watch"), f.Calls("channels.stop"); w != 1 || s != 2 {
		t.Errorf("calls: changes.watch %d, channels.stop %d; want 1 and 2", w, s)
	}
}

func TestChangesWatchExpiration(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)}
	start := clk.Now()
	f := drivefake.New(t, drivefake.Options{Now: clk.Now})
	svc := service(t, f)
	tok := startToken(t, svc)

	long, short := newReceiver(t), newReceiver(t)
	ch, err := svc.Changes.Watch(tok, &drive.Channel{Id: "long", Type: "web_hook", Address: long.URL,
		Expiration: start.Add(30 * 24 * time.Hour).UnixMilli()}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if got := time.UnixMilli(ch.Expiration); !got.Equal(start.Add(7 * 24 * time.Hour)) {
		t.Errorf("a 30-day channel expires %v, want cut to a week (%v)", got, start.Add(7*24*time.Hour))
	}
	if n := long.next(t); n.Header.Get("X-Goog-Channel-Token") != "" || n.State() != "sync" {
		t.Errorf("sync message without a token has headers %v", n.Header)
	}
	byDefault, err := svc.Changes.Watch(tok, &drive.Channel{Id: "short", Type: "web_hook", Address: short.URL}).Do()
	if err != nil {
		t.Fatal(err)
	}
	if got := time.UnixMilli(byDefault.Expiration); !got.Equal(start.Add(time.Hour)) {
		t.Errorf("a channel without an expiration expires %v, want in an hour", got)
	}
	short.next(t) // sync

	clk.advance(2 * time.Hour)
	f.CreateFile("root", "a.txt", "text/plain", nil)
	if n := long.next(t); n.State() != "change" {
		t.Errorf("live channel got %v, want a change message", n.Header)
	}
	short.none(t, f)
	err = svc.Channels.Stop(&drive.Channel{Id: byDefault.Id, ResourceId: byDefault.ResourceId}).Do()
	var ge *googleapi.Error
	if !errors.As(err, &ge) || ge.Code != http.StatusNotFound {
		t.Errorf("stopping an expired channel: %v, want 404", err)
	}

	clk.advance(7 * 24 * time.Hour)
	f.CreateFile("root", "b.txt", "text/plain", nil)
	long.none(t, f)
}

// postJSON posts a JSON body to the fake and returns the status and the
// first error reason ("" for a success).
func postJSON(t *testing.T, f *drivefake.Server, path string, q url.Values, body any) (int, string) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := f.Client().Post(f.URL()+path+"?"+q.Encode(), "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e struct {
		Error struct {
			Errors []struct {
				Reason string `json:"reason"`
			} `json:"errors"`
		} `json:"error"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&e)
	if len(e.Error.Errors) == 0 {
		return resp.StatusCode, ""
	}
	return resp.StatusCode, e.Error.Errors[0].Reason
}

func TestChangesWatchRefusals(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{})
	tok := url.Values{"pageToken": {startToken(t, service(t, f))}}
	channel := func(id, typ, address string) map[string]string {
		return map[string]string{"id": id, "type": typ, "address": address}
	}
	for _, tc := range []struct {
		name   string
		q      url.Values
		body   any
		code   int
		reason string
	}{
		{"plain http to a public host", tok, channel("a", "web_hook", "http://shelf.example.com/hook"), 400, "push.webhookUrlNotHttps"},
		{"no host", tok, channel("b", "web_hook", "hook"), 400, "push.webhookUrlNoHostOrAddress"},
		{"another channel type", tok, channel("c", "email", "https://127.0.0.1:1/hook"), 400, "push.channelTypeNotSupported"},
		{"no channel ID", tok, channel("", "web_hook", "https://127.0.0.1:1/hook"), 400, "required"},
		{"no page token", url.Values{}, channel("d", "web_hook", "https://127.0.0.1:1/hook"), 400, "required"},
		{"a page token never issued", url.Values{"pageToken": {"999"}}, channel("e", "web_hook", "https://127.0.0.1:1/hook"), 400, "invalid"},
		{"https", tok, channel("ok1", "web_hook", "https://127.0.0.1:1/hook"), 200, ""},
		{"plain http to 127.0.0.1", tok, channel("ok2", "web_hook", "http://127.0.0.1:1/hook"), 200, ""},
		{"plain http to ::1", tok, channel("ok3", "web_hook", "http://[::1]:1/hook"), 200, ""},
		{"plain http to localhost", tok, channel("ok4", "web_hook", "http://localhost:1/hook"), 200, ""},
		{"a channel ID in use", tok, channel("ok1", "web_hook", "https://127.0.0.1:1/other"), 400, "channelIdNotUnique"},
	} {
		code, reason := postJSON(t, f, "/drive/v3/changes/watch", tc.q, tc.body)
		if code != tc.code || reason != tc.reason {
			t.Errorf("%s: answered %d %q, want %d %q", tc.name, code, reason, tc.code, tc.reason)
		}
	}
	if code, reason := postJSON(t, f, "/drive/v3/channels/stop", nil, map[string]string{"id": "ok1", "resourceId": "wrong"}); code != 404 || reason != "notFound" {
		t.Errorf("stop with another resource ID answered %d %q, want 404 notFound", code, reason)
	}
}

func TestChangesWatchFollowsTheFeedItWatches(t *testing.T) {
	t.Parallel()
	f := drivefake.New(t, drivefake.Options{})
	drv := f.CreateSharedDrive("Team")
	svc := service(t, f)
	tok := startToken(t, svc)
	mine, team, all := newReceiver(t), newReceiver(t), newReceiver(t)
	watch := func(call *drive.ChangesWatchCall) {
		t.Helper()
		if _, err := call.Do(); err != nil {
			t.Fatal(err)
		}
	}
	watch(svc.Changes.Watch(tok, &drive.Channel{Id: "mine", Type: "web_hook", Address: mine.URL}))
	driveTok, err := svc.Changes.GetStartPageToken().DriveId(drv).SupportsAllDrives(true).Do()
	if err != nil {
		t.Fatal(err)
	}
	watch(svc.Changes.Watch(driveTok.StartPageToken, &drive.Channel{Id: "team", Type: "web_hook", Address: team.URL}).
		DriveId(drv).SupportsAllDrives(true).IncludeItemsFromAllDrives(true))
	watch(svc.Changes.Watch(tok, &drive.Channel{Id: "all", Type: "web_hook", Address: all.URL}).
		SupportsAllDrives(true).IncludeItemsFromAllDrives(true))
	for _, r := range []receiver{mine, team, all} {
		r.next(t) // sync
	}

	f.CreateFile("root", "mine.txt", "text/plain", nil)
	mine.next(t)
	all.next(t)
	team.none(t, f)

	f.CreateFile(drv, "team.txt", "text/plain", nil)
	team.next(t)
	all.next(t)
	mine.none(t, f)
}

func TestChangesWatchHTTPSReceiver(t *testing.T) {
	t.Parallel()
	got := make(chan string, 8)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case got <- r.Header.Get("X-Goog-Resource-State"):
		default:
		}
	}))
	t.Cleanup(srv.Close)
	f := drivefake.New(t, drivefake.Options{NotificationClient: srv.Client()})
	svc := service(t, f)
	if _, err := svc.Changes.Watch(startToken(t, svc), &drive.Channel{Id: "tls", Type: "web_hook", Address: srv.URL + "/hook"}).Do(); err != nil {
		t.Fatal(err)
	}
	select {
	case state := <-got:
		if state != "sync" {
			t.Errorf("first message %q, want sync", state)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the https receiver got no sync message within 5s")
	}
}

func TestCloseCancelsNotifications(t *testing.T) {
	t.Parallel()
	entered, release := make(chan struct{}, 8), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		entered <- struct{}{}
		<-release
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: lets srv.Close finish
	f := drivefake.NewServer(drivefake.Options{NotificationTimeout: time.Minute})
	svc := service(t, f)
	if _, err := svc.Changes.Watch(startToken(t, svc), &drive.Channel{Id: "slow", Type: "web_hook", Address: srv.URL}).Do(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the sync message did not arrive within 5s")
	}
	f.CreateFile("root", "queued.txt", "text/plain", nil) // queued behind the stuck sync

	closed := make(chan struct{})
	go func() {
		f.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waited for a receiver that does not answer (the delivery timeout is a minute)")
	}
	f.CreateFile("root", "after.txt", "text/plain", nil)
	f.FlushNotifications() // nothing is queued after Close: no wait
}
