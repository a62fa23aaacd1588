package s3_test

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"

	"github.com/shelf-dam/shelf/internal/storage"
	"github.com/shelf-dam/shelf/internal/storage/s3"
	"github.com/shelf-dam/shelf/internal/storage/s3/s3fake"
)

func TestValidate(t *testing.T) {
	t.Parallel()
	env := newFakeEnv(t)
	ctx := context.Background()

	ok := env.conn(t, func(cfg *s3.Config) { cfg.Prefix = "photos" })
	if err := ok.Validate(ctx); err != nil {
		t.Fatalf("Validate of a good configuration: %v", err)
	}
	if got, _ := collect(t, ok.Scan); len(got) != 0 {
		t.Fatalf("Validate left %q behind", got)
	}
	if env.srv.Calls(s3fake.OpPut) != 1 || env.srv.Calls(s3fake.OpDelete) != 1 {
		t.Fatalf("Validate made put=%d delete=%d calls, want a write probe and its delete",
			env.srv.Calls(s3fake.OpPut), env.srv.Calls(s3fake.OpDelete))
	}

	// A closed port: nothing answers.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadEndpoint := "http://" + l.Addr().String()
	l.Close()

	cases := []struct {
		name  string
		mod   func(*s3.Config)
		op    s3fake.Op
		fault s3fake.Fault
		field string
		says  string
	}{
		{"missing bucket", func(c *s3.Config) { c.Bucket = "no-such-bucket" }, "", 0, s3.FieldBucket, "does not exist"},
		{"unknown key", nil, s3fake.OpList, s3fake.FaultInvalidKey, s3.FieldAccessKeyID, "access key ID"},
		{"wrong secret", nil, s3fake.OpList, s3fake.FaultSignature, s3.FieldSecretAccessKey, "secret access key"},
		{"no list permission on prefix", func(c *s3.Config) { c.Prefix = "p" }, s3fake.OpList, s3fake.FaultAccessDenied, s3.FieldPrefix, "may not list"},
		{"no write permission", func(c *s3.Config) { c.Prefix = "p" }, s3fake.OpPut, s3fake.FaultAccessDenied, s3.FieldPrefix, "not write"},
		{"no delete permission", nil, s3fake.OpDelete, s3fake.FaultAccessDenied, s3.FieldBucket, "not delete"},
		{"unreachable endpoint", func(c *s3.Config) { c.Endpoint = deadEndpoint }, "", 0, s3.FieldEndpoint, "did not answer"},
	}
	for _, tc := range cases {
		c := env.conn(t, tc.mod)
		if tc.fault != 0 {
			env.srv.FailNext(tc.op, 1, tc.fault)
		}
		err := c.Validate(ctx)
		var ve *s3.ValidationError
		if !errors.As(err, &ve) {
			t.Errorf("%s: Validate = %v, want a *ValidationError", tc.name, err)
			continue
		}
		if ve.Field != tc.field || !strings.Contains(ve.Message, tc.says) {
			t.Errorf("%s: field %q message %q; want field %q and a message saying %q", tc.name, ve.Field, ve.Message, tc.field, tc.says)
		}
		var ce *storage.ClassError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %v does not unwrap to a classified storage error", tc.name, err)
		}
		env.srv.ClearFaults()
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	base := s3.Config{Bucket: "b", AccessKeyID: "k", SecretAccessKey: "s"}
	cases := []struct {
		mod   func(*s3.Config)
		field string
	}{
		{func(c *s3.Config) { c.Bucket = "" }, s3.FieldBucket},
		{func(c *s3.Config) { c.Bucket = "s3://b/x" }, s3.FieldBucket},
		{func(c *s3.Config) { c.AccessKeyID = "" }, s3.FieldAccessKeyID},
		{func(c *s3.Config) { c.SecretAccessKey = "" }, s3.FieldSecretAccessKey},
		{func(c *s3.Config) { c.Prefix = "a/../b" }, s3.FieldPrefix},
		{func(c *s3.Config) { c.Prefix = "a\x00" }, s3.FieldPrefix},
		{func(c *s3.Config) { c.Endpoint = "minio.local:9000" }, s3.FieldEndpoint},
		{func(c *s3.Config) { c.PartSize = 1 << 20 }, s3.FieldPartSize},
	}
	for _, tc := range cases {
		cfg := base
		tc.mod(&cfg)
		_, err := s3.New(context.Background(), cfg, nil)
		var ve *s3.ValidationError
		if !errors.As(err, &ve) || ve.Field != tc.field {
			t.Errorf("New(%+v) = %v, want a ValidationError on %q", cfg, err, tc.field)
		}
	}
	cfg := base
	cfg.Prefix = "/photos/2024/"
	c, err := s3.New(context.Background(), cfg, nil)
	if err != nil || c.Prefix() != "photos/2024/" {
		t.Fatalf("prefix normalised to %q (%v), want photos/2024/", c.Prefix(), err)
	}
}
