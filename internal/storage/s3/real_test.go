package s3_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// realConn returns a connector on a fresh bucket of the real S3 server.
func realConn(t *testing.T, mod func(*s3.Config)) (*s3.Conn, rawBucket) {
	t.Helper()
	real := testenv.RealS3(t)
	bucket := testenv.RandomName("shelf-s3-")
	raw := newRawBucket(real.Endpoint, real.AccessKey, real.SecretKey, bucket)
	raw.createBucket(t)
	t.Cleanup(func() { raw.deleteBucket(t) })
	cfg := s3.Config{Bucket: bucket, Endpoint: real.Endpoint, PathStyle: true,
		AccessKeyID: real.AccessKey, SecretAccessKey: real.SecretKey, Pacer: fastPacer}
	if mod != nil {
		mod(&cfg)
	}
	c, err := s3.New(context.Background(), cfg, testLogger())
	if err != nil {
		t.Fatal(err)
	}
	return c, raw
}

func TestRealMultipartUploadAndCopy(t *testing.T) {
	t.Parallel()
	c, _ := realConn(t, func(cfg *s3.Config) { cfg.Prefix = "mp"; cfg.PartSize = s3.MinPartSize })
	ctx := context.Background()
	body := make([]byte, 11<<20+5) // 3 parts
	if _, err := rand.Read(body); err != nil {
		t.Fatal(err)
	}
	e, err := c.Put(ctx, "big.bin", struct{ io.Reader }{bytes.NewReader(body)}, int64(len(body)), "")
	if err != nil {
		t.Fatalf("multipart Put on the real server: %v", err)
	}
	var scanned storage.Entry
	if err := c.Scan(ctx, func(se storage.Entry) error { scanned = se; return nil }); err != nil {
		t.Fatal(err)
	}
	if scanned.ETag != e.ETag || scanned.Size != int64(len(body)) || !strings.HasSuffix(e.ETag, "-3") {
		t.Fatalf("Put returned ETag %q, Scan %q size %d; want the same multipart ETag ending in -3", e.ETag, scanned.ETag, scanned.Size)
	}
	// Move above the (lowered) single-copy limit uses UploadPartCopy.
	s3.SetCopyPartSizeForTest(c, s3.MinPartSize)
	if _, err := c.Move(ctx, "big.bin", "moved/big.bin"); err != nil {
		t.Fatalf("Move by multipart copy: %v", err)
	}
	rc, err := c.Open(ctx, "moved/big.bin")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(rc)
	rc.Close()
	if !bytes.Equal(got, body) {
		t.Fatalf("moved object has %d bytes that differ from the %d written", len(got), len(body))
	}
	_, err = c.Stat(ctx, "big.bin")
	if !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("source after Move: %v, want ErrNotFound", err)
	}
}

func TestRealCredentialErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name  string
		mod   func(*s3.Config)
		class error
		field string
	}{
		{"wrong secret", func(c *s3.Config) { c.SecretAccessKey = "not-the-secret" }, storage.ErrAuth, s3.FieldSecretAccessKey},
		{"unknown key", func(c *s3.Config) { c.AccessKeyID = "NOSUCHKEY" }, storage.ErrAuth, s3.FieldAccessKeyID},
		{"missing bucket", func(c *s3.Config) { c.Bucket = "shelf-no-such-bucket" }, storage.ErrFatal, s3.FieldBucket},
	}
	for _, tc := range cases {
		c, _ := realConn(t, tc.mod)
		_, err := c.Stat(ctx, "x")
		if !errors.Is(err, tc.class) {
			t.Errorf("%s: Stat = %v, want %v", tc.name, err, tc.class)
		}
		var ve *s3.ValidationError
		if err := c.Validate(ctx); !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("%s: Validate = %v, want a ValidationError on %q", tc.name, err, tc.field)
		}
	}
	good, _ := realConn(t, func(cfg *s3.Config) { cfg.Prefix = "some/prefix" })
	if err := good.Validate(ctx); err != nil {
		t.Fatalf("Validate of a good configuration: %v", err)
	}
}
