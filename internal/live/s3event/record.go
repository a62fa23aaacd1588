// Package s3event turns the body of an S3 bucket event notification, as
// posted to Shelf's storage events endpoint, into the object keys that
// changed.
//
// A body is one of:
//
//   - the S3 event notification JSON itself, {"Records":[...]}, as MinIO's
//     webhook target, versitygw's --event-webhook-url and SNS raw message
//     delivery send it. It carries no signature: the secret token in the
//     endpoint's path is what authenticates it.
//   - an Amazon SNS HTTP(S) message whose Message is that JSON. It is always
//     checked against its signature, header or no header.
//   - an S3 test event (AWS's when notifications are configured, versitygw's
//     when it starts): no records, no error.
//
// Anything else is ErrMalformed. The caller limits the body's size (the
// endpoint reads at most 1 MiB); this package bounds what a body may hold.
package s3event

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Limits on one message, beyond which it is ErrMalformed.
const (
	// MaxRecords is far above what a sender puts in one message (AWS and
	// versitygw send one record, MinIO one per object).
	MaxRecords = 10_000
	// MaxKeyBytes is S3's limit on an object key, in UTF-8 bytes.
	MaxKeyBytes = 1024
)

var (
	// ErrMalformed is a body that is not an event notification Shelf can
	// read: bad JSON, a record without a bucket or key, a key that is not
	// valid URL encoding, or over the limits. The handler answers 400.
	ErrMalformed = errors.New("malformed S3 event notification")
	// ErrSignature is an SNS message that does not prove it comes from
	// Amazon SNS: unsigned, wrongly signed, of an unknown SignatureVersion,
	// or with a signing certificate or subscribe URL off SNS's hosts. The
	// handler answers 403.
	ErrSignature = errors.New("SNS message signature not valid")
)

// Record is one object that was written or removed.
type Record struct {
	// Created is an object written: s3:ObjectCreated:Put, Post, Copy,
	// CompleteMultipartUpload (and any new ObjectCreated kind AWS adds).
	Created bool
	// Removed is an object gone: s3:ObjectRemoved:* (Delete,
	// DeleteMarkerCreated; MinIO's DeleteAllVersions and NoOP; versitygw's
	// DeleteObjects) and lifecycle expirations.
	Removed bool
	// Event is the event name without the "s3:" prefix that MinIO and
	// versitygw put and AWS leaves out, e.g. "ObjectCreated:Put".
	Event  string
	Bucket string
	// Key is the object key as stored, decoded.
	Key string
	// Size is the object's size in bytes; 0 for removals.
	Size int64
	// ETag is the object's entity tag without quotes (AWS sends it bare,
	// versitygw quoted).
	ETag string
	// Sequencer orders events on one key: pad the shorter of two with
	// leading zeros, then the greater one is the later event. versitygw's
	// is a counter that restarts with the process.
	Sequencer string
}

// classify maps an event name to what it means for the catalog. Names come
// as "s3:ObjectCreated:Put" (MinIO, versitygw) or "ObjectCreated:Put" (AWS).
//
// Skipped, because the object's listing and content stay as they were:
// ObjectRestore:* (a temporary copy of an archived object), Replication:*
// (about the replica elsewhere), ObjectTagging:*, ObjectAcl:Put,
// LifecycleTransition and IntelligentTiering (storage class only),
// ReducedRedundancyLostObject (the key stays listed; nothing to re-read),
// MinIO's ObjectAccessed:*, ObjectTransition:*, Scanner:*, Bucket*:* and its
// metadata-only ObjectCreated:PutTagging, DeleteTagging, PutRetention and
// PutLegalHold.
func classify(name string) (created, removed bool) {
	category, detail, _ := strings.Cut(strings.TrimPrefix(name, "s3:"), ":")
	switch category {
	case "ObjectCreated":
		switch detail {
		case "PutTagging", "DeleteTagging", "PutRetention", "PutLegalHold":
			return false, false
		}
		return true, false
	case "ObjectRemoved", "LifecycleExpiration", "LifecycleDelMarkerExpiration":
		return false, true
	}
	return false, false
}

