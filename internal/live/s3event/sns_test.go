package s3event

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestStringToSignMatchesAWSGuide(t *testing.T) {
	t.Parallel()
	// The two examples of the AWS guide "Verifying the signatures of Amazon
	// SNS messages".
	subject := "My subject"
	topic := "arn:aws:sns:us-east-2:123456789012:s4-MySNSTopic-1G1WEFCOXTC0P"
	tests := []struct {
		env  snsEnvelope
		want string
	}{
		{
			env: snsEnvelope{
				Type: "Notification", Message: "My Test Message", MessageID: "4d4dc071-ddbf-465d-bba8-08f81c89da64",
				Subject: &subject, Timestamp: "2019-01-31T04:37:04.321Z", TopicArn: &topic,
			},
			want: "Message\nMy Test Message\nMessageId\n4d4dc071-ddbf-465d-bba8-08f81c89da64\nSubject\nMy subject\n" +
				"Timestamp\n2019-01-31T04:37:04.321Z\nTopicArn\n" + topic + "\nType\nNotification\n",
		},
		{
			env: snsEnvelope{
				Type: "SubscriptionConfirmation", Message: "My Test Message", MessageID: "3d891288-136d-417f-bc05-901c108273ee",
				SubscribeURL: "https://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=233...",
				Timestamp:    "2019-01-31T19:25:13.719Z", Token: "233...", TopicArn: &topic,
			},
			want: "Message\nMy Test Message\nMessageId\n3d891288-136d-417f-bc05-901c108273ee\n" +
				"SubscribeURL\nhttps://sns.us-east-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=233...\n" +
				"Timestamp\n2019-01-31T19:25:13.719Z\nToken\n233...\nTopicArn\n" + topic + "\nType\nSubscriptionConfirmation\n",
		},
	}
	for _, tt := range tests {
		got, err := tt.env.stringToSign()
		if err != nil {
			t.Fatalf("stringToSign(%s): %v", tt.env.Type, err)
		}
		if got != tt.want {
			t.Errorf("stringToSign(%s):\n got %q\nwant %q", tt.env.Type, got, tt.want)
		}
	}
}

func TestParseSignedSNS(t *testing.T) {
	t.Parallel()
	s := validSigner(t)
	put := string(readTestdata(t, "aws-put.json"))
	putRecord := Record{
		Created: true, Event: "ObjectCreated:Put", Bucket: "amzn-s3-demo-bucket",
		Key: "photos/red flower ü🎉.jpg", Size: 1024, ETag: "d41d8cd98f00b204e9800998ecf8427e",
		Sequencer: "0055AED6DCD90281E5",
	}
	noSubject := notification(put)
	delete(noSubject, "Subject")
	emptySubject := notification(put)
	emptySubject["Subject"] = ""
	sub := confirmation("SubscriptionConfirmation")
	unsub := confirmation("UnsubscribeConfirmation")

	tests := []struct {
		name   string
		fields snsFields
		header bool
		want   Message
	}{
		{"notification", notification(put), true, Message{
			Kind: KindRecords, Records: []Record{putRecord}, TopicArn: testTopic, MessageID: notification(put)["MessageId"]}},
		{"notification without header", notification(put), false, Message{
			Kind: KindRecords, Records: []Record{putRecord}, TopicArn: testTopic, MessageID: notification(put)["MessageId"]}},
		{"notification without subject", noSubject, true, Message{
			Kind: KindRecords, Records: []Record{putRecord}, TopicArn: testTopic, MessageID: noSubject["MessageId"]}},
		{"notification with empty subject", emptySubject, true, Message{
			Kind: KindRecords, Records: []Record{putRecord}, TopicArn: testTopic, MessageID: emptySubject["MessageId"]}},
		{"s3 test event", notification(string(readTestdata(t, "aws-test-event.json"))), true, Message{
			Kind: KindRecords, Test: true, TopicArn: testTopic, MessageID: notification("")["MessageId"]}},
		{"subscription confirmation", sub, true, Message{
			Kind: KindSubscription, TopicArn: testTopic, MessageID: sub["MessageId"], SubscribeURL: sub["SubscribeURL"]}},
		{"unsubscribe confirmation", unsub, true, Message{
			Kind: KindUnsubscribe, TopicArn: testTopic, MessageID: unsub["MessageId"], SubscribeURL: unsub["SubscribeURL"]}},
	}
	for _, version := range []string{"1", "2"} {
		for _, tt := range tests {
			t.Run("v"+version+"/"+tt.name, func(t *testing.T) {
				t.Parallel()
				v, _ := setup(t, s)
				header := http.Header{}
				if tt.header {
					header = snsHeader(tt.fields["Type"])
				}
				got, err := v.Parse(context.Background(), header, s.sign(t, tt.fields, version).body(t))
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
				}
			})
		}
	}
}

