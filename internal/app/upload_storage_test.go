package app_test

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/apitest"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// uploadTarget is a kind of storage a library can be connected to, as
// seen from outside Shelf: what it holds, whatever the catalog says.
type uploadTarget struct {
	name string
	// connect connects the account's library to a fresh, empty root and
	// returns a function listing what the storage holds: file paths and,
	// for S3, "multipart upload <key>" for each upload left open.
	connect func(t *testing.T, e *env, c *apitest.Client, accountID int64) (stored func() []string)
}

// uploadTargets are local folders, the S3 fake and, when the full test run
// provides it, versitygw (a real S3 server).
var uploadTargets = []uploadTarget{
	{"local", func(t *testing.T, e *env, c *apitest.Client, accountID int64) func() []string {
		e.connectLocal(c, accountID, "lib")
		root := filepath.Join(e.local, "lib")
		return func() []string {
			var out []string
			_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(root, p)
					out = append(out, filepath.ToSlash(rel))
				}
				return nil
			})
			return out
		}
	}},
	{"s3fake", func(t *testing.T, e *env, c *apitest.Client, accountID int64) func() []string {
		srv := s3fake.Start()
		t.Cleanup(srv.Close)
		bucket := testenv.RandomName("up")
		if err := srv.CreateBucket(bucket); err != nil {
			t.Fatal(err)
		}
		return connectS3(t, e, c, accountID, srv.URL, "k", "s", bucket)
	}},
	{"versitygw", func(t *testing.T, e *env, c *apitest.Client, accountID int64) func() []string {
		real := testenv.RealS3(t)
		bucket := testenv.RandomName("shelf-up-")
		raw := rawS3(real.Endpoint, real.AccessKey, real.SecretKey)
		if _, err := raw.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatalf("creating bucket %s: %v", bucket, err)
		}
		t.Cleanup(func() { emptyBucket(raw, bucket) })
		return connectS3(t, e, c, accountID, real.Endpoint, real.AccessKey, real.SecretKey, bucket)
	}},
}

func rawS3(endpoint, key, secret string) *awss3.Client {
	return awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(endpoint), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, "")})
}

// connectS3 connects the library to bucket under the prefix "lib" and
// returns a listing of the bucket: objects and open multipart uploads.
func connectS3(t *testing.T, e *env, c *apitest.Client, accountID int64, endpoint, key, secret, bucket string) func() []string {
	t.Helper()
	r := c.Must(200, "PUT", "/api/v1/storage", map[string]any{"kind": "s3", "bucket": bucket, "prefix": "lib", "endpoint": endpoint,
		"path_style": true, "access_key_id": key, "secret_access_key": secret})
	e.waitRun(accountID, apitest.Num(r.Obj("sync_run")["id"]))
	raw := rawS3(endpoint, key, secret)
	return func() []string {
		t.Helper()
		ctx := context.Background()
		var out []string
		objs, err := raw.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("listing bucket %s: %v", bucket, err)
		}
		for _, o := range objs.Contents {
			if k := aws.ToString(o.Key); !strings.HasSuffix(k, "/") {
				out = append(out, strings.TrimPrefix(k, "lib/"))
			}
		}
		ups, err := raw.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("listing the multipart uploads of bucket %s: %v", bucket, err)
		}
		for _, u := range ups.Uploads {
			out = append(out, "multipart upload "+aws.ToString(u.Key))
		}
		slices.Sort(out)
		return out
	}
}

// emptyBucket removes a test bucket of the shared S3 server, with its
// objects and open uploads.
func emptyBucket(raw *awss3.Client, bucket string) {
	ctx := context.Background()
	if ups, err := raw.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)}); err == nil {
		for _, u := range ups.Uploads {
			_, _ = raw.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: u.Key, UploadId: u.UploadId})
		}
	}
	if objs, err := raw.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket)}); err == nil {
		for _, o := range objs.Contents {
			_, _ = raw.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		}
	}
	_, _ = raw.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(bucket)})
}
