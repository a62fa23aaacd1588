package s3fake_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

// TestIfNoneMatchLikeS3: a write with If-None-Match: * is refused with 412
// PreconditionFailed when the key exists — on PutObject, CopyObject and
// CompleteMultipartUpload alike — and stores when it does not.
func TestIfNoneMatchLikeS3(t *testing.T) {
	t.Parallel()
	srv := s3fake.Start()
	t.Cleanup(srv.Close)
	if err := srv.CreateBucket("b"); err != nil {
		t.Fatal(err)
	}
	c, ctx := client(srv), context.Background()
	star := aws.String("*")
	if err := srv.PutObject("b", "taken", []byte("original")); err != nil {
		t.Fatal(err)
	}
	want412 := func(err error, what string) {
		t.Helper()
		var apiErr smithy.APIError
		var respErr *smithyhttp.ResponseError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "PreconditionFailed" ||
			!errors.As(err, &respErr) || respErr.HTTPStatusCode() != http.StatusPreconditionFailed {
			t.Fatalf("%s: got %v, want 412 PreconditionFailed", what, err)
		}
	}

	_, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("taken"),
		Body: bytes.NewReader([]byte("new")), IfNoneMatch: star})
	want412(err, "PutObject over an object")
	_, err = c.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("b"), Key: aws.String("taken"),
		CopySource: aws.String("b/taken"), IfNoneMatch: star})
	want412(err, "CopyObject over an object")
	up, err := c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("b"), Key: aws.String("taken")})
	if err != nil {
		t.Fatal(err)
	}
	part, err := c.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String("b"), Key: aws.String("taken"), UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part"))})
	if err != nil {
		t.Fatal(err)
	}
	complete := &awss3.CompleteMultipartUploadInput{Bucket: aws.String("b"), Key: aws.String("taken"), UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}},
		IfNoneMatch:     star}
	_, err = c.CompleteMultipartUpload(ctx, complete)
	want412(err, "CompleteMultipartUpload over an object")
	got, err := c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("taken")})
	if err != nil {
		t.Fatal(err)
	}
	var body bytes.Buffer
	_, _ = body.ReadFrom(got.Body)
	got.Body.Close()
	if body.String() != "original" {
		t.Fatalf("refused writes changed the object to %q", body.String())
	}

	// On free keys the same writes store.
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("b"), Key: aws.String("free-put"),
		Body: bytes.NewReader([]byte("new")), IfNoneMatch: star}); err != nil {
		t.Fatalf("conditional PutObject of a free key: %v", err)
	}
	if _, err := c.CopyObject(ctx, &awss3.CopyObjectInput{Bucket: aws.String("b"), Key: aws.String("free-copy"),
		CopySource: aws.String("b/taken"), IfNoneMatch: star}); err != nil {
		t.Fatalf("conditional CopyObject to a free key: %v", err)
	}
	complete.Key = aws.String("free-multipart")
	up, err = c.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String("b"), Key: complete.Key})
	if err != nil {
		t.Fatal(err)
	}
	part, err = c.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String("b"), Key: complete.Key, UploadId: up.UploadId,
		PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("part"))})
	if err != nil {
		t.Fatal(err)
	}
	complete.UploadId = up.UploadId
	complete.MultipartUpload.Parts[0].ETag = part.ETag
	if _, err := c.CompleteMultipartUpload(ctx, complete); err != nil {
		t.Fatalf("conditional CompleteMultipartUpload of a free key: %v", err)
	}
	for _, k := range []string{"free-put", "free-copy", "free-multipart"} {
		if !srv.ObjectExists("b", k) {
			t.Errorf("%s was not stored", k)
		}
	}
}
