package s3fake_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

func client(srv *s3fake.Server) *awss3.Client {
	return awss3.New(awss3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		Retryer:     aws.NopRetryer{},
	})
}

// listAll pages through a listing with small pages and returns every key
// and common prefix in the order the server sent them.
func listAll(t *testing.T, c *awss3.Client, bucket, prefix, delim string, pageSize int32) (keys, prefixes []string) {
	t.Helper()
	in := &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix), MaxKeys: aws.Int32(pageSize)}
	if delim != "" {
		in.Delimiter = aws.String(delim)
	}
	for {
		out, err := c.ListObjectsV2(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, aws.ToString(o.Key))
		}
		for _, p := range out.CommonPrefixes {
			prefixes = append(prefixes, aws.ToString(p.Prefix))
		}
		if !aws.ToBool(out.IsTruncated) {
			return keys, prefixes
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

func TestIndexedListingBehavesLikeS3(t *testing.T) {
	t.Parallel()
	srv := s3fake.Start()
	t.Cleanup(srv.Close)
	if err := srv.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	seed := []string{"a/", "a/1", "a/2", "a/3", "a!", "b", "c/x/1", "c/x/2", "d", "e/"}
	for _, k := range seed {
		if err := srv.PutObject("b", k, []byte(k)); err != nil {
			t.Fatal(err)
		}
	}
	c := client(srv)
	keys, _ := listAll(t, c, "b", "", "", 2)
	want := slices.Clone(seed)
	slices.Sort(want)
	if !slices.Equal(keys, want) {
		t.Fatalf("flat listing in pages of 2 = %q, want %q", keys, want)
	}
	// Delimited, pages of 1: each common prefix once, markers rolled in.
	keys, prefixes := listAll(t, c, "b", "", "/", 1)
	if !slices.Equal(keys, []string{"a!", "b", "d"}) || !slices.Equal(prefixes, []string{"a/", "c/", "e/"}) {
		t.Fatalf("delimited listing = keys %q prefixes %q", keys, prefixes)
	}
	keys, prefixes = listAll(t, c, "b", "c/", "/", 1)
	if len(keys) != 0 || !slices.Equal(prefixes, []string{"c/x/"}) {
		t.Fatalf("delimited listing under c/ = keys %q prefixes %q", keys, prefixes)
	}
	// Deletes (single and multi) and copies keep the index in step.
	ctx := context.Background()
	if _, err := c.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("b"), Key: aws.String("d")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("b"), Key: aws.String("z"), CopySource: aws.String("b/b")}); err != nil {
		t.Fatal(err)
	}
	keys, _ = listAll(t, c, "b", "", "/", 1000)
	if !slices.Equal(keys, []string{"a!", "b", "z"}) {
		t.Fatalf("after delete and copy: %q", keys)
	}
}

func TestRawGofakes3ListingRepeatsPrefixes(t *testing.T) {
	t.Parallel()
	srv := s3fake.Start(s3fake.WithGofakes3Listing())
	t.Cleanup(srv.Close)
	if err := srv.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a/1", "a/2", "a/3", "b"} {
		if err := srv.PutObject("b", k, nil); err != nil {
			t.Fatal(err)
		}
	}
	_, prefixes := listAll(t, client(srv), "b", "", "/", 1)
	if len(prefixes) < 2 {
		t.Fatalf("gofakes3's own listing no longer repeats common prefixes (%q); update the package doc", prefixes)
	}
}

func TestFaultsAndCounts(t *testing.T) {
	t.Parallel()
	srv := s3fake.Start()
	t.Cleanup(srv.Close)
	if err := srv.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	c := client(srv)
	ctx := context.Background()
	srv.FailNext(s3fake.OpList, 2, s3fake.FaultSlowDown)
	for i, want := range []string{"SlowDown", "SlowDown", ""} {
		_, err := c.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("b")})
		var apiErr smithy.APIError
		got := ""
		if errors.As(err, &apiErr) {
			got = apiErr.ErrorCode()
		}
		if got != want {
			t.Fatalf("LIST %d: error code %q (%v), want %q", i, got, err, want)
		}
	}
	srv.FailNext(s3fake.OpAny, 1, s3fake.FaultInvalidKey)
	_, err := c.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String("b"), Key: aws.String("x")})
	if err == nil {
		t.Fatal("HEAD with an injected 403 succeeded")
	}
	if srv.Calls(s3fake.OpList) != 3 || srv.Calls(s3fake.OpHead) != 1 || srv.Calls(s3fake.OpAny) != 4 {
		t.Fatalf("counts list=%d head=%d any=%d, want 3, 1, 4", srv.Calls(s3fake.OpList), srv.Calls(s3fake.OpHead), srv.Calls(s3fake.OpAny))
	}
	srv.FailRate(s3fake.OpPut, 1, s3fake.Fault500)
	for i := range 3 {
		if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String(fmt.Sprint(i))}); err == nil {
			t.Fatal("PUT with a failure rate of 1 succeeded")
		}
	}
	srv.ClearFaults()
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("ok")}); err != nil {
		t.Fatalf("PUT after ClearFaults: %v", err)
	}
}

