package s3

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/middleware"
)

const xmlHead = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"

// listDocs are ListObjectsV2 answers in the shapes servers send.
var listDocs = map[string]string{
	"aws": xmlHead + `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>photos/</Prefix>` +
		`<KeyCount>2</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>` +
		`<ContinuationToken>abc</ContinuationToken><NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>` +
		`<Contents><Key>photos/a &amp; b &lt;c&gt; &quot;d&quot; &apos;e&apos;.jpg</Key><LastModified>2009-10-12T17:50:30.000Z</LastModified>` +
		`<ETag>&quot;fba9dede5f27731c9771645a39863328&quot;</ETag><ChecksumAlgorithm>CRC32</ChecksumAlgorithm><Size>434234</Size>` +
		`<Owner><ID>75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a</ID><DisplayName>me</DisplayName></Owner>` +
		`<StorageClass>STANDARD</StorageClass></Contents>` +
		`<Contents><Key>photos/emoji &#x1F600; &#128512;.png</Key><LastModified>2024-01-02T03:04:05Z</LastModified>` +
		`<ETag>"abc-3"</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass></Contents>` +
		`<CommonPrefixes><Prefix>photos/2024/</Prefix></CommonPrefixes><CommonPrefixes><Prefix>photos/x&amp;y/</Prefix></CommonPrefixes>` +
		`</ListBucketResult>`,
	"pretty": xmlHead + "<ListBucketResult>\n  <Name>b</Name>\n  <Prefix/>\n  <IsTruncated>false</IsTruncated>\n" +
		"  <!-- a comment -->\n  <Contents>\n    <Key><![CDATA[raw <key> & more]]></Key>\n    <LastModified>2024-05-06T07:08:09.123456789Z</LastModified>\n" +
		"    <ETag>\"e\"</ETag>\n    <Size>12</Size>\n  </Contents>\n</ListBucketResult>\n",
	"url-encoded": xmlHead + `<ListBucketResult><Name>b</Name><Prefix></Prefix><EncodingType>url</EncodingType>` +
		`<IsTruncated>false</IsTruncated><Contents><Key>a+b%2Bc%25.txt</Key><LastModified>2024-01-01T00:00:00.000Z</LastModified>` +
		`<ETag>"x"</ETag><Size>1</Size></Contents></ListBucketResult>`,
	"empty": xmlHead + `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>none/</Prefix>` +
		`<KeyCount>0</KeyCount><MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListBucketResult>`,
	"prefixed-namespace": `<s3:ListBucketResult xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Name>b</s3:Name>` +
		`<s3:IsTruncated>false</s3:IsTruncated><s3:Contents><s3:Key>k</s3:Key><s3:Size>5</s3:Size>` +
		`<s3:LastModified>2024-01-01T00:00:00Z</s3:LastModified></s3:Contents></s3:ListBucketResult>`,
}

// badDocs are answers the fast scanner refuses; the SDK decides.
var badDocs = map[string]string{
	"truncated":  xmlHead + `<ListBucketResult><Name>b</Name><Contents><Key>k</Key>`,
	"bad entity": xmlHead + `<ListBucketResult><Name>b</Name><Contents><Key>a &nbsp; b</Key></Contents></ListBucketResult>`,
	"other root": xmlHead + `<Error><Code>InternalError</Code></Error>`,
	"bad size":   xmlHead + `<ListBucketResult><Name>b</Name><Contents><Key>k</Key><Size>x</Size></Contents></ListBucketResult>`,
}

func listClient(url string) *awss3.Client {
	return awss3.New(awss3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""), Retryer: aws.NopRetryer{},
	})
}

func serveDoc(t *testing.T, doc string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(doc))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// comparable strips what only the SDK's decoder fills (result metadata,
// owners, checksums) so both decoders' outputs can be compared.
func comparable(o *awss3.ListObjectsV2Output) *awss3.ListObjectsV2Output {
	c := *o
	c.ResultMetadata = awss3.ListObjectsV2Output{}.ResultMetadata
	c.RequestCharged = ""
	c.Contents = make([]types.Object, len(o.Contents))
	for i, obj := range o.Contents {
		c.Contents[i] = types.Object{Key: obj.Key, ETag: obj.ETag, Size: obj.Size, LastModified: obj.LastModified, StorageClass: obj.StorageClass}
	}
	return &c
}

func TestFastListDecoderMatchesTheSDK(t *testing.T) {
	t.Parallel()
	for name, doc := range listDocs {
		var fast awss3.ListObjectsV2Output
		if err := parseListV2([]byte(doc), &fast); err != nil {
			t.Errorf("%s: the fast scanner refused a valid answer: %v", name, err)
			continue
		}
		client := listClient(serveDoc(t, doc))
		in := &awss3.ListObjectsV2Input{Bucket: aws.String("b")}
		viaSDK, err := client.ListObjectsV2(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: SDK decoder: %v", name, err)
		}
		viaFast, err := client.ListObjectsV2(context.Background(), in, withFastListDecoder)
		if err != nil {
			t.Fatalf("%s: fast decoder: %v", name, err)
		}
		if a, b := comparable(viaSDK), comparable(viaFast); !reflect.DeepEqual(a, b) {
			t.Errorf("%s: decoders disagree\nSDK:  %+v\nfast: %+v", name, a, b)
		}
	}
	if !strings.Contains(aws.ToString(mustParse(t, listDocs["aws"]).Contents[0].Key), `a & b <c> "d" 'e'`) {
		t.Fatal("entities were not decoded")
	}
}

