package s3event

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	testTopic   = "arn:aws:sns:us-east-1:123456789012:shelf-events"
	testCertURL = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-0123456789abcdef.pem"
)

// signer is a stand-in for SNS: an RSA key and a self-signed certificate.
type signer struct {
	key  *rsa.PrivateKey
	cert []byte // PEM
}

func newSigner(t *testing.T, notBefore, notAfter time.Time) signer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return signer{key: key, cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

func validSigner(t *testing.T) signer {
	return newSigner(t, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}

// snsFields are an SNS message's fields; a missing key is a field left out.
type snsFields map[string]string

func (f snsFields) clone() snsFields {
	c := make(snsFields, len(f))
	for k, v := range f {
		c[k] = v
	}
	return c
}

// sign signs f as the AWS guide says, written out here independently of
// the package's own string to sign.
func (s signer) sign(t *testing.T, f snsFields, version string) snsFields {
	t.Helper()
	names := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if f["Type"] != "Notification" {
		names = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var text strings.Builder
	for _, n := range names {
		if v, ok := f[n]; ok {
			text.WriteString(n + "\n" + v + "\n")
		}
	}
	var sig []byte
	var err error
	switch version {
	case "1":
		sum := sha1.Sum([]byte(text.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, sum[:])
	default:
		sum := sha256.Sum256([]byte(text.String()))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, sum[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	signed := f.clone()
	signed["SignatureVersion"] = version
	signed["Signature"] = base64.StdEncoding.EncodeToString(sig)
	if _, ok := signed["SigningCertURL"]; !ok {
		signed["SigningCertURL"] = testCertURL
	}
	return signed
}

func (f snsFields) body(t *testing.T) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]string(f))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func notification(message string) snsFields {
	return snsFields{
		"Type":           "Notification",
		"MessageId":      "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
		"TopicArn":       testTopic,
		"Subject":        "Amazon S3 Notification",
		"Message":        message,
		"Timestamp":      "2026-08-20T09:14:04.655Z",
		"UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=" + testTopic + ":c9135db0",
	}
}

func confirmation(typ string) snsFields {
	return snsFields{
		"Type":         typ,
		"MessageId":    "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
		"Token":        "2336412f37fb687f5d51e6e2425929f52e8e353134fe72d5",
		"TopicArn":     testTopic,
		"Message":      "You have chosen to subscribe to the topic " + testTopic + ".\nTo confirm the subscription, visit the SubscribeURL included in this message.",
		"SubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + testTopic + "&Token=2336412f37fb687f5d51e6e2425929f52e8e353134fe72d5",
		"Timestamp":    "2026-08-20T09:10:13.719Z",
	}
}

func snsHeader(typ string) http.Header {
	h := http.Header{}
	h.Set("x-amz-sns-message-type", typ)
	h.Set("Content-Type", "text/plain; charset=UTF-8")
	return h
}

// fakeSNS is an http.RoundTripper serving fixed answers by URL, so that the
// production host rules apply while no request leaves the process.
type fakeSNS struct {
	mu      sync.Mutex
	bodies  map[string][]byte
	status  map[string]int
	headers map[string]http.Header
	hits    map[string]int
	total   int
}

func newFakeSNS() *fakeSNS {
	return &fakeSNS{
		bodies:  map[string][]byte{},
		status:  map[string]int{},
		headers: map[string]http.Header{},
		hits:    map[string]int{},
	}
}

func (f *fakeSNS) serve(url string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.bodies[url] = body
}

func (f *fakeSNS) RoundTrip(req *http.Request) (*http.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	u := req.URL.String()
	f.hits[u]++
	f.total++
	status, ok := f.status[u]
	if !ok {
		status = http.StatusNotFound
		if _, found := f.bodies[u]; found {
			status = http.StatusOK
		}
	}
	if status < 0 {
		return nil, errors.New("connection reset by peer")
	}
	h := f.headers[u]
	if h == nil {
		h = http.Header{}
	}
	return &http.Response{
		StatusCode: status,
		Status:     http.StatusText(status),
		Header:     h,
		Body:       io.NopCloser(bytes.NewReader(f.bodies[u])),
		Request:    req,
	}, nil
}

func (f *fakeSNS) fetches(url string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.hits[url]
}

func (f *fakeSNS) requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// setup returns a Verifier whose requests go to a fakeSNS serving s's
// certificate at testCertURL.
func setup(t *testing.T, s signer) (*Verifier, *fakeSNS) {
	t.Helper()
	sns := newFakeSNS()
	sns.serve(testCertURL, s.cert)
	return NewVerifier(&http.Client{Transport: sns}), sns
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
