package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
)

// Webhook request headers.
const (
	// SignatureHeader carries "sha256=" and the hex HMAC-SHA256 of the raw
	// request body, keyed with the webhook's secret.
	SignatureHeader = "X-Shelf-Signature"
	// TimestampHeader carries the Unix time (seconds) of the attempt. The
	// body's "time" and "id" are covered by the signature; receivers use
	// them to reject replays and duplicates.
	TimestampHeader = "X-Shelf-Timestamp"
	// EventHeader names the event type, for routing without parsing.
	EventHeader = "X-Shelf-Event"
	// DeliveryHeader is the event ID, the same on every retry.
	DeliveryHeader = "X-Shelf-Delivery"
)

// Sign returns the SignatureHeader value for body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// ErrBadSignature: a webhook request's signature does not match its body.
var ErrBadSignature = errors.New("webhook signature does not match the body; check the webhook secret")

// Verify checks a SignatureHeader value against body and secret in
// constant time. Receivers written in Go may use it.
func Verify(secret, body []byte, header string) error {
	got, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return ErrBadSignature
	}
	want := Sign(secret, body)[len("sha256="):]
	if !hmac.Equal([]byte(got), []byte(want)) {
		return ErrBadSignature
	}
	return nil
}