func mustParse(t *testing.T, doc string) *awss3.ListObjectsV2Output {
	var o awss3.ListObjectsV2Output
	if err := parseListV2([]byte(doc), &o); err != nil {
		t.Fatal(err)
	}
	return &o
}

func TestFastListDecoderFallsBackToTheSDK(t *testing.T) {
	t.Parallel()
	for name, doc := range badDocs {
		var o awss3.ListObjectsV2Output
		if err := parseListV2([]byte(doc), &o); err == nil {
			t.Errorf("%s: the fast scanner accepted a document it should leave to the SDK", name)
		}
		client := listClient(serveDoc(t, doc))
		in := &awss3.ListObjectsV2Input{Bucket: aws.String("b")}
		_, sdkErr := client.ListObjectsV2(context.Background(), in)
		_, fastErr := client.ListObjectsV2(context.Background(), in, withFastListDecoder)
		if (sdkErr == nil) != (fastErr == nil) {
			t.Errorf("%s: SDK error %v, with fast decoder %v; want the same outcome", name, sdkErr, fastErr)
		}
	}
	// Error answers still reach the SDK's error decoder.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte(xmlHead + `<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`))
	}))
	t.Cleanup(srv.Close)
	_, err := listClient(srv.URL).ListObjectsV2(context.Background(), &awss3.ListObjectsV2Input{Bucket: aws.String("b")}, withFastListDecoder)
	if !isCode(err, "SlowDown") {
		t.Fatalf("error answer decoded as %v, want the SlowDown API error", err)
	}
}

func FuzzParseListV2(f *testing.F) {
	for _, d := range listDocs {
		f.Add(d)
	}
	for _, d := range badDocs {
		f.Add(d)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		var o awss3.ListObjectsV2Output
		_ = parseListV2([]byte(doc), &o) // must not panic
	})
}

// TestFastListDecoderIsSplicedIn fails when connectors stop using the
// fast decoder, for instance because a new AWS SDK renamed the deserialize
// step it replaces: listings would keep working, only slower.
func TestFastListDecoderIsSplicedIn(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	endpoint := serveDoc(t, listDocs["aws"])
	for _, sdkDecoder := range []bool{false, true} {
		logs := &logRecorder{}
		c, err := New(ctx, Config{Bucket: "b", Endpoint: endpoint, PathStyle: true,
			AccessKeyID: "k", SecretAccessKey: "s", SDKListDecoder: sdkDecoder}, slog.New(logs))
		if err != nil {
			t.Fatal(err)
		}
		// The connector's own listing warns when the decoder did not run.
		if objs, err := c.firstKeys(ctx, "photos/", 1000); err != nil || len(objs) != 2 {
			t.Fatalf("SDKListDecoder=%v: listed %d objects, %v; want 2, no error", sdkDecoder, len(objs), err)
		}
		if len(logs.msgs) != 0 {
			t.Errorf("SDKListDecoder=%v: the listing logged %q, want nothing", sdkDecoder, logs.msgs)
		}
		var steps []string
		record := func(o *awss3.Options) {
			o.APIOptions = append(o.APIOptions, func(s *middleware.Stack) error {
				steps = s.Deserialize.List()
				return nil
			})
		}
		out, err := c.client.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("b")},
			append([]func(*awss3.Options){record}, c.listOptions...)...)
		if err != nil {
			t.Fatal(err)
		}
		if ran := fastDecoderRan(out.ResultMetadata); ran == sdkDecoder {
			t.Errorf("SDKListDecoder=%v: the fast decoder ran: %v, want %v (the SDK's deserialize steps are %q; the splice replaces %q)",
				sdkDecoder, ran, !sdkDecoder, steps, sdkDeserializeStep)
		}
	}
}

// logRecorder keeps the messages of the records logged through it.
type logRecorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *logRecorder) WithGroup(string) slog.Handler            { return r }
func (r *logRecorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, rec.Level.String()+" "+rec.Message)
	return nil
}

// TestListingWarnsOnceWhenTheFastDecoderIsOff simulates the splice not
// happening: listings still work and the log says so, once.
func TestListingWarnsOnceWhenTheFastDecoderIsOff(t *testing.T) {
	t.Parallel()
	logs := &logRecorder{}
	c, err := New(context.Background(), Config{Bucket: "b", Endpoint: serveDoc(t, listDocs["aws"]), PathStyle: true,
		AccessKeyID: "k", SecretAccessKey: "s"}, slog.New(logs))
	if err != nil {
		t.Fatal(err)
	}
	c.listOptions = []func(*awss3.Options){func(*awss3.Options) {}} // wanted, but nothing spliced in
	for range 3 {
		objs, err := c.firstKeys(context.Background(), "photos/", 1000)
		if err != nil || len(objs) != 2 {
			t.Fatalf("listing without the fast decoder: %d objects, %v; want 2, no error", len(objs), err)
		}
	}
	if len(logs.msgs) != 1 || !strings.HasPrefix(logs.msgs[0], "WARN S3 listings are decoded by the AWS SDK's slower XML decoder") {
		t.Fatalf("logged %q, want one warning that the slower decoder is in use", logs.msgs)
	}
}
