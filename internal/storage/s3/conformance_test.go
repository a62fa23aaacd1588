package s3_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
	"github.com/shelf-dam/shelf/internal/storage/storagetest"
	"github.com/shelf-dam/shelf/internal/testenv"
)

// rawBucket reads and writes keys directly with the SDK, outside the
// connector, for seeding siblings and checking they survive.
type rawBucket struct {
	client *awss3.Client
	bucket string
}

func newRawBucket(endpoint, access, secret, bucket string) rawBucket {
	c := awss3.New(awss3.Options{
		Region:                     "us-east-1",
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(access, secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	return rawBucket{client: c, bucket: bucket}
}

func (b rawBucket) createBucket(t *testing.T) {
	t.Helper()
	if _, err := b.client.CreateBucket(context.Background(), &awss3.CreateBucketInput{Bucket: aws.String(b.bucket)}); err != nil {
		t.Fatalf("creating bucket %s: %v", b.bucket, err)
	}
}

// deleteBucket empties and removes the bucket.
func (b rawBucket) deleteBucket(t *testing.T) {
	ctx := context.Background()
	p := awss3.NewListObjectsV2Paginator(b.client, &awss3.ListObjectsV2Input{Bucket: aws.String(b.bucket)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Logf("cleaning bucket %s: %v", b.bucket, err)
			return
		}
		for _, o := range page.Contents {
			_, _ = b.client.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(b.bucket), Key: o.Key})
		}
	}
	if _, err := b.client.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String(b.bucket)}); err != nil {
		t.Logf("deleting bucket %s: %v", b.bucket, err)
	}
}

func (b rawBucket) put(t *testing.T, key string, content []byte) {
	t.Helper()
	_, err := b.client.PutObject(context.Background(), &awss3.PutObjectInput{
		Bucket: aws.String(b.bucket), Key: aws.String(key), Body: bytes.NewReader(content)})
	if err != nil {
		t.Fatalf("raw put %s: %v", key, err)
	}
}

func (b rawBucket) get(t *testing.T, key string) ([]byte, bool) {
	out, err := b.client.GetObject(context.Background(), &awss3.GetObjectInput{Bucket: aws.String(b.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, false
	}
	defer out.Body.Close()
	body, err := io.ReadAll(out.Body)
	return body, err == nil
}

// siblingKeys is storage outside a connector's prefix "root/": the
// names map to keys that share the prefix's leading characters or sit
// next to it.
type siblingKeys struct {
	raw rawBucket
	// fileSystem marks stores backed by a file system (versitygw posix),
	// which cannot hold a key "root" next to keys "root/...".
	fileSystem bool
}

func (s siblingKeys) Names() []string {
	names := []string{"secret.txt", "rootx/secret.txt", "root-sibling/inside.txt", "roo/t.txt", "root.txt"}
	if !s.fileSystem {
		names = append(names, "root")
	}
	return names
}
func (s siblingKeys) Put(t *testing.T, name string, content []byte) { s.raw.put(t, name, content) }
func (s siblingKeys) Get(t *testing.T, name string) ([]byte, bool)  { return s.raw.get(t, name) }

func TestConformanceOnFake(t *testing.T) {
	indexed := s3fake.Start()
	t.Cleanup(indexed.Close)
	raw := s3fake.Start(s3fake.WithGofakes3Listing())
	t.Cleanup(raw.Close)
	for _, run := range []struct {
		name     string
		srv      *s3fake.Server
		parallel int
	}{
		{"Sequential", indexed, 0},
		{"ParallelPrefixes", indexed, 4},
		{"Gofakes3Listing/Sequential", raw, 0},
		{"Gofakes3Listing/ParallelPrefixes", raw, 4},
	} {
		srv, parallel := run.srv, run.parallel
		t.Run(run.name, func(t *testing.T) {
			storagetest.Run(t, storagetest.Config{New: func(t *testing.T) storagetest.Fixture {
				bucket := testenv.RandomName("conf")
				if err := srv.CreateBucket(bucket); err != nil {
					t.Fatal(err)
				}
				c, err := s3.New(context.Background(), s3.Config{
					Bucket: bucket, Prefix: "root", Endpoint: srv.URL, PathStyle: true,
					AccessKeyID: "fake", SecretAccessKey: "fake", ParallelPrefixes: parallel,
					PartSize: s3.MinPartSize,
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return storagetest.Fixture{Conn: c, Outside: siblingKeys{raw: newRawBucket(srv.URL, "fake", "fake", bucket)}}
			}})
		})
	}
}

func TestConformanceOnVersitygw(t *testing.T) {
	real := testenv.RealS3(t)
	for _, parallel := range []int{0, 4} {
		t.Run(map[int]string{0: "Sequential", 4: "ParallelPrefixes"}[parallel], func(t *testing.T) {
			storagetest.Run(t, storagetest.Config{New: func(t *testing.T) storagetest.Fixture {
				bucket := testenv.RandomName("shelf-conf-")
				raw := newRawBucket(real.Endpoint, real.AccessKey, real.SecretKey, bucket)
				raw.createBucket(t)
				t.Cleanup(func() { raw.deleteBucket(t) })
				c, err := s3.New(context.Background(), s3.Config{
					Bucket: bucket, Prefix: "root", Endpoint: real.Endpoint, PathStyle: true,
					AccessKeyID: real.AccessKey, SecretAccessKey: real.SecretKey, ParallelPrefixes: parallel,
					PartSize: s3.MinPartSize,
				}, nil)
				if err != nil {
					t.Fatal(err)
				}
				return storagetest.Fixture{Conn: c, Outside: siblingKeys{raw: raw, fileSystem: true}}
			},
				// versitygw v1.8.0 ignores If-None-Match on CopyObject.
				MoveChecksFirst: true,
			})
		})
	}
}
