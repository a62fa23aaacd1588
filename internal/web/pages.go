package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
	"github.com/shelf-dam/shelf/internal/media"
	"github.com/shelf-dam/shelf/internal/notify"
)

// The web app's templates and static files are compiled into the binary.
var (
	//go:embed templates/*.html
	templateFiles embed.FS
	//go:embed static
	staticFiles embed.FS
)

// pages serves the server-rendered web app. Reads come straight from the
// catalog (keyset queries only); changes go through the JSON API from the
// page's script, so the API's checks (role, CSRF, the sync lock) apply.
type pages struct {
	s      *Server
	tmpl   map[string]*template.Template
	static fs.FS
	// staticVersion changes whenever a static file changes; it is appended
	// to static URLs so browsers may cache them for long.
	staticVersion string
}

// pageRoutes registers the web app's pages on the server's mux.
func (s *Server) pageRoutes() {
	p, err := newPages(s)
	if err != nil {
		// The templates are embedded: a parse error is a build defect that
		// every test run catches, never a runtime condition.
		panic(fmt.Sprintf("parsing embedded page templates: %v", err))
	}
	m := s.mux
	m.Handle("GET /static/", http.StripPrefix("/static/", http.HandlerFunc(p.serveStatic)))
	m.HandleFunc("GET /{$}", p.handleHome)
	m.HandleFunc("GET /signin", p.handleSignIn)
	m.HandleFunc("POST /signin", p.handleSignInForm)
	m.HandleFunc("GET /signup", p.handleSignUp)
	m.Handle("POST /signout", s.authed(anyRole, p.handleSignOut))
	m.HandleFunc("GET /library", p.page(p.query(p.handleLibrary)))
	m.HandleFunc("GET /library/folder/{id}", p.page(p.query(p.handleLibrary)))
	m.HandleFunc("GET /library/items", p.page(p.query(p.handleLibraryItems)))
	m.HandleFunc("GET /library/tree", p.page(p.query(p.handleTreeChildren)))
	m.HandleFunc("GET /assets/{id}", p.page(p.handleAsset))
	m.HandleFunc("GET /settings/storage", p.page(p.handleStorage))
	m.HandleFunc("GET /settings/sync", p.page(p.handleSync))
	m.HandleFunc("GET /settings/webhooks", p.page(p.handleWebhooks))
	m.HandleFunc("GET /team", p.page(p.handleTeam))
	m.HandleFunc("GET /tokens", p.page(p.handleTokens))
	m.HandleFunc("GET /notifications", p.page(p.handleNotifications))
	m.HandleFunc("/", p.handleNotFound)
}

// handleNotFound answers an address no page has with the styled error
// page rather than the mux's plain text.
func (p *pages) handleNotFound(w http.ResponseWriter, r *http.Request) {
	p.renderError(w, r, errorf(http.StatusNotFound, "not_found",
		"There is no page at this address. Check the link for typos, or go back to the library and find the file from there."))
}

func newPages(s *Server) (*pages, error) {
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	version, err := hashFiles(static)
	if err != nil {
		return nil, err
	}
	p := &pages{s: s, static: static, staticVersion: version, tmpl: map[string]*template.Template{}}
	funcs := p.funcs()
	base, err := template.New("base").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html", "templates/part_*.html")
	if err != nil {
		return nil, err
	}
	names, err := fs.Glob(templateFiles, "templates/page_*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(templateFiles, name); err != nil {
			return nil, err
		}
		p.tmpl[strings.TrimSuffix(strings.TrimPrefix(path.Base(name), "page_"), ".html")] = t
	}
	// Fragments (infinite scroll, lazy tree) use the partials alone.
	p.tmpl["partials"] = base
	return p, nil
}

