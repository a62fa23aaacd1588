// Package gdrive is the storage connector for a Google Drive folder (in My
// Drive or a shared drive), built on the official Drive v3 client, with
// the OAuth 2.0 and service-account credentials it runs on and the folder
// picker used to choose the folder.
//
// Scoping: everything is resolved from the connected folder downwards —
// paths name by name from the root, IDs from the changes feed by walking
// their parents up to the root — so nothing outside the folder is listed,
// read, written or deleted; an ID that is not under the root is "not found".
//
// Drive quirks handled:
//   - no recursive listing: Scan walks by folders, OR-ing up to
//     ParentsPerQuery parents per files.list query (pageSize 1000, only the
//     stored fields), and falls back to one parent per query when an OR-ed
//     query returns nothing (a known Drive bug);
//   - pages may be short or empty and still carry a nextPageToken; a
//     repeated token or incompleteSearch fails the scan instead of
//     shortening it;
//   - names repeat within a folder (each file is its own entry, paths are
//     not unique; path calls address folders first, then the oldest item);
//     name queries ignore case, so matches are filtered exactly;
//   - names may contain "/" or "\" (shown as "／" and "＼" in paths); names
//     that cannot be a path element at all are skipped with a warning;
//   - Google-native documents have no size, md5 or content (Entry.Native,
//     Size -1; Open refuses them; Put never overwrites them);
//   - shortcuts are never followed: each is listed as a native entry with
//     its own ID, whatever it points to;
//   - trashed items count as absent; a trashed or deleted root fails the
//     scan (never an empty listing);
//   - shared drives need supportsAllDrives/includeItemsFromAllDrives and
//     corpora=drive with the drive's ID;
//   - changes: one page per call, folders moved in arrive without their
//     content (ScanFolder lists it), moves out of the root are removals, a
//     page token Drive refuses (400, 404 or 410) is storage.ErrInvalidCursor
//     unless the root turns out to be gone;
//   - push notifications (changes.watch): https addresses only, a "sync"
//     message first, channels live at most a week (MaxChannelTTL) and
//     notify for the whole feed, not just the connected folder;
//   - rate limits (403 userRateLimitExceeded/rateLimitExceeded, 429) and
//     5xx are retried through the storage.Pacer with backoff and jitter; a
//     create whose reply was lost is not repeated into a duplicate; a 401
//     refreshes the token once before it counts as storage.ErrAuth.
package gdrive

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"golang.org/x/oauth2"
	"google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Drive MIME types with a meaning for the connector.
const (
	folderMIME   = "application/vnd.google-apps.folder"
	shortcutMIME = "application/vnd.google-apps.shortcut"
	nativePrefix = "application/vnd.google-apps."
)

// fileFields are the file fields Shelf stores; every listing asks for these
// only.
const fileFields = "id,name,mimeType,parents,size,md5Checksum,modifiedTime,trashed,shortcutDetails(targetId,targetMimeType)"

// Config configures a Drive connector.
type Config struct {
	// FolderID is the connected folder: a folder ID, a shared drive ID (the
	// drive's root), or "root" for the whole of My Drive. It may be empty
	// for a connector used only to pick a folder (ListFolders,
	// ValidateRoot); root-bound calls then fail.
	FolderID string
	// Endpoint is the base URL of the Drive API, scheme and host only
	// ("https://www.googleapis.com" when empty); the API is under
	// Endpoint+"/drive/v3/" and uploads under Endpoint+"/upload/drive/v3/".
	Endpoint string
	// TokenSource authorises requests (see OAuthConfig.TokenSource and
	// ServiceAccountTokenSource). When it also has an Invalidate method, a
	// 401 from Drive invalidates the cached token and the call is tried
	// once more with a fresh one.
	TokenSource oauth2.TokenSource
	// HTTPClient carries the requests; its Transport is wrapped with the
	// TokenSource when one is given (default http.DefaultClient).
	HTTPClient *http.Client
	// ParentsPerQuery is how many folders one files.list query ORs together
	// during a scan (default 50).
	ParentsPerQuery int
	// ScanWorkers is how many files.list queries a scan runs at a time
	// (default 1). More workers finish a large tree sooner at the cost of
	// some more, smaller queries.
	ScanWorkers int
	// PageSize is the files.list and changes.list page size (default 1000,
	// Drive's maximum).
	PageSize int
	// ChunkSize is the resumable upload chunk size; files up to this size
	// go in one multipart request (default 8 MiB).
	ChunkSize int
	// Pacer retries transient failures (default storage.NewPacer with the
	// logger).
	Pacer *storage.Pacer
}

// Conn is a Drive connector confined to one folder. It is safe for
// concurrent use.
type Conn struct {
	svc       *drive.Service
	ts        oauth2.TokenSource
	cfg       Config
	pacer     *storage.Pacer
	log       *slog.Logger
	rootMu    sync.Mutex
	root      *rootInfo
	foldersMu sync.Mutex
	folders   map[string]folderNode // folder ID → parent and name
}

// rootInfo is the resolved connected folder.
type rootInfo struct {
	id      string // real ID ("root" resolved)
	driveID string // shared drive holding it; "" for My Drive
	name    string
}

