package s3event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// awsBody is a direct S3 event body with one record, the way AWS writes it.
func awsBody(eventName, key string) []byte {
	return fmt.Appendf(nil, `{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","eventName":%q,`+
		`"s3":{"configurationId":"shelf","bucket":{"name":"media"},"object":{"key":%q,"size":7,"eTag":"abc","sequencer":"0A1"}}}]}`,
		eventName, key)
}

func TestParseDirectBodies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body []byte
		want Message
	}{
		{
			name: "aws put, key with '+' for space and UTF-8 escapes",
			body: readTestdata(t, "aws-put.json"),
			want: Message{Kind: KindRecords, Records: []Record{{
				Created: true, Event: "ObjectCreated:Put", Bucket: "amzn-s3-demo-bucket",
				Key: "photos/red flower ü🎉.jpg", Size: 1024, ETag: "d41d8cd98f00b204e9800998ecf8427e",
				Sequencer: "0055AED6DCD90281E5",
			}}},
		},
		{
			name: "aws test event",
			body: readTestdata(t, "aws-test-event.json"),
			want: Message{Kind: KindRecords, Test: true},
		},
		{
			name: "minio put, EventName and Key at the top, key query-escaped",
			body: readTestdata(t, "minio-put.json"),
			want: Message{Kind: KindRecords, Records: []Record{{
				Created: true, Event: "ObjectCreated:Put", Bucket: "photos",
				Key: "summer 2024/a+b 100%.jpg", Size: 1234, ETag: "9e107d9d372bb6826bd81d3542a419d6",
				Sequencer: "17F03ACD72204E9D",
			}}},
		},
		{
			name: "versitygw put, raw key kept as is, quoted etag",
			body: readTestdata(t, "versitygw-put.json"),
			want: Message{Kind: KindRecords, Records: []Record{{
				Created: true, Event: "ObjectCreated:Put", Bucket: "photos",
				Key: "summer 2024/a+b 100%.jpg", Size: 1234, ETag: "9e107d9d372bb6826bd81d3542a419d6",
				Sequencer: "1",
			}}},
		},
		{
			name: "versitygw DeleteObjects, null etag, unicode and emoji key",
			body: readTestdata(t, "versitygw-delete-objects.json"),
			want: Message{Kind: KindRecords, Records: []Record{{
				Removed: true, Event: "ObjectRemoved:DeleteObjects", Bucket: "photos",
				Key: "old/ünïcode 🎉.txt", Sequencer: "2",
			}}},
		},
		{
			name: "versitygw startup test event",
			body: readTestdata(t, "versitygw-test-event.json"),
			want: Message{Kind: KindRecords, Test: true},
		},
		{
			name: "no records",
			body: []byte(`{"Records":[]}`),
			want: Message{Kind: KindRecords},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := NewVerifier(nil).Parse(context.Background(), http.Header{}, tt.body)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseDecodesKeys(t *testing.T) {
	t.Parallel()
	tests := []struct{ sent, want string }{
		{"red+flower.jpg", "red flower.jpg"},
		{"a%2Bb.txt", "a+b.txt"},
		{"a%2Bb+c.txt", "a+b c.txt"},
		{"caf%C3%A9/men%C3%BC.pdf", "café/menü.pdf"},
		{"%E5%86%99%E7%9C%9F/%F0%9F%8E%89party.png", "写真/🎉party.png"},
		{"100%25+done", "100% done"},
		{"dir/", "dir/"},
	}
	for _, tt := range tests {
		t.Run(tt.sent, func(t *testing.T) {
			t.Parallel()
			m, err := NewVerifier(nil).Parse(context.Background(), nil, awsBody("ObjectCreated:Put", tt.sent))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if len(m.Records) != 1 || m.Records[0].Key != tt.want {
				t.Errorf("records %+v, want key %q", m.Records, tt.want)
			}
		})
	}
}

func TestParseEventNames(t *testing.T) {
	t.Parallel()
	const (
		created = "created"
		removed = "removed"
		skipped = "skipped"
	)
	tests := []struct{ name, want string }{
		{"ObjectCreated:Put", created},
		{"s3:ObjectCreated:Put", created},
		{"ObjectCreated:Post", created},
		{"ObjectCreated:Copy", created},
		{"s3:ObjectCreated:CompleteMultipartUpload", created},
		{"ObjectRemoved:Delete", removed},
		{"ObjectRemoved:DeleteMarkerCreated", removed},
		{"s3:ObjectRemoved:DeleteObjects", removed},
		{"s3:ObjectRemoved:DeleteAllVersions", removed},
		{"s3:ObjectRemoved:NoOP", removed},
		{"LifecycleExpiration:Delete", removed},
		{"LifecycleExpiration:DeleteMarkerCreated", removed},
		{"s3:LifecycleDelMarkerExpiration:Delete", removed},
		{"ObjectRestore:Post", skipped},
		{"ObjectRestore:Completed", skipped},
		{"ObjectRestore:Delete", skipped},
		{"Replication:OperationCompletedReplication", skipped},
		{"ObjectTagging:Put", skipped},
		{"s3:ObjectTagging:Delete", skipped},
		{"ObjectAcl:Put", skipped},
		{"LifecycleTransition", skipped},
		{"IntelligentTiering", skipped},
		{"ReducedRedundancyLostObject", skipped},
		{"s3:ObjectAccessed:Get", skipped},
		{"s3:ObjectCreated:PutTagging", skipped},
		{"s3:ObjectCreated:PutRetention", skipped},
		{"s3:ObjectCreated:PutLegalHold", skipped},
		{"s3:BucketRemoved:*", skipped},
		{"", skipped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := NewVerifier(nil).Parse(context.Background(), nil, awsBody(tt.name, "a+b.txt"))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got := skipped
			if len(m.Records) == 1 {
				switch r := m.Records[0]; {
				case r.Created && !r.Removed:
					got = created
				case r.Removed && !r.Created:
					got = removed
				default:
					got = fmt.Sprintf("created=%v removed=%v", r.Created, r.Removed)
				}
			}
			if got != tt.want {
				t.Errorf("%q is %s, want %s", tt.name, got, tt.want)
			}
		})
	}
}

func TestParseMalformed(t *testing.T) {
	t.Parallel()
	record := func(object string) string {
		return `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"media"},"object":` + object + `}}]}`
	}
	tooMany, _ := json.Marshal(map[string]any{"Records": make([]struct{}, MaxRecords+1)})
	tests := []struct {
		name string
		body string
	}{
		{"empty body", ``},
		{"not JSON", `Records: none`},
		{"truncated", `{"Records":[{"eventName":"ObjectCreated:Put"`},
		{"array", `[{"eventName":"ObjectCreated:Put"}]`},
		{"no records", `{}`},
		{"null records", `{"Records":null}`},
		{"records not a list", `{"Records":{"eventName":"ObjectCreated:Put"}}`},
		{"another test event", `{"Event":"s3:SomethingElse"}`},
		{"record without key", record(`{"size":1}`)},
		{"record with empty key", record(`{"key":""}`)},
		{"record with null key", record(`{"key":null}`)},
		{"record without bucket", `{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"a"}}}]}`},
		{"bad escape", record(`{"key":"100%.jpg"}`)},
		{"bad escape digits", record(`{"key":"a%zzb"}`)},
		{"key not UTF-8", record(`{"key":"a%FFb"}`)},
		{"key over 1024 bytes", record(`{"key":"` + strings.Repeat("k", MaxKeyBytes+1) + `"}`)},
		{"decoded key over 1024 bytes", record(`{"key":"` + strings.Repeat("%C3%A9", MaxKeyBytes/2) + `a"}`)},
		{"negative size", record(`{"key":"a","size":-1}`)},
		{"size not a number", record(`{"key":"a","size":"12"}`)},
		{"too many records", string(tooMany)},
		{"trailing garbage", `{"Records":[]} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := NewVerifier(nil).Parse(context.Background(), nil, []byte(tt.body))
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse = %+v, %v; want ErrMalformed", m, err)
			}
			if errors.Is(err, ErrSignature) {
				t.Errorf("error %v is also ErrSignature", err)
			}
		})
	}
}

func TestParseKeepsKeysAtTheLimit(t *testing.T) {
	t.Parallel()
	key := strings.Repeat("%C3%A9", MaxKeyBytes/2) // 1024 bytes decoded
	m, err := NewVerifier(nil).Parse(context.Background(), nil, awsBody("ObjectCreated:Put", key))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(m.Records) != 1 || len(m.Records[0].Key) != MaxKeyBytes {
		t.Errorf("records %d, want one key of %d bytes", len(m.Records), MaxKeyBytes)
	}
}

func TestParseSkipsOtherEventsWithoutKeys(t *testing.T) {
	t.Parallel()
	body := `{"Records":[{"eventName":"s3:ObjectAccessed:Get","s3":{}},` +
		`{"eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"media"},"object":{"key":"gone.txt"}}}]}`
	m, err := NewVerifier(nil).Parse(context.Background(), nil, []byte(body))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []Record{{Removed: true, Event: "ObjectRemoved:Delete", Bucket: "media", Key: "gone.txt"}}
	if !reflect.DeepEqual(m.Records, want) {
		t.Errorf("records %+v, want %+v", m.Records, want)
	}
}
