package notify

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// WebhooksOption changes how Webhooks checks a webhook.
type WebhooksOption func(*Webhooks)

// AllowPrivateTargets lets webhooks point at loopback, private and
// link-local addresses (the operator's SHELF_WEBHOOK_ALLOW_PRIVATE, the
// same setting the dispatcher delivers with). Off, such a webhook is
// refused when it is added or changed, instead of failing every delivery
// until it disables itself.
func AllowPrivateTargets(allow bool) WebhooksOption {
	return func(w *Webhooks) { w.allowPrivate = allow }
}

// WithResolver sets how host names are looked up for the address check
// (default: the system resolver); tests pass a fixed table.
func WithResolver(lookup func(ctx context.Context, host string) ([]netip.Addr, error)) WebhooksOption {
	return func(w *Webhooks) { w.lookup = lookup }
}

// lookupTimeout bounds the DNS look-up made when a webhook is saved.
const lookupTimeout = 3 * time.Second

func systemLookup(ctx context.Context, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
}

// checkTarget refuses a webhook URL whose host is, or resolves to, an
// address the dispatcher would never deliver to (see ssrf.go), unless the
// operator allows private targets. A name that cannot be resolved now is
// taken: DNS may not be set up yet, and every delivery checks the address
// it actually connects to anyway.
func (w *Webhooks) checkTarget(ctx context.Context, rawURL string) error {
	if w.allowPrivate {
		return nil
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return &WebhookError{Field: "url", Message: "url must be an http:// or https:// URL"}
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if a, err := netip.ParseAddr(host); err == nil {
		return privateTargetError(host, a.Unmap())
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return privateTargetError(host, netip.MustParseAddr("127.0.0.1"))
	}
	lctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	addrs, err := w.lookup(lctx, host)
	if err != nil {
		return nil
	}
	for _, a := range addrs {
		if err := privateTargetError(host, a.Unmap()); err != nil {
			return err
		}
	}
	return nil
}

// privateTargetError is the refusal of an address that is not public, or
// nil for a public one.
func privateTargetError(host string, a netip.Addr) error {
	if isPublic(a) {
		return nil
	}
	where := host
	if host != a.String() {
		where = fmt.Sprintf("%s (%s)", host, a)
	}
	return &WebhookError{Field: "url", Message: fmt.Sprintf(
		"%s is %s, which Shelf does not send webhooks to: use a public address. "+
			"If your receiver runs on your own network, the operator can allow it with SHELF_WEBHOOK_ALLOW_PRIVATE=true",
		where, addressKind(a))}
}

// addressKind names the kind of a non-public address in plain words.
func addressKind(a netip.Addr) string {
	switch {
	case nat64.Contains(a), nat64Local.Contains(a), sixToFour.Contains(a):
		return "an IPv6 address wrapping an internal IPv4 address (NAT64 or 6to4)"
	case a.IsLoopback():
		return "a loopback address (this server itself)"
	case a.IsLinkLocalUnicast(), a.IsLinkLocalMulticast():
		return "a link-local address (such as a cloud metadata service)"
	case a.IsPrivate(), cgnat.Contains(a):
		return "a private network address"
	case a.IsUnspecified():
		return "an unspecified address"
	default:
		return "a multicast or reserved address"
	}
}
