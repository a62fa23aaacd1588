// Package config holds Shelf's settings, read once at start-up from flags
// and SHELF_* environment variables and then passed explicitly to whatever
// needs them. Nothing reads the environment after Load.
package config

import (
	"flag"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config is every setting of a Shelf process.
type Config struct {
	Listen      string // SHELF_LISTEN
	PublicURL   string // SHELF_PUBLIC_URL: the URL users reach Shelf at (OAuth redirects, emails)
	DatabaseURL string // SHELF_DATABASE_URL: SQLite path/file: URL or postgres:// URL
	DataDir     string // SHELF_DATA_DIR
	SecretKey   string // SHELF_SECRET_KEY (base64 or hex, 32 bytes); generated into DataDir when empty
	LocalRoots  []string
	PolicyFile  string
	SignupOpen  bool
	TrialLength time.Duration

	GoogleClientID     string
	GoogleClientSecret string
	GoogleAuthURL      string
	GoogleTokenURL     string
	DriveEndpoint      string

	// TrustedProxies are the reverse proxies (addresses or CIDR ranges)
	// whose X-Forwarded-For names the client (SHELF_TRUSTED_PROXIES): the
	// sign-in limits count per client address. Empty: the connection's
	// address is the client's.
	TrustedProxies []netip.Prefix
	// WebhookAllowPrivate lets webhooks reach private and internal
	// addresses (SHELF_WEBHOOK_ALLOW_PRIVATE); off, they are refused.
	WebhookAllowPrivate bool

	// S3AllowDefaultChain lets accounts use the server's default AWS
	// credential chain instead of static keys (SHELF_S3_ALLOW_DEFAULT_CREDENTIALS).
	S3AllowDefaultChain bool

	SMTPAddr     string
	SMTPFrom     string
	SMTPUser     string
	SMTPPassword string

	// SchedulerInterval is the period of the auto-sync scheduler tick,
	// LeaseTTL the life of a sync's library lease without renewal, and
	// SyncWorkers how many syncs one process runs at once.
	SchedulerInterval time.Duration
	LeaseTTL          time.Duration
	SyncWorkers       int

	// MaxUploadBytes is the largest file an upload may store; a larger
	// one is refused (413) and nothing of it is kept.
	MaxUploadBytes int64
	// MaxZipBytes is the most bytes one zip download of many files may
	// hold (the sum of their sizes); a larger selection is refused.
	MaxZipBytes int64
	// MinUploadRate (bytes/s; 0: off) is the slowest an upload may arrive:
	// a client that sends less than MinUploadRate×MinUploadRateWindow bytes
	// in a window of waiting for it is cut off (408) and nothing is kept.
	MinUploadRate       int64
	MinUploadRateWindow time.Duration
	// Admission control: how many expensive requests one process serves at
	// once. Catalog queries (searches and listings, each holding a catalog
	// connection) and transfers (downloads and uploads, long but light on
	// the catalog) have separate budgets, for the process and per account.
	// A request over budget waits at most AdmissionWait, in a queue of
	// AdmissionQueue requests per account, then is refused: 429 when its
	// account used its share, 503 when the process is full. Zero means the
	// default; the query budgets' defaults follow the catalog's pool (see
	// internal/web).
	QueryConcurrency              int           // SHELF_QUERY_CONCURRENCY
	QueryConcurrencyPerAccount    int           // SHELF_QUERY_CONCURRENCY_PER_ACCOUNT
	TransferConcurrency           int           // SHELF_TRANSFER_CONCURRENCY
	TransferConcurrencyPerAccount int           // SHELF_TRANSFER_CONCURRENCY_PER_ACCOUNT
	AdmissionQueue                int           // SHELF_ADMISSION_QUEUE
	AdmissionWait                 time.Duration // SHELF_ADMISSION_WAIT
	// QueryTimeout bounds the catalog work of a search or listing
	// (SHELF_QUERY_TIMEOUT); a query still running then is stopped and the
	// request answered 503.
	QueryTimeout time.Duration

	LogLevel  string // debug | info | warn | error
	LogFormat string // text | json

	finish func() error
}

// Defaults documented in SPEC §7.
const (
	DefaultListen        = "127.0.0.1:8080"
	DefaultDataDir       = "./shelf-data"
	DefaultGoogleAuthURL = "https://accounts.google.com/o/oauth2/auth"
	DefaultTokenURL      = "https://oauth2.googleapis.com/token"
	DefaultDriveEndpoint = "https://www.googleapis.com/"

	DefaultMaxUploadBytes                = 5 << 30
	DefaultMaxZipBytes                   = 4 << 30
	DefaultMinUploadRate                 = 4 << 10
	DefaultMinUploadRateWindow           = 30 * time.Second
	DefaultTransferConcurrency           = 32
	DefaultTransferConcurrencyPerAccount = 8
	DefaultAdmissionQueue                = 8
	DefaultAdmissionWait                 = 2 * time.Second
	DefaultQueryTimeout                  = 10 * time.Second
)

// Register defines the flags every Shelf command shares on fs, each
// defaulting to its SHELF_* environment variable. Call Finish after
// fs.Parse.
func Register(fs *flag.FlagSet, getenv func(string) string) *Config {
	c := &Config{}
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	fs.StringVar(&c.Listen, "listen", env("SHELF_LISTEN", DefaultListen), "address to listen on (SHELF_LISTEN)")
	fs.StringVar(&c.PublicURL, "public-url", env("SHELF_PUBLIC_URL", ""), "URL users reach Shelf at, for OAuth redirects and links (SHELF_PUBLIC_URL; default http://LISTEN)")
	fs.StringVar(&c.DatabaseURL, "database-url", "", "SQLite path or file: URL, or postgres:// URL (SHELF_DATABASE_URL; default DATA_DIR/shelf.db)")
	fs.StringVar(&c.DataDir, "data-dir", env("SHELF_DATA_DIR", DefaultDataDir), "data directory for the SQLite file, the generated key and thumbnails (SHELF_DATA_DIR)")
	fs.StringVar(&c.SecretKey, "secret-key", "", "32-byte key (base64 or hex) that encrypts stored credentials (SHELF_SECRET_KEY; generated into the data dir when unset)")
	localRoots := fs.String("local-roots", env("SHELF_LOCAL_ROOTS", ""), "':'-separated directories local-folder storage may use (SHELF_LOCAL_ROOTS; empty: local storage off)")
	fs.StringVar(&c.PolicyFile, "policy-file", env("SHELF_POLICY_FILE", ""), "TOML file overriding the plans table (SHELF_POLICY_FILE)")
	signup := fs.String("signup", env("SHELF_SIGNUP", "open"), "open or closed: whether anyone may sign up (SHELF_SIGNUP)")
	trialDays := fs.String("trial-days", env("SHELF_TRIAL_DAYS", "14"), "length of the trial of new accounts, in days (SHELF_TRIAL_DAYS)")
	fs.StringVar(&c.GoogleClientID, "google-client-id", env("SHELF_GOOGLE_CLIENT_ID", ""), "OAuth client ID for Google Drive (SHELF_GOOGLE_CLIENT_ID; unset: OAuth off)")
	fs.StringVar(&c.GoogleClientSecret, "google-client-secret", "", "OAuth client secret for Google Drive (SHELF_GOOGLE_CLIENT_SECRET)")
	fs.StringVar(&c.GoogleAuthURL, "google-auth-url", env("SHELF_GOOGLE_AUTH_URL", DefaultGoogleAuthURL), "Google OAuth authorization endpoint (SHELF_GOOGLE_AUTH_URL)")
	fs.StringVar(&c.GoogleTokenURL, "google-token-url", env("SHELF_GOOGLE_TOKEN_URL", DefaultTokenURL), "Google OAuth token endpoint (SHELF_GOOGLE_TOKEN_URL)")
	fs.StringVar(&c.DriveEndpoint, "drive-endpoint", env("SHELF_DRIVE_ENDPOINT", DefaultDriveEndpoint), "Google Drive API base URL (SHELF_DRIVE_ENDPOINT)")
	trustedProxies := fs.String("trusted-proxies", env("SHELF_TRUSTED_PROXIES", ""), "reverse proxies (comma-separated addresses or CIDR ranges) whose X-Forwarded-For header names the client; empty: none (SHELF_TRUSTED_PROXIES)")
	allowPrivate := fs.String("webhook-allow-private", env("SHELF_WEBHOOK_ALLOW_PRIVATE", "false"), "let webhooks reach loopback, private and link-local addresses (SHELF_WEBHOOK_ALLOW_PRIVATE)")
	allowChain := fs.String("s3-allow-default-credentials", env("SHELF_S3_ALLOW_DEFAULT_CREDENTIALS", "false"), "let S3 connections use the server's default AWS credential chain (SHELF_S3_ALLOW_DEFAULT_CREDENTIALS)")
	fs.StringVar(&c.SMTPAddr, "smtp-addr", env("SHELF_SMTP_ADDR", ""), "SMTP server host:port for failure emails (SHELF_SMTP_ADDR; unset: no email)")
	fs.StringVar(&c.SMTPFrom, "smtp-from", env("SHELF_SMTP_FROM", ""), "sender address of emails (SHELF_SMTP_FROM)")
	fs.StringVar(&c.SMTPUser, "smtp-user", env("SHELF_SMTP_USER", ""), "SMTP user name (SHELF_SMTP_USER)")
	fs.StringVar(&c.SMTPPassword, "smtp-password", "", "SMTP password (SHELF_SMTP_PASSWORD)")
	fs.DurationVar(&c.SchedulerInterval, "scheduler-interval", envDuration(getenv, "SHELF_SCHEDULER_INTERVAL", 30*time.Second), "period of the auto-sync scheduler (SHELF_SCHEDULER_INTERVAL)")
	fs.DurationVar(&c.LeaseTTL, "sync-lease-ttl", envDuration(getenv, "SHELF_SYNC_LEASE_TTL", 30*time.Second), "how long a sync's library lock lasts without renewal; a dead worker's library unlocks after it (SHELF_SYNC_LEASE_TTL)")
	fs.IntVar(&c.SyncWorkers, "sync-workers", envInt(getenv, "SHELF_SYNC_WORKERS", 4), "syncs one process runs at once (SHELF_SYNC_WORKERS)")
	fs.Int64Var(&c.MaxUploadBytes, "max-upload-bytes", envInt64(getenv, "SHELF_MAX_UPLOAD_BYTES", DefaultMaxUploadBytes), "largest file an upload may store, in bytes (SHELF_MAX_UPLOAD_BYTES)")
	fs.Int64Var(&c.MaxZipBytes, "max-zip-bytes", envInt64(getenv, "SHELF_MAX_ZIP_BYTES", DefaultMaxZipBytes), "most bytes one zip download of several files may hold (SHELF_MAX_ZIP_BYTES)")
	fs.Int64Var(&c.MinUploadRate, "min-upload-rate", envInt64(getenv, "SHELF_MIN_UPLOAD_RATE", DefaultMinUploadRate), "slowest an upload may arrive, in bytes per second over the window; slower clients are cut off (SHELF_MIN_UPLOAD_RATE; 0: off)")
	fs.DurationVar(&c.MinUploadRateWindow, "min-upload-rate-window", envDuration(getenv, "SHELF_MIN_UPLOAD_RATE_WINDOW", DefaultMinUploadRateWindow), "window over which the upload rate is measured (SHELF_MIN_UPLOAD_RATE_WINDOW)")
	fs.IntVar(&c.QueryConcurrency, "query-concurrency", envInt(getenv, "SHELF_QUERY_CONCURRENCY", 0), "searches and listings one process runs at once; 0: the catalog's connections less 2, at least 1 (SHELF_QUERY_CONCURRENCY)")
	fs.IntVar(&c.QueryConcurrencyPerAccount, "query-concurrency-per-account", envInt(getenv, "SHELF_QUERY_CONCURRENCY_PER_ACCOUNT", 0), "searches and listings one account runs at once; 0: half the process's, at least 1 (SHELF_QUERY_CONCURRENCY_PER_ACCOUNT)")
	fs.IntVar(&c.TransferConcurrency, "transfer-concurrency", envInt(getenv, "SHELF_TRANSFER_CONCURRENCY", DefaultTransferConcurrency), "downloads and uploads one process serves at once (SHELF_TRANSFER_CONCURRENCY)")
	fs.IntVar(&c.TransferConcurrencyPerAccount, "transfer-concurrency-per-account", envInt(getenv, "SHELF_TRANSFER_CONCURRENCY_PER_ACCOUNT", DefaultTransferConcurrencyPerAccount), "downloads and uploads one account runs at once (SHELF_TRANSFER_CONCURRENCY_PER_ACCOUNT)")
	fs.IntVar(&c.AdmissionQueue, "admission-queue", envInt(getenv, "SHELF_ADMISSION_QUEUE", DefaultAdmissionQueue), "requests of one account that may wait for a search or transfer slot; more are refused at once (SHELF_ADMISSION_QUEUE)")
	fs.DurationVar(&c.AdmissionWait, "admission-wait", envDuration(getenv, "SHELF_ADMISSION_WAIT", DefaultAdmissionWait), "how long a request waits for a slot before it is refused with 429 or 503 (SHELF_ADMISSION_WAIT)")
	fs.DurationVar(&c.QueryTimeout, "query-timeout", envDuration(getenv, "SHELF_QUERY_TIMEOUT", DefaultQueryTimeout), "longest catalog work of a search or listing; longer ones are stopped and answered 503 (SHELF_QUERY_TIMEOUT)")
	fs.StringVar(&c.LogLevel, "log-level", env("SHELF_LOG_LEVEL", "info"), "debug, info, warn or error (SHELF_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", env("SHELF_LOG_FORMAT", "text"), "text or json (SHELF_LOG_FORMAT)")

	// Settings that may hold a secret (a database URL may carry a
	// password) take their variable's value only after parsing: a flag's
	// default is printed by -h and by every flag error, so a secret there
	// would land on the terminal and in the service's log.
	secretVars := []struct {
		dst *string
		key string
	}{{&c.DatabaseURL, "SHELF_DATABASE_URL"}, {&c.SecretKey, "SHELF_SECRET_KEY"},
		{&c.GoogleClientSecret, "SHELF_GOOGLE_CLIENT_SECRET"}, {&c.SMTPPassword, "SHELF_SMTP_PASSWORD"}}

	c.finish = func() error {
		for _, v := range secretVars {
			if *v.dst == "" {
				*v.dst = getenv(v.key)
			}
		}
		c.LocalRoots = splitRoots(*localRoots)
		switch strings.ToLower(*signup) {
		case "open":
			c.SignupOpen = true
		case "closed":
			c.SignupOpen = false
		default:
			return fmt.Errorf("SHELF_SIGNUP/--signup must be open or closed, not %q", *signup)
		}
		days, err := strconv.ParseFloat(*trialDays, 64)
		if err != nil || days < 0 {
			return fmt.Errorf("SHELF_TRIAL_DAYS/--trial-days must be a number of days, not %q", *trialDays)
		}
		c.TrialLength = time.Duration(days * float64(24*time.Hour))
		if c.TrustedProxies, err = parsePrefixes(*trustedProxies); err != nil {
			return fmt.Errorf("SHELF_TRUSTED_PROXIES/--trusted-proxies: %w", err)
		}
		c.WebhookAllowPrivate, err = strconv.ParseBool(*allowPrivate)
		if err != nil {
			return fmt.Errorf("SHELF_WEBHOOK_ALLOW_PRIVATE must be true or false, not %q", *allowPrivate)
		}
		c.S3AllowDefaultChain, err = strconv.ParseBool(*allowChain)
		if err != nil {
			return fmt.Errorf("SHELF_S3_ALLOW_DEFAULT_CREDENTIALS must be true or false, not %q", *allowChain)
		}
		if c.SchedulerInterval < time.Second || c.LeaseTTL < 3*time.Second || c.SyncWorkers < 1 {
			return fmt.Errorf("SHELF_SCHEDULER_INTERVAL must be at least 1s, SHELF_SYNC_LEASE_TTL at least 3s and SHELF_SYNC_WORKERS at least 1")
		}
		if c.MaxUploadBytes < 1 || c.MinUploadRate < 0 || c.MinUploadRateWindow < time.Second {
			return fmt.Errorf("SHELF_MAX_UPLOAD_BYTES must be a number of bytes of at least 1, SHELF_MIN_UPLOAD_RATE a number of bytes per second (0: off) and SHELF_MIN_UPLOAD_RATE_WINDOW at least 1s")
		}
		if c.QueryConcurrency < 0 || c.QueryConcurrencyPerAccount < 0 || c.TransferConcurrency < 1 || c.TransferConcurrencyPerAccount < 1 || c.AdmissionQueue < 1 {
			return fmt.Errorf("SHELF_QUERY_CONCURRENCY and SHELF_QUERY_CONCURRENCY_PER_ACCOUNT must be numbers, 0 for automatic; SHELF_TRANSFER_CONCURRENCY, SHELF_TRANSFER_CONCURRENCY_PER_ACCOUNT and SHELF_ADMISSION_QUEUE at least 1")
		}
		if c.AdmissionWait <= 0 || c.QueryTimeout < 100*time.Millisecond {
			return fmt.Errorf("SHELF_ADMISSION_WAIT must be a positive duration and SHELF_QUERY_TIMEOUT at least 100ms")
		}
		if c.DatabaseURL == "" {
			c.DatabaseURL = filepath.Join(c.DataDir, "shelf.db")
		}
		if c.PublicURL == "" {
			c.PublicURL = "http://" + c.Listen
		}
		if _, err := url.Parse(c.PublicURL); err != nil {
			return fmt.Errorf("SHELF_PUBLIC_URL/--public-url is not a URL: %w", err)
		}
		c.PublicURL = strings.TrimSuffix(c.PublicURL, "/")
		switch c.LogFormat {
		case "text", "json":
		default:
			return fmt.Errorf("SHELF_LOG_FORMAT/--log-format must be text or json, not %q", c.LogFormat)
		}
		return nil
	}
	return c
}

// Finish validates the parsed values and derives the rest. It must be
// called once, after the flag set was parsed.
func (c *Config) Finish() error { return c.finish() }

// IsPostgres reports whether the catalog is on PostgreSQL.
func (c *Config) IsPostgres() bool {
	return strings.HasPrefix(c.DatabaseURL, "postgres://") || strings.HasPrefix(c.DatabaseURL, "postgresql://")
}

// GoogleOAuthEnabled reports whether the operator configured an OAuth client.
func (c *Config) GoogleOAuthEnabled() bool {
	return c.GoogleClientID != "" && c.GoogleClientSecret != ""
}

func splitRoots(s string) []string {
	var out []string
	for _, r := range strings.Split(s, string(os.PathListSeparator)) {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// envDuration reads a duration variable for a flag default; a malformed
// value is reported by the flag package when the flag is parsed from it.
func envDuration(getenv func(string) string, key string, def time.Duration) time.Duration {
	if v := getenv(key); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
		return -1 // refused by Finish with a message naming the variable
	}
	return def
}

func envInt(getenv func(string) string, key string, def int) int {
	if v := getenv(key); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		return -1
	}
	return def
}

func envInt64(getenv func(string) string, key string, def int64) int64 {
	if v := getenv(key); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return n
		}
		return -1
	}
	return def
}

// parsePrefixes reads comma-separated addresses ("10.0.0.5") and CIDR
// ranges ("10.0.0.0/8").
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR range (10.0.0.5, 10.0.0.0/8)", f)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