// keysAreRaw reports whether a record's key is the key itself rather than
// its URL encoding. versitygw (s3event/event.go) takes the key from the
// request path after url.PathUnescape and marks every record with one of
// these configuration IDs; AWS and MinIO URL-encode keys ('+' for space).
func keysAreRaw(configurationID string) bool {
	switch configurationID {
	case "webhook-global", "kafka-global", "nats-global", "rabbitmq-global":
		return true
	}
	return false
}

// document is an S3 event notification body. MinIO adds "EventName" and
// "Key" at the top, which say nothing the records do not.
type document struct {
	Records *[]json.RawMessage `json:"Records"`
	// Event is "s3:TestEvent" in the test message AWS sends when
	// notifications are configured and versitygw sends when it starts.
	Event string `json:"Event"`
}

type wireRecord struct {
	EventName string `json:"eventName"`
	S3        struct {
		ConfigurationID string `json:"configurationId"`
		Bucket          struct {
			Name string `json:"name"`
		} `json:"bucket"`
		Object struct {
			Key       *string `json:"key"`
			Size      int64   `json:"size"`
			ETag      string  `json:"eTag"`
			Sequencer string  `json:"sequencer"`
		} `json:"object"`
	} `json:"s3"`
}

// parseDocument reads an S3 event notification body. test is true for a
// test event, which has no records.
func parseDocument(body []byte) (records []Record, test bool, err error) {
	var doc document
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, false, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if doc.Records == nil {
		if doc.Event == "s3:TestEvent" {
			return nil, true, nil
		}
		return nil, false, fmt.Errorf("%w: no Records (is the sender posting S3 event notifications?)", ErrMalformed)
	}
	if n := len(*doc.Records); n > MaxRecords {
		return nil, false, fmt.Errorf("%w: %d records, more than %d", ErrMalformed, n, MaxRecords)
	}
	for i, raw := range *doc.Records {
		var wr wireRecord
		if err := json.Unmarshal(raw, &wr); err != nil {
			return nil, false, fmt.Errorf("%w: record %d: %w", ErrMalformed, i, err)
		}
		created, removed := classify(wr.EventName)
		if !created && !removed {
			continue
		}
		r, err := wr.record(created, removed)
		if err != nil {
			return nil, false, fmt.Errorf("%w: record %d (%s): %s", ErrMalformed, i, wr.EventName, err)
		}
		records = append(records, r)
	}
	return records, false, nil
}

func (wr wireRecord) record(created, removed bool) (Record, error) {
	if wr.S3.Bucket.Name == "" {
		return Record{}, errors.New("no bucket name")
	}
	if wr.S3.Object.Key == nil || *wr.S3.Object.Key == "" {
		return Record{}, errors.New("no object key")
	}
	key := *wr.S3.Object.Key
	if !keysAreRaw(wr.S3.ConfigurationID) {
		decoded, err := url.QueryUnescape(key)
		if err != nil {
			return Record{}, fmt.Errorf("object key %q is not valid URL encoding", key)
		}
		key = decoded
	}
	if len(key) > MaxKeyBytes {
		return Record{}, fmt.Errorf("object key of %d bytes, more than S3's %d", len(key), MaxKeyBytes)
	}
	if !utf8.ValidString(key) {
		return Record{}, errors.New("object key is not UTF-8")
	}
	if wr.S3.Object.Size < 0 {
		return Record{}, fmt.Errorf("negative object size %d", wr.S3.Object.Size)
	}
	etag := wr.S3.Object.ETag
	if len(etag) >= 2 && etag[0] == '"' && etag[len(etag)-1] == '"' {
		etag = etag[1 : len(etag)-1]
	}
	return Record{
		Created:   created,
		Removed:   removed,
		Event:     strings.TrimPrefix(wr.EventName, "s3:"),
		Bucket:    wr.S3.Bucket.Name,
		Key:       key,
		Size:      wr.S3.Object.Size,
		ETag:      etag,
		Sequencer: wr.S3.Object.Sequencer,
	}, nil
}
