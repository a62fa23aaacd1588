// Package s3 is the storage connector for Amazon S3 and S3-compatible
// stores (MinIO, Cloudflare R2, Backblaze B2, Wasabi, versitygw). The
// connected root is a bucket plus an optional key prefix; nothing outside
// the prefix is ever listed, read, written or deleted.
//
// Folders: S3 has none, so a folder is either a folder-marker key ending
// in "/" ("a/b/") or implied by the keys under it ("a/b/c.jpg" implies "a"
// and "a/b"); scans report both kinds, each once, parents first.
//
// Requests run through a storage.Pacer (the SDK's own retries are off):
// 500, 503 SlowDown, timeouts and network errors are retried with
// exponential backoff and jitter.
//
// Server behaviours handled (each has a test):
//   - Listing guards: a page that says truncated without a continuation
//     token, repeats its token, lists a key out of order or outside the
//     prefix, or repeats a common prefix stops the listing with an
//     ErrFatal error, never a silently short one. The parallel scan's
//     delimited top-level listing falls back to the plain listing when a
//     server repeats common prefixes (gofakes3 does).
//   - Folder-marker keys returned as objects in a delimited listing
//     (gofakes3) are listed with their prefix.
//   - Keys are requested URL-encoded and decoded only when the answer
//     says so (AWS honours encoding-type=url; versitygw and gofakes3
//     ignore it).
//   - A key that is also a folder ("a" next to "a/b", as old s3fs wrote
//     folders) is reported once, as the folder.
//   - Multipart ETags differ between CompleteMultipartUpload and LIST on
//     some servers (gofakes3); Put returns the listing's values.
//   - File-system backed stores (versitygw posix) cannot hold a file and a
//     folder of one name (409 ObjectParentIsFile: ErrExists), refuse to
//     copy folder markers (markers are re-created on move), and answer an
//     unknown access key with 404 XAdminUserNotFound (ErrAuth).
//   - Deleting or moving away a folder's last key writes a marker so the
//     folder stays, as it does on a disk or on Drive.
package s3

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Config says which bucket and prefix to connect and how.
type Config struct {
	// Bucket is the bucket name (required).
	Bucket string
	// Prefix is the key prefix that is the root ("photos/2024"); "" is the
	// whole bucket. Leading and trailing slashes are ignored.
	Prefix string
	// Region is the bucket's region (default "us-east-1"; S3-compatible
	// stores usually accept any).
	Region string
	// Endpoint is the base URL of an S3-compatible store
	// ("https://s3.example.com"); "" means AWS.
	Endpoint string
	// PathStyle addresses buckets as endpoint/bucket instead of
	// bucket.endpoint (MinIO, versitygw and most self-hosted stores).
	PathStyle bool
	// AccessKeyID and SecretAccessKey are static credentials.
	AccessKeyID     string
	SecretAccessKey string
	// UseDefaultChain takes credentials from the AWS default chain
	// (environment, shared files, instance role) instead of static keys.
	// Only the operator may allow this.
	UseDefaultChain bool
	// ParallelPrefixes > 1 lists that many top-level prefixes at once
	// (faster on real S3, where each LIST call takes tens of
	// milliseconds). Scan then reports prefixes in any order (parents
	// still before children); ScanSorted stays sorted. 0 or 1 lists
	// sequentially.
	ParallelPrefixes int
	// PartSize is the size of multipart upload parts and the threshold
	// above which Put uses multipart (default 16 MiB, minimum 5 MiB as S3
	// requires). Each upload holds one part in memory.
	PartSize int64
	// UploadConcurrency is how many parts of one multipart upload are
	// sent at once (default 4); an upload holds that many parts (plus one)
	// in memory.
	UploadConcurrency int
	// Uploads records multipart uploads while they run, so that those of
	// a process that died can be aborted (optional).
	Uploads UploadTracker
	// HTTPClient is the HTTP client for all requests (default: the SDK's).
	HTTPClient *http.Client
	// SDKListDecoder decodes listings with the SDK's own XML decoder
	// instead of the built-in fast one (bench/listing compares the two).
	SDKListDecoder bool
	// Pacer tunes retries (zero value: storage.NewPacer's defaults).
	Pacer storage.PacerConfig
}

// DefaultPartSize is the multipart part size when Config.PartSize is 0.
// Each upload holds up to UploadConcurrency+1 parts in memory.
const DefaultPartSize = 16 << 20

// MinPartSize is the smallest part S3 accepts (except for the last part).
const MinPartSize = 5 << 20

// pageSize is the number of keys per ListObjectsV2 page (S3's maximum).
const pageSize = 1000

// Conn is a connector confined to one bucket and prefix. It is safe for
// concurrent use.
type Conn struct {
	client   *awss3.Client
	bucket   string
	prefix   string // "" or ends with "/"
	parallel int
	partSize int64
	// uploadConcurrency bounds the parts of one upload in flight.
	uploadConcurrency int
	// copyPartSize overrides the 5 GiB CopyObject limit (tests only).
	copyPartSize int64
	// listOptions are per-call options of ListObjectsV2.
	listOptions []func(*awss3.Options)
	// slowListWarning logs once that the fast list decoder is off.
	slowListWarning sync.Once
	pacer           *storage.Pacer
	logger          *slog.Logger
	// uploads records multipart uploads, renewed every renewEvery.
	uploads    UploadTracker
	renewEvery time.Duration
}

