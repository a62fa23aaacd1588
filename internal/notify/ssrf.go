package notify

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrPrivateAddress is why a webhook to an internal address is refused.
type ErrPrivateAddress struct{ Addr string }

func (e *ErrPrivateAddress) Error() string {
	return fmt.Sprintf("webhook address %s is on a private or internal network; the operator can allow such webhooks with SHELF_WEBHOOK_ALLOW_PRIVATE=true", e.Addr)
}

// publicOnlyClient returns an HTTP client that connects only to public
// addresses: loopback, private, link-local (cloud metadata), CGNAT,
// unspecified and multicast addresses are refused at dial time, after DNS
// resolution and on every redirect, so a webhook cannot reach the
// server's own network. Proxies from the environment are not used.
func publicOnlyClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{
		Timeout: 10 * time.Second,
		Control: func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return &ErrPrivateAddress{Addr: address}
			}
			if !isPublic(ap.Addr().Unmap()) {
				return &ErrPrivateAddress{Addr: ap.Addr().String()}
			}
			return nil
		},
	}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout: 10 * time.Second,
		MaxIdleConns:        16,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: transport}
}

// cgnat is the shared address space of carrier-grade NAT (RFC 6598).
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// IPv6 prefixes that carry an IPv4 address: NAT64 (RFC 6052, the
// well-known prefix: the IPv4 address in the last 32 bits) and 6to4 (RFC
// 3056: in bits 16 to 47). The local-use NAT64 prefix (RFC 8215) is
// internal by definition.
var (
	nat64      = netip.MustParsePrefix("64:ff9b::/96")
	nat64Local = netip.MustParsePrefix("64:ff9b:1::/48")
	sixToFour  = netip.MustParsePrefix("2002::/16")
)

// isPublic reports whether a is an address on the public internet; an
// IPv6 address wrapping an IPv4 one (NAT64, 6to4) is judged by that.
func isPublic(a netip.Addr) bool {
	a = a.Unmap()
	b := a.As16()
	switch {
	case nat64.Contains(a):
		return isPublic(netip.AddrFrom4([4]byte{b[12], b[13], b[14], b[15]}))
	case sixToFour.Contains(a):
		return isPublic(netip.AddrFrom4([4]byte{b[2], b[3], b[4], b[5]}))
	case nat64Local.Contains(a):
		return false
	}
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() && !a.IsLinkLocalMulticast() &&
		!a.IsInterfaceLocalMulticast() && !a.IsMulticast() && !a.IsUnspecified() && !cgnat.Contains(a)
}