func TestParseRejectsForgedSNS(t *testing.T) {
	t.Parallel()
	s := validSigner(t)
	put := string(readTestdata(t, "aws-put.json"))
	valid := func(t *testing.T) snsFields { return s.sign(t, notification(put), "2") }

	tests := []struct {
		name   string
		forge  func(t *testing.T) snsFields
		header bool
	}{
		{"message altered", func(t *testing.T) snsFields {
			f := valid(t)
			f["Message"] = string(awsBody("ObjectRemoved:Delete", "photos/red+flower.jpg"))
			return f
		}, true},
		{"subject altered", func(t *testing.T) snsFields {
			f := valid(t)
			f["Subject"] = "Amazon S3 Notification!"
			return f
		}, true},
		{"subject removed", func(t *testing.T) snsFields {
			f := valid(t)
			delete(f, "Subject")
			return f
		}, true},
		{"topic altered", func(t *testing.T) snsFields {
			f := valid(t)
			f["TopicArn"] = "arn:aws:sns:us-east-1:123456789012:other"
			return f
		}, true},
		{"type altered to subscription", func(t *testing.T) snsFields {
			f := valid(t)
			f["Type"] = "SubscriptionConfirmation"
			f["SubscribeURL"] = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x"
			return f
		}, false},
		{"one byte of signature", func(t *testing.T) snsFields {
			f := valid(t)
			sig, _ := base64.StdEncoding.DecodeString(f["Signature"])
			sig[len(sig)/2] ^= 0x01
			f["Signature"] = base64.StdEncoding.EncodeToString(sig)
			return f
		}, true},
		{"signature not base64", func(t *testing.T) snsFields {
			f := valid(t)
			f["Signature"] = "not base64!"
			return f
		}, true},
		{"v2 signature called v1", func(t *testing.T) snsFields {
			f := valid(t)
			f["SignatureVersion"] = "1"
			return f
		}, true},
		{"unsigned", func(t *testing.T) snsFields {
			f := notification(put)
			f["SignatureVersion"] = "1"
			f["SigningCertURL"] = testCertURL
			return f
		}, true},
		{"unsigned without header", func(t *testing.T) snsFields {
			f := notification(put)
			f["SigningCertURL"] = testCertURL
			return f
		}, false},
		{"empty signature", func(t *testing.T) snsFields {
			f := valid(t)
			f["Signature"] = ""
			return f
		}, true},
		{"unknown signature version", func(t *testing.T) snsFields {
			f := valid(t)
			f["SignatureVersion"] = "3"
			return f
		}, true},
		{"no signature version", func(t *testing.T) snsFields {
			f := valid(t)
			delete(f, "SignatureVersion")
			return f
		}, true},
		{"signed by another key", func(t *testing.T) snsFields {
			return newSigner(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour)).sign(t, notification(put), "2")
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, _ := setup(t, s)
			header := http.Header{}
			if tt.header {
				header = snsHeader("Notification")
			}
			m, err := v.Parse(context.Background(), header, tt.forge(t).body(t))
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("Parse = %+v, %v; want ErrSignature", m, err)
			}
		})
	}
}

