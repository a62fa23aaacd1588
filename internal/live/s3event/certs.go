package s3event

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// maxCertBytes bounds a fetched certificate; SNS's are about 2 KB.
const maxCertBytes = 64 << 10

// signingCert is the part of an SNS signing certificate Shelf uses.
type signingCert struct {
	key       *rsa.PublicKey
	notBefore time.Time
	notAfter  time.Time
}

// signingKey returns the public key of the certificate at u, from the cache
// or fetched. The certificate came over TLS from an SNS host, which is what
// vouches for it; its validity period is checked on every use.
func (v *Verifier) signingKey(ctx context.Context, u *url.URL) (*rsa.PublicKey, error) {
	cacheKey := u.String()
	cert, ok := v.cachedCert(cacheKey)
	if !ok {
		var err error
		cert, err = v.fetchCert(ctx, u)
		if err != nil {
			return nil, err
		}
		v.cacheCert(cacheKey, cert)
	}
	if now := v.now(); now.Before(cert.notBefore) || now.After(cert.notAfter) {
		return nil, fmt.Errorf("%w: the signing certificate %s is valid only from %s to %s",
			ErrSignature, u.Redacted(), cert.notBefore.Format(time.RFC3339), cert.notAfter.Format(time.RFC3339))
	}
	return cert.key, nil
}

func (v *Verifier) cachedCert(key string) (signingCert, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	c, ok := v.certs[key]
	return c, ok
}

// cacheCert keeps a certificate, dropping the oldest one when the cache is
// full, so that messages naming many certificate URLs cannot grow it.
func (v *Verifier) cacheCert(key string, c signingCert) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if _, ok := v.certs[key]; ok {
		return
	}
	if len(v.order) >= maxCachedCerts {
		delete(v.certs, v.order[0])
		v.order = v.order[1:]
	}
	v.certs[key] = c
	v.order = append(v.order, key)
}

// fetchCert gets and parses a signing certificate. An answer SNS gives for
// a certificate that is not there is ErrSignature; a failure to reach SNS
// is not, so that the handler asks SNS to retry.
func (v *Verifier) fetchCert(ctx context.Context, u *url.URL) (signingCert, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return signingCert{}, fmt.Errorf("%w: SigningCertURL: %w", ErrSignature, err)
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return signingCert{}, fmt.Errorf("fetching the SNS signing certificate %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusOK:
	case resp.StatusCode >= 500:
		return signingCert{}, fmt.Errorf("fetching the SNS signing certificate %s: SNS answered %s", u.Redacted(), resp.Status)
	default:
		return signingCert{}, fmt.Errorf("%w: the signing certificate %s is not there (SNS answered %s)", ErrSignature, u.Redacted(), resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxCertBytes+1))
	if err != nil {
		return signingCert{}, fmt.Errorf("reading the SNS signing certificate %s: %w", u.Redacted(), err)
	}
	if len(data) > maxCertBytes {
		return signingCert{}, fmt.Errorf("%w: the signing certificate %s is over %d bytes", ErrSignature, u.Redacted(), maxCertBytes)
	}
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return signingCert{}, fmt.Errorf("%w: %s holds no PEM certificate", ErrSignature, u.Redacted())
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return signingCert{}, fmt.Errorf("%w: the signing certificate %s: %w", ErrSignature, u.Redacted(), err)
	}
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return signingCert{}, fmt.Errorf("%w: the signing certificate %s has no RSA key", ErrSignature, u.Redacted())
	}
	return signingCert{key: key, notBefore: cert.NotBefore, notAfter: cert.NotAfter}, nil
}