// folderNode is one known folder: its parent and its path-safe name. A
// parent of "" marks a top of a tree outside the root (My Drive's root, a
// shared drive).
type folderNode struct {
	parent string
	name   string
}

// Compile-time checks of the capabilities Conn offers.
var (
	_ storage.Connector     = (*Conn)(nil)
	_ storage.Changer       = (*Conn)(nil)
	_ storage.ChangeWatcher = (*Conn)(nil)
)

// New returns a connector for cfg. It does not call Drive: the connected
// folder is resolved on first use (ValidateRoot checks it at once).
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Conn, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ParentsPerQuery <= 0 {
		cfg.ParentsPerQuery = 50
	}
	if cfg.ScanWorkers <= 0 {
		cfg.ScanWorkers = 1
	}
	if cfg.PageSize <= 0 || cfg.PageSize > 1000 {
		cfg.PageSize = 1000
	}
	if cfg.ChunkSize <= 0 {
		cfg.ChunkSize = 8 << 20
	}
	pacer := cfg.Pacer
	if pacer == nil {
		pacer = storage.NewPacer(storage.PacerConfig{Logger: logger})
	}
	base := cfg.HTTPClient
	if base == nil {
		base = http.DefaultClient
	}
	client := base
	if cfg.TokenSource != nil {
		transport := base.Transport
		if transport == nil {
			transport = http.DefaultTransport
		}
		client = &http.Client{
			Transport: &oauth2.Transport{Source: cfg.TokenSource, Base: transport},
			Timeout:   base.Timeout,
			Jar:       base.Jar,
		}
	}
	opts := []option.ClientOption{option.WithHTTPClient(client)}
	if cfg.Endpoint != "" {
		u, err := url.Parse(cfg.Endpoint)
		if err != nil || u.Scheme == "" || u.Host == "" || strings.Trim(u.Path, "/") != "" {
			return nil, storage.Classify(storage.ErrFatal, "connect", "",
				fmt.Errorf("the Drive endpoint %q must be a base URL such as https://www.googleapis.com (scheme and host, no path)", cfg.Endpoint))
		}
		// The trailing slash matters: the client resolves method paths
		// against it (and uploads against the host).
		opts = append(opts, option.WithEndpoint(strings.TrimRight(cfg.Endpoint, "/")+"/drive/v3/"))
	}
	svc, err := drive.NewService(ctx, opts...)
	if err != nil {
		return nil, storage.Classify(storage.ErrFatal, "connect", "", fmt.Errorf("creating the Drive client: %w", err))
	}
	return &Conn{
		svc: svc, ts: cfg.TokenSource, cfg: cfg, pacer: pacer, log: logger,
		folders: map[string]folderNode{},
	}, nil
}

// Kind reports storage.KindGDrive.
func (c *Conn) Kind() storage.Kind { return storage.KindGDrive }

// rootFolder resolves the connected folder once (and again after a
// failure).
func (c *Conn) rootFolder(ctx context.Context) (*rootInfo, error) {
	return c.resolveRoot(ctx, false)
}

// resolveRoot resolves the connected folder; fresh asks Drive again even
// when it is known (a full scan checks the root still exists and is not in
// the trash, so it never reports a vanished root as an empty one).
func (c *Conn) resolveRoot(ctx context.Context, fresh bool) (*rootInfo, error) {
	c.rootMu.Lock()
	defer c.rootMu.Unlock()
	if c.root != nil && !fresh {
		return c.root, nil
	}
	c.root = nil
	if c.cfg.FolderID == "" {
		return nil, storage.Classify(storage.ErrFatal, "connect", "", errors.New("no Drive folder is configured; choose the folder to connect"))
	}
	f, err := c.getFile(ctx, "connect", "", c.cfg.FolderID, "id,name,mimeType,trashed,driveId")
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, storage.Classify(storage.ErrNotFound, "connect", "", fmt.Errorf("the connected Drive folder %s no longer exists or is no longer shared with this account; reconnect storage with another folder", c.cfg.FolderID))
		}
		return nil, err
	}
	if f.MimeType != folderMIME {
		return nil, storage.Classify(storage.ErrInvalidPath, "connect", "", fmt.Errorf("the connected Drive item %s is not a folder; connect a folder", c.cfg.FolderID))
	}
	if f.Trashed {
		return nil, storage.Classify(storage.ErrNotFound, "connect", "", fmt.Errorf("the connected Drive folder %q is in the trash; restore it in Drive or connect another folder", f.Name))
	}
	c.root = &rootInfo{id: f.Id, driveID: f.DriveId, name: f.Name}
	return c.root, nil
}

// getFile fetches one file's metadata by ID (no root check).
func (c *Conn) getFile(ctx context.Context, op, path, id, fields string) (*drive.File, error) {
	var f *drive.File
	err := c.do(ctx, op, path, func(ctx context.Context) error {
		var err error
		f, err = c.svc.Files.Get(id).SupportsAllDrives(true).Fields(googleapi.Field(fields)).Context(ctx).Do()
		return err
	})
	return f, err
}
