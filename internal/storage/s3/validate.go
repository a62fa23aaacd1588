package s3

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/storage"
)

// Names of the configuration fields a ValidationError can point at; they
// are the field names of the storage API (SPEC §6).
const (
	FieldBucket          = "bucket"
	FieldPrefix          = "prefix"
	FieldRegion          = "region"
	FieldEndpoint        = "endpoint"
	FieldAccessKeyID     = "access_key_id"
	FieldSecretAccessKey = "secret_access_key"
	FieldCredentials     = "credentials"
	FieldPartSize        = "part_size"
)

// ValidationError says which configuration field is wrong and what to do.
// It unwraps to a classified storage error.
type ValidationError struct {
	Field   string // one of the Field* constants
	Message string // for the person connecting storage
	Err     error
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Message }

// Unwrap exposes the classified cause.
func (e *ValidationError) Unwrap() error { return e.Err }

// probePrefix starts the name of the object Validate writes and deletes.
const probePrefix = ".shelf-write-probe-"

// Validate checks the connection the way connecting storage needs: it
// lists the root, then writes and deletes a small probe object under the
// prefix. It returns nil or a *ValidationError naming the field to fix.
func (c *Conn) Validate(ctx context.Context) error {
	if _, err := c.firstKeys(ctx, c.prefix, 1); err != nil {
		return c.explain(err, "list")
	}
	probe := c.prefix + probePrefix + randomHex(6)
	if err := c.putSmall(ctx, "validate", "", probe, []byte("shelf write probe"), "text/plain", mayReplace); err != nil {
		return c.explain(err, "write")
	}
	err := c.call(ctx, "validate", "", func(ctx context.Context) error {
		_, err := c.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(c.bucket), Key: aws.String(probe)})
		return err
	})
	if err != nil {
		return c.explain(err, "delete")
	}
	return nil
}

// explain turns an error of Validate's step (list, write, delete) into a
// ValidationError that names the field to fix.
func (c *Conn) explain(err error, step string) error {
	where := fmt.Sprintf("bucket %q", c.bucket)
	if c.prefix != "" {
		where = fmt.Sprintf("prefix %q of bucket %q", c.prefix, c.bucket)
	}
	field, msg := "", ""
	switch {
	case isCode(err, "NoSuchBucket"):
		field, msg = FieldBucket, fmt.Sprintf("bucket %q does not exist at this endpoint; check the name (and the endpoint)", c.bucket)
	case isCode(err, "InvalidAccessKeyId", "XAdminUserNotFound"):
		field, msg = FieldAccessKeyID, "the server does not know this access key ID; check it"
	case isCode(err, "SignatureDoesNotMatch"):
		field, msg = FieldSecretAccessKey, "the secret access key does not match the access key ID; check it"
	case isCode(err, "ExpiredToken", "InvalidToken"):
		field, msg = FieldCredentials, "the credentials are expired or invalid; renew them"
	case isCode(err, "AuthorizationHeaderMalformed", "PermanentRedirect", "IllegalLocationConstraintException"):
		field, msg = FieldRegion, "the bucket is in another region; set the bucket's region"
	case isCode(err, "RequestTimeTooSkewed"):
		field, msg = FieldEndpoint, "this server's clock is off by more than 15 minutes; the operator must fix it"
	case errors.Is(err, storage.ErrPermission) || errors.Is(err, storage.ErrAuth):
		field = FieldPrefix
		if c.prefix == "" {
			field = FieldBucket
		}
		switch step {
		case "list":
			msg = fmt.Sprintf("the keys may not list %s; grant s3:ListBucket on it", where)
		case "write":
			msg = fmt.Sprintf("the keys may list but not write %s; grant s3:PutObject on it", where)
		default:
			msg = fmt.Sprintf("the keys may write but not delete in %s; grant s3:DeleteObject on it", where)
		}
	case errors.Is(err, storage.ErrRetryable):
		field, msg = FieldEndpoint, "the S3 endpoint did not answer or kept failing; check the endpoint URL and try again"
	default:
		field, msg = FieldEndpoint, "the server refused the request ("+err.Error()+"); check the endpoint, region and path-style setting"
	}
	return &ValidationError{Field: field, Message: msg, Err: err}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return hex.EncodeToString(b)
}