func TestListingEncodingAndStartAfter(t *testing.T) {
	t.Parallel()
	srv := s3fake.Start()
	t.Cleanup(srv.Close)
	if err := srv.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"a b+c", "d/1", "d/2", "e"} {
		if err := srv.PutObject("b", k, nil); err != nil {
			t.Fatal(err)
		}
	}
	c := client(srv)
	out, err := c.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: aws.String("b"), EncodingType: "url"})
	if err != nil {
		t.Fatal(err)
	}
	if out.EncodingType != "url" || aws.ToString(out.Contents[0].Key) != "a+b%2Bc" {
		t.Fatalf("encoding-type=url answered %q with key %q, want url and a+b%%2Bc", out.EncodingType, aws.ToString(out.Contents[0].Key))
	}
	// start-after a common prefix still lists the prefix's later keys.
	out, err = c.ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: aws.String("b"), StartAfter: aws.String("d/1")})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	if !slices.Equal(keys, []string{"d/2", "e"}) {
		t.Fatalf("start-after d/1 listed %q", keys)
	}
}

// listUploads returns the key and upload ID of every multipart upload in
// progress under prefix.
func listUploads(t *testing.T, c *awss3.Client, bucket, prefix string) []string {
	t.Helper()
	out, err := c.ListMultipartUploads(context.Background(), &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatalf("ListMultipartUploads: %v", err)
	}
	var got []string
	for _, u := range out.Uploads {
		if u.Initiated == nil || u.Initiated.IsZero() {
			t.Errorf("upload %s lists no initiation time", aws.ToString(u.Key))
		}
		got = append(got, aws.ToString(u.Key)+" "+aws.ToString(u.UploadId))
	}
	return got
}

// TestMultipartUploadsAreListedAndAbortedLikeS3 checks what a cleanup of
// abandoned uploads relies on: a bucket without uploads lists none (not
// an error), uploads in progress are listed by prefix with their start
// time, an aborted one is gone, and aborting an unknown one is 404
// NoSuchUpload.
func TestMultipartUploadsAreListedAndAbortedLikeS3(t *testing.T) {
	t.Parallel()
	srv := s3fake.Start()
	t.Cleanup(srv.Close)
	if err := srv.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	c := client(srv)
	ctx := context.Background()
	if got := listUploads(t, c, "b", ""); len(got) != 0 {
		t.Fatalf("a fresh bucket lists uploads %q", got)
	}
	var ids []string
	for _, key := range []string{"in/one.bin", "in/two.bin", "out/three.bin"} {
		out, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("b"), Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, aws.ToString(out.UploadId))
	}
	if got := listUploads(t, c, "b", "in/"); !slices.Equal(got, []string{"in/one.bin " + ids[0], "in/two.bin " + ids[1]}) {
		t.Fatalf("uploads under in/ = %q", got)
	}
	if _, err := c.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String("b"), Key: aws.String("in/one.bin"), UploadId: aws.String(ids[0])}); err != nil {
		t.Fatalf("AbortMultipartUpload: %v", err)
	}
	if got := listUploads(t, c, "b", ""); !slices.Equal(got, []string{"in/two.bin " + ids[1], "out/three.bin " + ids[2]}) {
		t.Fatalf("uploads after an abort = %q", got)
	}
	_, err := c.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String("b"), Key: aws.String("in/one.bin"), UploadId: aws.String(ids[0])})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "NoSuchUpload" {
		t.Fatalf("aborting an aborted upload: %v, want NoSuchUpload", err)
	}
	if srv.Calls(s3fake.OpListMultipart) != 3 || srv.Calls(s3fake.OpAbortMultipart) != 2 {
		t.Fatalf("counts list-uploads=%d abort=%d, want 3 and 2", srv.Calls(s3fake.OpListMultipart), srv.Calls(s3fake.OpAbortMultipart))
	}
}
