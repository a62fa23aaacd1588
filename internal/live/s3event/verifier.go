package s3event

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Kind says what a message asks of Shelf.
type Kind string

const (
	// KindRecords carries changed objects (possibly none).
	KindRecords Kind = "records"
	// KindSubscription is SNS asking to confirm a subscription: call
	// ConfirmSubscription once the topic is known to be the expected one.
	KindSubscription Kind = "subscription"
	// KindUnsubscribe is SNS telling that the subscription was removed.
	KindUnsubscribe Kind = "unsubscribe"
)

// Message is a parsed request body.
type Message struct {
	Kind    Kind
	Records []Record
	// Test is a test event (AWS's when notifications are configured,
	// versitygw's when it starts); it has no records.
	Test bool
	// TopicArn is set only for a verified SNS message; check it against the
	// topic the connection expects. Empty for a direct (unsigned) body.
	TopicArn string
	// MessageID is SNS's message ID, the same on SNS's retries of a message.
	MessageID string
	// SubscribeURL is the URL that confirms (or, after an unsubscribe,
	// renews) the subscription.
	SubscribeURL string
}

// maxCachedCerts bounds the certificate cache. SNS signs with one
// certificate per region at a time, so a handful of entries is all a
// working setup uses.
const maxCachedCerts = 32

// fetchTimeout bounds one certificate fetch or subscription confirmation.
const fetchTimeout = 10 * time.Second

// Verifier parses event notification bodies and verifies SNS messages. It
// is safe for concurrent use.
type Verifier struct {
	// AllowHost, when set, trusts a host (as "host:port") for signing
	// certificates and subscribe URLs besides SNS's own. Only tests set it,
	// to reach a loopback server; https is still required.
	AllowHost func(host string) bool

	client *http.Client
	now    func() time.Time

	mu    sync.Mutex
	certs map[string]signingCert
	order []string // cache keys, oldest first
}

// NewVerifier returns a Verifier that fetches SNS signing certificates, and
// confirms subscriptions, with client (a client with a timeout when nil).
// Redirects are never followed.
func NewVerifier(client *http.Client) *Verifier {
	c := http.Client{Timeout: fetchTimeout}
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	return &Verifier{
		client: &c,
		now:    time.Now,
		certs:  make(map[string]signingCert),
	}
}

// Parse reads a request body posted to the events endpoint. header is the
// request's, body at most the 1 MiB the endpoint reads. An error wraps
// ErrMalformed (answer 400) or ErrSignature (answer 403); any other error
// means the signing certificate could not be fetched from SNS just now
// (answer 503 so that SNS sends the message again).
func (v *Verifier) Parse(ctx context.Context, header http.Header, body []byte) (Message, error) {
	var env snsEnvelope
	if err := json.Unmarshal(body, &env); err != nil {
		return Message{}, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if !env.isSNS(header) {
		records, test, err := parseDocument(body)
		if err != nil {
			return Message{}, err
		}
		return Message{Kind: KindRecords, Records: records, Test: test}, nil
	}
	if h := header.Get("X-Amz-Sns-Message-Type"); h != "" && h != env.Type {
		return Message{}, fmt.Errorf("%w: x-amz-sns-message-type %q but the message is a %q", ErrMalformed, h, env.Type)
	}
	if err := v.verify(ctx, env); err != nil {
		return Message{}, err
	}
	m := Message{
		TopicArn:     deref(env.TopicArn),
		MessageID:    env.MessageID,
		SubscribeURL: env.SubscribeURL,
	}
	switch env.Type {
	case snsSubscription:
		m.Kind = KindSubscription
	case snsUnsubscribe:
		m.Kind = KindUnsubscribe
	default:
		records, test, err := parseDocument([]byte(env.Message))
		if err != nil {
			return Message{}, fmt.Errorf("SNS message %s from %s: %w", env.MessageID, m.TopicArn, err)
		}
		m.Kind, m.Records, m.Test = KindRecords, records, test
	}
	return m, nil
}

// verify checks an SNS message's signature. It fetches the signing
// certificate only from an https URL on an SNS host.
func (v *Verifier) verify(ctx context.Context, env snsEnvelope) error {
	text, err := env.stringToSign()
	if err != nil {
		return err
	}
	if deref(env.Signature) == "" {
		return fmt.Errorf("%w: the %s message is not signed", ErrSignature, env.Type)
	}
	hash, err := signatureHash(deref(env.SignatureVersion))
	if err != nil {
		return err
	}
	certURL, err := v.trustedURL(deref(env.SigningCertURL))
	if err != nil {
		return fmt.Errorf("%w: SigningCertURL: %w", ErrSignature, err)
	}
	if !strings.HasSuffix(certURL.Path, ".pem") {
		return fmt.Errorf("%w: SigningCertURL %s is not a .pem certificate", ErrSignature, certURL.Redacted())
	}
	key, err := v.signingKey(ctx, certURL)
	if err != nil {
		return err
	}
	return env.checkSignature(key, hash, text)
}

// trustedURL parses a URL that Shelf may fetch on an SNS message's word:
// https on sns.<region>.amazonaws.com, sns-fips.<region>.amazonaws.com or
// their .amazonaws.com.cn twins, default port, no user info. Anything else
// could point Shelf at an internal service.
func (v *Verifier) trustedURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a URL")
	}
	// Errors name the host only: a subscribe URL holds a token.
	if u.Scheme != "https" || u.Opaque != "" || u.Host == "" {
		return nil, fmt.Errorf("not an https URL (scheme %q, host %q)", u.Scheme, u.Host)
	}
	if u.User != nil {
		return nil, fmt.Errorf("URL on %s carries user info", u.Host)
	}
	if v.AllowHost != nil && v.AllowHost(u.Host) {
		return u, nil
	}
	if u.Port() != "" || !isSNSHost(strings.ToLower(u.Hostname())) {
		return nil, fmt.Errorf("host %s is not an Amazon SNS host", u.Host)
	}
	return u, nil
}

// isSNSHost reports whether host is a regional SNS endpoint.
func isSNSHost(host string) bool {
	rest, ok := strings.CutPrefix(host, "sns.")
	if !ok {
		rest, ok = strings.CutPrefix(host, "sns-fips.")
	}
	if !ok {
		return false
	}
	region, ok := strings.CutSuffix(rest, ".amazonaws.com")
	if !ok {
		region, ok = strings.CutSuffix(rest, ".amazonaws.com.cn")
	}
	return ok && isRegion(region)
}

// isRegion reports whether s reads like an AWS region: "us-east-1",
// "cn-north-1", "us-gov-west-1".
func isRegion(s string) bool {
	if len(s) < 4 || !strings.Contains(s, "-") {
		return false
	}
	if s[0] < 'a' || s[0] > 'z' || s[len(s)-1] < '0' || s[len(s)-1] > '9' {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			return false
		}
	}
	return true
}
