package s3event

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
)

// SNS message types, in the body's Type and the x-amz-sns-message-type
// header.
const (
	snsNotification = "Notification"
	snsSubscription = "SubscriptionConfirmation"
	snsUnsubscribe  = "UnsubscribeConfirmation"
)

// snsEnvelope is an SNS HTTP(S) message. The pointer fields tell a field
// left out from an empty one: Subject is signed only when present, and the
// others mark a body as SNS's.
type snsEnvelope struct {
	Type             string  `json:"Type"`
	MessageID        string  `json:"MessageId"`
	Token            string  `json:"Token"`
	TopicArn         *string `json:"TopicArn"`
	Subject          *string `json:"Subject"`
	Message          string  `json:"Message"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion *string `json:"SignatureVersion"`
	Signature        *string `json:"Signature"`
	SigningCertURL   *string `json:"SigningCertURL"`
	SubscribeURL     string  `json:"SubscribeURL"`
}

// isSNS reports whether a body must be treated, and so verified, as an SNS
// message. It does not rest on the header alone, which anyone can leave
// out; a header without an SNS body is raw message delivery, whose body is
// the S3 event itself.
func (e snsEnvelope) isSNS(header http.Header) bool {
	if e.Type == "" {
		return false
	}
	return header.Get("X-Amz-Sns-Message-Type") != "" ||
		e.TopicArn != nil || e.SignatureVersion != nil || e.Signature != nil || e.SigningCertURL != nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// stringToSign is the text SNS signs: the message's fields in byte order,
// each as "Name\nvalue\n", from the AWS guide "Verifying the signatures of
// Amazon SNS messages".
func (e snsEnvelope) stringToSign() (string, error) {
	var b strings.Builder
	field := func(name, value string) {
		b.WriteString(name)
		b.WriteByte('\n')
		b.WriteString(value)
		b.WriteByte('\n')
	}
	switch e.Type {
	case snsNotification:
		field("Message", e.Message)
		field("MessageId", e.MessageID)
		if e.Subject != nil {
			field("Subject", *e.Subject)
		}
		field("Timestamp", e.Timestamp)
		field("TopicArn", deref(e.TopicArn))
		field("Type", e.Type)
	case snsSubscription, snsUnsubscribe:
		field("Message", e.Message)
		field("MessageId", e.MessageID)
		field("SubscribeURL", e.SubscribeURL)
		field("Timestamp", e.Timestamp)
		field("Token", e.Token)
		field("TopicArn", deref(e.TopicArn))
		field("Type", e.Type)
	default:
		return "", fmt.Errorf("%w: unknown SNS message type %q", ErrMalformed, e.Type)
	}
	return b.String(), nil
}

// signatureHash is the hash of a SignatureVersion: 1 is SHA1withRSA, 2 is
// SHA256withRSA.
func signatureHash(version string) (crypto.Hash, error) {
	switch version {
	case "1":
		return crypto.SHA1, nil
	case "2":
		return crypto.SHA256, nil
	}
	return 0, fmt.Errorf("%w: unknown SignatureVersion %q", ErrSignature, version)
}

// checkSignature verifies the message's signature with the signing
// certificate's key.
func (e snsEnvelope) checkSignature(key *rsa.PublicKey, hash crypto.Hash, text string) error {
	sig, err := base64.StdEncoding.DecodeString(deref(e.Signature))
	if err != nil {
		return fmt.Errorf("%w: Signature is not base64", ErrSignature)
	}
	var digest []byte
	switch hash {
	case crypto.SHA1:
		sum := sha1.Sum([]byte(text))
		digest = sum[:]
	default:
		sum := sha256.Sum256([]byte(text))
		digest = sum[:]
	}
	if err := rsa.VerifyPKCS1v15(key, hash, digest, sig); err != nil {
		return fmt.Errorf("%w: the signature does not match the message (was it altered, or not sent by SNS?)", ErrSignature)
	}
	return nil
}