// hashFiles digests every file of fsys into a short version string.
func hashFiles(fsys fs.FS) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		h.Write([]byte(name))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing static files: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// serveStatic serves an embedded static file; versioned URLs are cached
// for a year.
func (p *pages) serveStatic(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("v") == p.staticVersion {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		w.Header().Set("Cache-Control", "no-cache")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.FileServerFS(p.static).ServeHTTP(w, r)
}

// view is what every page template receives.
type view struct {
	Title   string
	Nav     string // the active navigation entry
	User    catalog.User
	Account catalog.Account
	CSRF    string
	Static  string // query string of static URLs (?v=…)
	// Lock is the running sync holding the library, if any.
	Lock *syncLock
	// Data is the page's own content.
	Data any
}

// syncLock is the banner state of a running sync.
type syncLock struct {
	RunID int64
	// Run is the running sync (nil when its row is gone).
	Run *notify.RunView
}

// CanEdit reports whether the user may change the library.
func (v view) CanEdit() bool {
	return v.User.Role == catalog.RoleAdmin || v.User.Role == catalog.RoleEditor
}

// IsAdmin reports whether the user is an account admin.
func (v view) IsAdmin() bool { return v.User.Role == catalog.RoleAdmin }

// Locked reports whether a sync holds the library.
func (v view) Locked() bool { return v.Lock != nil }

type pageHandler func(w http.ResponseWriter, r *http.Request, v *view) error

// page authenticates a browser request (redirecting to sign-in when it is
// not), fills the common view and renders what h returns.
func (p *pages) page(h pageHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		pr, err := p.s.authenticate(r)
		if err != nil {
			var ae *apiError
			if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized {
				http.Redirect(w, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			p.renderError(w, r, err)
			return
		}
		v := &view{User: pr.User, Account: pr.Account, Static: "?v=" + p.staticVersion}
		if pr.Session != nil {
			v.CSRF = pr.Session.CSRFToken
		}
		lock, err := p.currentLock(r, pr.Account.ID)
		if err != nil {
			p.renderError(w, r, err)
			return
		}
		v.Lock = lock
		if err := h(w, r, v); err != nil {
			p.renderError(w, r, err)
		}
	}
}

// currentLock reads the lease and, when held, the running run's counters.
func (p *pages) currentLock(r *http.Request, accountID int64) (*syncLock, error) {
	lease, err := p.s.store.GetLease(r.Context(), accountID, p.s.now())
	if errors.Is(err, catalog.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading the sync lock: %w", err)
	}
	if lease.Live() {
		// A live batch holds the library for a moment, and changes made
		// meanwhile wait for it instead of being refused: nothing to show.
		return nil, nil
	}
	lock := &syncLock{RunID: lease.RunID}
	run, err := p.s.store.GetSyncRun(r.Context(), accountID, lease.RunID)
	if err == nil {
		v := notify.ViewRun(run)
		lock.Run = &v
	} else if !errors.Is(err, catalog.ErrNotFound) {
		return nil, fmt.Errorf("reading the running sync: %w", err)
	}
	return lock, nil
}

// render executes a page template into a buffer first, so a template error
// never sends half a page.
func (p *pages) render(w http.ResponseWriter, status int, name string, v any) error {
	t, ok := p.tmpl[name]
	if !ok || name == "partials" {
		return fmt.Errorf("no page template %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("rendering page %s: %w", name, err)
	}
	p.writeHTML(w, status, buf.Bytes())
	return nil
}

// renderFragment executes one named partial (an HTML fragment for script
// requests and no-script links alike).
func (p *pages) renderFragment(w http.ResponseWriter, name string, v any) error {
	var buf bytes.Buffer
	if err := p.tmpl["partials"].ExecuteTemplate(&buf, name, v); err != nil {
		return fmt.Errorf("rendering fragment %s: %w", name, err)
	}
	p.writeHTML(w, http.StatusOK, buf.Bytes())
	return nil
}

func (p *pages) writeHTML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	// Everything is served by Shelf itself: scripts, styles and images
	// from this origin only (thumbnails and previews included).
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; media-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// errorView is the content of the error page.
type errorView struct {
	Status  int
	Message string
}

// renderError shows an error page; internal errors are logged and shown
// without their details.
func (p *pages) renderError(w http.ResponseWriter, r *http.Request, err error) {
	ae := p.s.answerFor(r, err)
	setRetryAfter(w, ae.RetryAfter)
	v := &view{Title: http.StatusText(ae.Status), Static: "?v=" + p.staticVersion, Data: errorView{Status: ae.Status, Message: ae.Message}}
	if pr, aerr := p.s.authenticate(r); aerr == nil {
		v.User, v.Account = pr.User, pr.Account
	}
	if rerr := p.render(w, ae.Status, "error", v); rerr != nil {
		p.s.logger.ErrorContext(r.Context(), "rendering the error page", slog.Any("err", rerr))
		http.Error(w, ae.Message, ae.Status)
	}
}

// handleHome sends signed-in users to their library, others to sign-in.
func (p *pages) handleHome(w http.ResponseWriter, r *http.Request) {
	if _, err := p.s.authenticate(r); err != nil {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/library", http.StatusSeeOther)
}

// funcs are the template helpers.
func (p *pages) funcs() template.FuncMap {
	return template.FuncMap{
		"bytes":    humanBytes,
		"thumbv":   media.ThumbVersion,
		"reason":   media.Reason,
		"duration": humanDuration,
		"time":     func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"timep": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"iso": func(t any) string {
			switch t := t.(type) {
			case time.Time:
				return t.UTC().Format(time.RFC3339)
			case *time.Time:
				if t != nil {
					return t.UTC().Format(time.RFC3339)
				}
			}
			return ""
		},
		"deref": func(v any) any {
			switch v := v.(type) {
			case *int:
				if v != nil {
					return *v
				}
			case *int64:
				if v != nil {
					return *v
				}
			}
			return nil
		},
		"kind": mimeKind,
		"join": strings.Join,
		"eq64": func(a *int64, b int64) bool { return a != nil && *a == b },
		"seq": func(n int) []int {
			s := make([]int, n)
			for i := range s {
				s[i] = i + 1
			}
			return s
		},
		"urlquery":   url.QueryEscape,
		"num":        thousands,
		"stateLabel": stateLabel,
		"trigger":    triggerLabel,
		"spell":      spell,
		"upper":      strings.ToUpper,
		"counts":     countsText,
		"progress":   progressText,
		"sub":        func(a, b int64) int64 { return a - b },
		"len64":      func(s []string) int64 { return int64(len(s)) },
	}
}

// humanBytes renders a size as "1.5 MB".
func humanBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// humanDuration renders milliseconds as "1:02:03" or "2:03".
func humanDuration(ms any) string {
	var v int64
	switch x := ms.(type) {
	case *int64:
		if x == nil {
			return ""
		}
		v = *x
	case int64:
		v = x
	}
	secs := v / 1000
	if secs >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", secs/3600, secs/60%60, secs%60)
	}
	return fmt.Sprintf("%d:%02d", secs/60, secs%60)
}

// mimeKind is the family of a MIME type shown on cards: "image", "video",
// "audio", "pdf" or "file".
func mimeKind(mime string) string {
	switch {
	case strings.HasPrefix(mime, "image/"):
		return "image"
	case strings.HasPrefix(mime, "video/"):
		return "video"
	case strings.HasPrefix(mime, "audio/"):
		return "audio"
	case mime == "application/pdf":
		return "pdf"
	}
	return "file"
}
