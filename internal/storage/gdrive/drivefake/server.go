// Package drivefake is an in-process fake of the Google Drive v3 REST API
// (the subset the official Go client uses for Shelf), with a fake OAuth 2.0
// token endpoint. It is faithful to the Drive behaviours a connector must
// cope with: partial and empty intermediate pages, duplicate names in one
// folder, Google-native files without size or md5Checksum, shortcuts,
// trashed files (listed unless the query excludes them), shared drives,
// default partial responses when fields is absent, sizes as JSON strings,
// a changes feed with page tokens (a rejected token answered 400, 404 or
// 410, see RejectChangeTokens), push notifications of that feed
// (changes.watch and channels.stop: https addresses only, plain http to
// loopback allowed for tests; a "sync" message first, then a "change"
// message as changes are recorded, sent from a goroutine of the fake's
// own; see FlushNotifications), and the known bug where OR-ed parent
// queries return nothing. It injects errors and latency and counts calls
// per endpoint.
//
// Tests seed and change the fake directly through the Server's Go API; every
// such change is recorded in the changes feed as if a user made it in Drive.
package drivefake

import (
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Options configure a fake server. The zero value behaves like a healthy
// Drive that fills pages up to the requested size.
type Options struct {
	// MaxPageSize caps the number of items in one files.list or
	// changes.list page below what the client asked for (Drive often
	// returns fewer items than pageSize). 0 means no cap.
	MaxPageSize int
	// EmptyPageEvery makes every Nth page of a listing (files and changes)
	// an empty page that still carries a nextPageToken, as Drive sometimes
	// answers. 0 disables it.
	EmptyPageEvery int
	// BrokenORParents reproduces the known Drive bug: a files.list query
	// that ORs two or more "'id' in parents" terms returns no files.
	BrokenORParents bool
	// IncompleteSearch makes files.list answer incompleteSearch: true, as
	// Drive does when it could not search every corpus.
	IncompleteSearch bool
	// RequireAuth makes every Drive call check its Bearer token against the
	// tokens the fake's OAuth endpoint issued (401 authError otherwise).
	RequireAuth bool
	// Latency is added to every call.
	Latency time.Duration
	// Now returns the current time; time.Now when nil.
	Now func() time.Time
	// Seed seeds the random source used for probabilistic faults.
	Seed uint64
	// NotificationClient sends push notifications; a client of the fake's
	// own when nil. Give an httptest TLS server's Client() to deliver to
	// an https receiver.
	NotificationClient *http.Client
	// NotificationTimeout bounds each notification POST (default 2s).
	NotificationTimeout time.Duration
}

// Server is a running fake Drive. Create it with New; it stops with the
// test (or with Close).
type Server struct {
	mu      sync.Mutex
	opts    Options
	st      *store
	srv     *httptest.Server
	counts  map[string]int
	faults  []*fault
	rng     *rand.Rand
	uploads map[string]*uploadSession
	oauth   *oauthState
	// channels are the live push channels by channel ID; push delivers
	// their messages with notifyClient (unless NotificationClient is set).
	channels     map[string]*watchChannel
	push         *notifier
	notifyClient *http.Client
}

// Cleanuper is the part of testing.TB New needs.
type Cleanuper interface {
	Cleanup(func())
}

// New starts a fake Drive on a loopback port and stops it when the test
// ends.
func New(t Cleanuper, opts Options) *Server {
	s := NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

// NewServer starts a fake Drive on a loopback port; the caller must Close
// it. Benchmarks and programs use it; tests use New.
func NewServer(opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{
		opts:     opts,
		counts:   map[string]int{},
		rng:      rand.New(rand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15)),
		uploads:  map[string]*uploadSession{},
		oauth:    newOAuthState(),
		channels: map[string]*watchChannel{},
		push:     newNotifier(),
		// Redirects are not followed: a notification goes to its address.
		notifyClient: &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	s.st = newStore(opts.Now)
	s.st.onChange = s.changeRecorded
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// Close stops the server and its push notifications (a notification in
// flight is cancelled; nothing is sent afterwards).
func (s *Server) Close() {
	s.push.close()
	s.notifyClient.CloseIdleConnections()
	s.srv.Close()
}

// URL is the server's base URL ("http://127.0.0.1:PORT"); the Drive API
// lives under URL()+"/drive/v3/" and uploads under URL()+"/upload/drive/v3/".
func (s *Server) URL() string { return s.srv.URL }

// Client returns an HTTP client for the server.
func (s *Server) Client() *http.Client { return s.srv.Client() }

// SetOptions replaces the behaviour options (Now excepted) while running.
func (s *Server) SetOptions(fn func(*Options)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.opts.Now
	fn(&s.opts)
	s.opts.Now = now
}

// Calls returns how many times an endpoint was called, by Drive method
// name: "files.list", "files.get", "files.download", "files.create",
// "files.upload", "files.update", "files.delete", "changes.getStartPageToken",
// "changes.list", "changes.watch", "channels.stop", "drives.list",
// "drives.get", "about.get", "oauth.token".
// Calls answered with an injected fault count too.
func (s *Server) Calls(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[method]
}

// TotalCalls returns the number of calls to all Drive endpoints (the OAuth
// endpoints excluded).
func (s *Server) TotalCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for m, c := range s.counts {
		if !strings.HasPrefix(m, "oauth.") {
			n += c
		}
	}
	return n
}

// ResetCalls sets all call counts to zero.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.counts = map[string]int{}
}

// handler serves one Drive method; id is the file or drive ID in the path
// ("" when the path has none).
type handler func(w http.ResponseWriter, r *http.Request, id string)

// route names the Drive method a request calls and returns its handler and
// the ID in its path.
func (s *Server) route(r *http.Request) (string, handler, string) {
	p := r.URL.Path
	const api, upload = "/drive/v3/", "/upload/drive/v3/files"
	switch {
	case p == upload || strings.HasPrefix(p, upload+"/"):
		return "files.upload", s.handleUpload, strings.TrimPrefix(strings.TrimPrefix(p, upload), "/")
	case p == api+"files" && r.Method == http.MethodGet:
		return "files.list", s.handleList, ""
	case p == api+"files" && r.Method == http.MethodPost:
		return "files.create", s.handleCreate, ""
	case strings.HasPrefix(p, api+"files/"):
		id := strings.TrimPrefix(p, api+"files/")
		switch r.Method {
		case http.MethodGet:
			if r.URL.Query().Get("alt") == "media" {
				return "files.download", s.handleDownload, id
			}
			return "files.get", s.handleGet, id
		case http.MethodPatch:
			return "files.update", s.handleUpdate, id
		case http.MethodDelete:
			return "files.delete", s.handleDelete, id
		}
	case p == api+"changes/startPageToken":
		return "changes.getStartPageToken", s.handleStartToken, ""
	case p == api+"changes":
		return "changes.list", s.handleChanges, ""
	case p == api+"changes/watch" && r.Method == http.MethodPost:
		return "changes.watch", s.handleWatch, ""
	case p == api+"channels/stop" && r.Method == http.MethodPost:
		return "channels.stop", s.handleStop, ""
	case p == api+"drives":
		return "drives.list", s.handleDrivesList, ""
	case strings.HasPrefix(p, api+"drives/"):
		return "drives.get", s.handleDriveGet, strings.TrimPrefix(p, api+"drives/")
	case p == api+"about":
		return "about.get", s.handleAbout, ""
	}
	return "unknown", nil, ""
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/oauth/") {
		s.serveOAuth(w, r)
		return
	}
	method, h, id := s.route(r)

	s.mu.Lock()
	s.counts[method]++
	latency := s.opts.Latency
	f := s.takeFault(method)
	s.mu.Unlock()

	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	if f != nil && (!f.after || h == nil) {
		f.write(w)
		return
	}
	if h == nil {
		writeError(w, http.StatusNotFound, "notFound", "Not Found", "", "")
		return
	}
	if !s.checkAuth(w, r) {
		return
	}
	if f != nil { // an "after" fault: the call takes effect, the reply is lost
		h(httptest.NewRecorder(), r, id)
		f.write(w)
		return
	}
	h(w, r, id)
}
