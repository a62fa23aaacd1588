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

func isPublic(a netip.Addr) bool {
	return a.IsValid() && !a.IsLoopback() && !a.IsPrivate() && !a.IsLinkLocalUnicast() && !a.IsLinkLocalMulticast() &&
		!a.IsInterfaceLocalMulticast() && !a.IsMulticast() && !a.IsUnspecified() && !cgnat.Contains(a)
}