func TestParseNeverFetchesOffSNS(t *testing.T) {
	t.Parallel()
	s := validSigner(t)
	put := string(readTestdata(t, "aws-put.json"))
	for _, certURL := range []string{
		"http://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem",
		"https://evil.example.com/SimpleNotificationService-0123456789abcdef.pem",
		"https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-0123456789abcdef.pem",
		"https://sns.us-east-1.amazonaws.com@evil.example/SimpleNotificationService-0123456789abcdef.pem",
		"https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem",
		"https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-0123456789abcdef.pem",
		"https://s3.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem",
		"https://sns.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem",
		"https://sns.evil.amazonaws.com.cn/SimpleNotificationService-0123456789abcdef.pem",
		"https://sns.169.254.169.254/x.pem",
		"https://127.0.0.1/SimpleNotificationService-0123456789abcdef.pem",
		"https://localhost/SimpleNotificationService-0123456789abcdef.pem",
		"https://sns.us-east-1.amazonaws.com/latest/meta-data",
		"file:///etc/ssl/cert.pem",
		"/SimpleNotificationService-0123456789abcdef.pem",
		"",
	} {
		t.Run(certURL, func(t *testing.T) {
			t.Parallel()
			v, sns := setup(t, s)
			sns.serve(certURL, s.cert)
			f := notification(put)
			f["SigningCertURL"] = certURL
			m, err := v.Parse(context.Background(), snsHeader("Notification"), s.sign(t, f, "1").body(t))
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("Parse = %+v, %v; want ErrSignature", m, err)
			}
			if n := sns.requests(); n != 0 {
				t.Errorf("%d requests made, want none", n)
			}
		})
	}
}

func TestParseAcceptsSNSHosts(t *testing.T) {
	t.Parallel()
	s := validSigner(t)
	put := string(readTestdata(t, "aws-put.json"))
	for _, certURL := range []string{
		"https://sns.eu-west-3.amazonaws.com/SimpleNotificationService-a.pem",
		"https://SNS.US-GOV-WEST-1.AMAZONAWS.COM/SimpleNotificationService-a.pem",
		"https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-a.pem",
		"https://sns-fips.us-east-2.amazonaws.com/SimpleNotificationService-a.pem",
	} {
		t.Run(certURL, func(t *testing.T) {
			t.Parallel()
			v, sns := setup(t, s)
			sns.serve(certURL, s.cert)
			f := notification(put)
			f["SigningCertURL"] = certURL
			if _, err := v.Parse(context.Background(), snsHeader("Notification"), s.sign(t, f, "1").body(t)); err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if n := sns.fetches(certURL); n != 1 {
				t.Errorf("certificate fetched %d times, want 1", n)
			}
		})
	}
}

func TestParseChecksCertificateValidity(t *testing.T) {
	t.Parallel()
	put := string(readTestdata(t, "aws-put.json"))
	tests := []struct {
		name                string
		notBefore, notAfter time.Time
	}{
		{"expired", time.Now().Add(-48 * time.Hour), time.Now().Add(-24 * time.Hour)},
		{"not yet valid", time.Now().Add(24 * time.Hour), time.Now().Add(48 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSigner(t, tt.notBefore, tt.notAfter)
			v, _ := setup(t, s)
			_, err := v.Parse(context.Background(), snsHeader("Notification"), s.sign(t, notification(put), "2").body(t))
			if !errors.Is(err, ErrSignature) {
				t.Fatalf("Parse: %v; want ErrSignature", err)
			}
		})
	}
}