// Compile-time checks of the capabilities Conn offers.
var (
	_ storage.Connector     = (*Conn)(nil)
	_ storage.SortedScanner = (*Conn)(nil)
)

// New returns a connector for cfg. It does not contact the server; call
// Validate to check the configuration against it.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Conn, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := checkConfig(cfg); err != nil {
		return nil, err
	}
	region := cfg.Region
	if region == "" {
		region = "us-east-1"
	}
	opts := awss3.Options{
		Region:                     region,
		UsePathStyle:               cfg.PathStyle,
		Retryer:                    aws.NopRetryer{}, // the pacer retries
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if cfg.UseDefaultChain {
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
		if err != nil {
			return nil, &ValidationError{Field: FieldCredentials,
				Message: "the default AWS credential chain could not be loaded; set static keys instead",
				Err:     storage.Classify(storage.ErrAuth, "connect", "", err)}
		}
		opts.Credentials = awsCfg.Credentials
	} else {
		opts.Credentials = credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")
	}
	if cfg.Endpoint != "" {
		opts.BaseEndpoint = aws.String(strings.TrimRight(cfg.Endpoint, "/"))
	}
	if cfg.HTTPClient != nil {
		opts.HTTPClient = cfg.HTTPClient
	}
	partSize := cfg.PartSize
	if partSize == 0 {
		partSize = DefaultPartSize
	}
	pc := cfg.Pacer
	if pc.Logger == nil {
		pc.Logger = logger
	}
	listOptions := []func(*awss3.Options){withFastListDecoder}
	if cfg.SDKListDecoder {
		listOptions = nil
	}
	return &Conn{
		client:            awss3.New(opts),
		bucket:            cfg.Bucket,
		prefix:            normalizePrefix(cfg.Prefix),
		parallel:          max(cfg.ParallelPrefixes, 1),
		partSize:          partSize,
		uploadConcurrency: cmp.Or(max(cfg.UploadConcurrency, 0), 4),
		listOptions:       listOptions,
		pacer:             storage.NewPacer(pc),
		logger:            logger,
		uploads:           cfg.Uploads,
		renewEvery:        defaultRenewEvery,
	}, nil
}

// checkConfig refuses configurations that cannot work, naming the field.
func checkConfig(cfg Config) error {
	invalid := func(field, msg string) error {
		return &ValidationError{Field: field, Message: msg,
			Err: storage.Classify(storage.ErrFatal, "connect", "", errors.New(msg))}
	}
	switch {
	case cfg.Bucket == "":
		return invalid(FieldBucket, "the bucket name is required")
	case strings.ContainsAny(cfg.Bucket, "/ \\") || len(cfg.Bucket) > 255:
		return invalid(FieldBucket, fmt.Sprintf("%q is not a bucket name; give only the name, without slashes or the endpoint", cfg.Bucket))
	case !cfg.UseDefaultChain && cfg.AccessKeyID == "":
		return invalid(FieldAccessKeyID, "the access key ID is required")
	case !cfg.UseDefaultChain && cfg.SecretAccessKey == "":
		return invalid(FieldSecretAccessKey, "the secret access key is required")
	case cfg.PartSize != 0 && cfg.PartSize < MinPartSize:
		return invalid(FieldPartSize, fmt.Sprintf("the part size must be at least %d bytes (S3's minimum)", MinPartSize))
	}
	if p := strings.Trim(cfg.Prefix, "/"); p != "" {
		if _, err := storage.CleanPath(p, false); err != nil {
			return &ValidationError{Field: FieldPrefix,
				Message: "the prefix must be a plain folder path such as photos/2024 (no '..', empty or control-character parts)",
				Err:     err}
		}
	}
	if cfg.Endpoint != "" && !strings.HasPrefix(cfg.Endpoint, "http://") && !strings.HasPrefix(cfg.Endpoint, "https://") {
		return invalid(FieldEndpoint, "the endpoint must be a URL starting with https:// (or http:// for a local test server)")
	}
	return nil
}

func normalizePrefix(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return p + "/"
}

// Kind reports storage.KindS3.
func (c *Conn) Kind() storage.Kind { return storage.KindS3 }

// Bucket returns the connected bucket's name.
func (c *Conn) Bucket() string { return c.bucket }

// Prefix returns the connected key prefix ("" or ending in "/").
func (c *Conn) Prefix() string { return c.prefix }

// keyOf maps a clean root-relative path to its object key.
func (c *Conn) keyOf(p string) string { return c.prefix + p }

// pathOf maps an object key under the prefix to a clean root-relative path
// and reports whether the key is a folder marker. ok is false for keys
// that no path can name (empty, ".", ".." or control-character parts,
// "//"), and for the root's own marker.
func (c *Conn) pathOf(key string) (p string, isDir, ok bool) {
	rel, found := strings.CutPrefix(key, c.prefix)
	if !found || rel == "" {
		return "", false, false
	}
	isDir = strings.HasSuffix(rel, "/")
	rel = strings.TrimSuffix(rel, "/")
	clean, err := storage.CleanPath(rel, false)
	if err != nil || clean != rel {
		return "", false, false
	}
	return clean, isDir, true
}

// call runs one request through the pacer, classifying its error.
func (c *Conn) call(ctx context.Context, op, p string, fn func(ctx context.Context) error) error {
	return c.pacer.Call(ctx, op, func(ctx context.Context) error {
		return c.classify(op, p, fn(ctx))
	})
}