func TestParseCertificateFetchFailures(t *testing.T) {
	t.Parallel()
	s := validSigner(t)
	put := string(readTestdata(t, "aws-put.json"))
	tests := []struct {
		name      string
		status    int // -1: the connection fails
		body      []byte
		location  string
		signature bool // ErrSignature; otherwise a retryable error
	}{
		{name: "not found", status: http.StatusNotFound, signature: true},
		{name: "forbidden", status: http.StatusForbidden, signature: true},
		{name: "redirect not followed", status: http.StatusFound, location: "https://evil.example.com/x.pem", signature: true},
		{name: "not a certificate", status: http.StatusOK, body: []byte("<html>hello</html>"), signature: true},
		{name: "huge", status: http.StatusOK, body: make([]byte, maxCertBytes+10), signature: true},
		{name: "sns unavailable", status: http.StatusServiceUnavailable},
		{name: "connection fails", status: -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, sns := setup(t, s)
			sns.serve(testCertURL, tt.body)
			sns.status[testCertURL] = tt.status
			if tt.location != "" {
				sns.headers[testCertURL] = http.Header{"Location": {tt.location}}
			}
			_, err := v.Parse(context.Background(), snsHeader("Notification"), s.sign(t, notification(put), "1").body(t))
			switch {
			case err == nil:
				t.Fatal("Parse succeeded")
			case errors.Is(err, ErrMalformed):
				t.Fatalf("Parse: %v; must not be ErrMalformed", err)
			case tt.signature != errors.Is(err, ErrSignature):
				t.Fatalf("Parse: %v; ErrSignature = %v, want %v", err, errors.Is(err, ErrSignature), tt.signature)
			}
			if n := sns.requests(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

func TestParseCachesCertificates(t *testing.T) {
	t.Parallel()
	s := validSigner(t)
	v, sns := setup(t, s)
	put := string(readTestdata(t, "aws-put.json"))
	parse := func(certURL string) {
		t.Helper()
		sns.serve(certURL, s.cert)
		f := notification(put)
		f["SigningCertURL"] = certURL
		if _, err := v.Parse(context.Background(), snsHeader("Notification"), s.sign(t, f, "2").body(t)); err != nil {
			t.Fatalf("Parse: %v", err)
		}
	}
	parse(testCertURL)
	parse(testCertURL)
	if n := sns.fetches(testCertURL); n != 1 {
		t.Fatalf("certificate fetched %d times for two messages, want 1", n)
	}
	// The cache is bounded: past its size the oldest certificate goes.
	for i := range maxCachedCerts {
		parse("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-" + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ".pem")
	}
	parse(testCertURL)
	if n := sns.fetches(testCertURL); n != 2 {
		t.Errorf("certificate fetched %d times after %d others, want 2", n, maxCachedCerts)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.certs) > maxCachedCerts || len(v.order) != len(v.certs) {
		t.Errorf("cache holds %d certificates (%d in order), at most %d", len(v.certs), len(v.order), maxCachedCerts)
	}
}

func TestParseFromLoopbackCertServer(t *testing.T) {
	t.Parallel()
	s := validSigner(t)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/SimpleNotificationService-loopback.pem" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(s.cert)
	}))
	defer srv.Close()
	f := notification(string(readTestdata(t, "aws-put.json")))
	f["SigningCertURL"] = srv.URL + "/SimpleNotificationService-loopback.pem"
	body := s.sign(t, f, "2").body(t)

	v := NewVerifier(srv.Client())
	if _, err := v.Parse(context.Background(), snsHeader("Notification"), body); !errors.Is(err, ErrSignature) {
		t.Fatalf("Parse without AllowHost: %v; want ErrSignature", err)
	}
	v.AllowHost = func(host string) bool { return host == srv.Listener.Addr().String() }
	m, err := v.Parse(context.Background(), snsHeader("Notification"), body)
	if err != nil {
		t.Fatalf("Parse with AllowHost: %v", err)
	}
	if len(m.Records) != 1 || m.Records[0].Key != "photos/red flower ü🎉.jpg" {
		t.Errorf("records %+v", m.Records)
	}
}

func TestParseRealAWSMessages(t *testing.T) {
	t.Parallel()
	const certURL = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem"
	newVerifier := func(now time.Time) (*Verifier, *fakeSNS) {
		sns := newFakeSNS()
		sns.serve(certURL, readTestdata(t, "sns/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem"))
		v := NewVerifier(&http.Client{Transport: sns})
		v.now = func() time.Time { return now }
		return v, sns
	}
	sent := time.Date(2026, 3, 7, 0, 0, 0, 0, time.UTC)

	t.Run("confirmations", func(t *testing.T) {
		t.Parallel()
		v, _ := newVerifier(sent)
		for file, kind := range map[string]Kind{
			"sns/subscription-confirmation-v1.json": KindSubscription,
			"sns/unsubscribe-confirmation-v2.json":  KindUnsubscribe,
		} {
			body := readTestdata(t, file)
			m, err := v.Parse(context.Background(), http.Header{}, body)
			if err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if m.Kind != kind || m.TopicArn != "arn:aws:sns:us-west-2:131990247566:dongie-standard-topic" {
				t.Errorf("%s: %+v", file, m)
			}
		}
	})
	// Their Message is text, not an S3 event: the signature verifies and
	// the body is then malformed.
	t.Run("notifications", func(t *testing.T) {
		t.Parallel()
		v, _ := newVerifier(sent)
		for _, file := range []string{"sns/notification-v1.json", "sns/notification-v1-subject.json", "sns/notification-v2.json"} {
			_, err := v.Parse(context.Background(), snsHeader("Notification"), readTestdata(t, file))
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("%s: %v; want ErrMalformed after a good signature", file, err)
			}
		}
	})
	t.Run("altered", func(t *testing.T) {
		t.Parallel()
		v, _ := newVerifier(sent)
		body := string(readTestdata(t, "sns/notification-v1-subject.json"))
		altered := []byte(strings.Replace(body, "My message subject", "My message subject.", 1))
		if _, err := v.Parse(context.Background(), snsHeader("Notification"), altered); !errors.Is(err, ErrSignature) {
			t.Errorf("altered subject: %v; want ErrSignature", err)
		}
	})
	t.Run("certificate expired", func(t *testing.T) {
		t.Parallel()
		v, _ := newVerifier(time.Date(2026, 10, 15, 0, 0, 0, 0, time.UTC))
		body := readTestdata(t, "sns/subscription-confirmation-v1.json")
		if _, err := v.Parse(context.Background(), http.Header{}, body); !errors.Is(err, ErrSignature) {
			t.Errorf("after the certificate's end: %v; want ErrSignature", err)
		}
	})
}

func TestParseRawMessageDelivery(t *testing.T) {
	t.Parallel()
	header := snsHeader("Notification")
	header.Set("x-amz-sns-rawdelivery", "true")
	m, err := NewVerifier(nil).Parse(context.Background(), header, readTestdata(t, "aws-put.json"))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if len(m.Records) != 1 || m.TopicArn != "" {
		t.Errorf("Parse = %+v; want one record and no topic (nothing was verified)", m)
	}
}

func TestParseSNSShapeErrors(t *testing.T) {
	t.Parallel()
	s := validSigner(t)
	tests := []struct {
		name   string
		header string
		fields snsFields
	}{
		{"header disagrees with the body", "SubscriptionConfirmation", notification(string(readTestdata(t, "aws-put.json")))},
		{"unknown type", "", snsFields{"Type": "Telegram", "TopicArn": testTopic, "Message": "{}"}},
		{"message is not an s3 event", "Notification", notification("hello")},
		{"message is a bad s3 event", "Notification", notification(`{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"%"}}}]}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, _ := setup(t, s)
			header := http.Header{}
			if tt.header != "" {
				header = snsHeader(tt.header)
			}
			fields := tt.fields
			if fields["Type"] != "Telegram" {
				fields = s.sign(t, fields, "2")
			}
			if _, err := v.Parse(context.Background(), header, fields.body(t)); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse: %v; want ErrMalformed", err)
			}
		})
	}
}
