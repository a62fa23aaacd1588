package notify

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestWebhooksRefuseInternalAddresses(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	_, err := publicOnlyClient(5*time.Second).Post(srv.URL, "application/json", nil)
	var pe *ErrPrivateAddress
	if !errors.As(err, &pe) {
		t.Fatalf("posting to a loopback receiver: %v, want ErrPrivateAddress", err)
	}
	// A public receiver redirecting to an internal one is refused at the
	// redirect's dial too: the check is in the dialer, for every connection.
	for addr, public := range map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "192.168.0.1": false, "172.16.5.4": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::1": false, "fd00::1": false,
		"fe80::1": false, "::ffff:127.0.0.1": false, "8.8.8.8": true, "2001:4860:4860::8888": true, "93.184.216.34": true,
		// IPv6 wrapping IPv4 (NAT64, 6to4): judged by the IPv4 address.
		"64:ff9b::7f00:1": false, "64:ff9b::a9fe:a9fe": false, "64:ff9b::10.0.0.1": false, "64:ff9b::808:808": true,
		"2002:7f00:1::1": false, "2002:c0a8:101::": false, "2002:a9fe:a9fe::1": false, "2002:808:808::1": true,
		"64:ff9b:1::808:808": false,
	} {
		if got := isPublic(netip.MustParseAddr(addr).Unmap()); got != public {
			t.Errorf("isPublic(%s) = %v, want %v", addr, got, public)
		}
	}
	// The operator's opt-in lets internal receivers through.
	d := NewDispatcher(DispatcherConfig{AllowPrivateWebhooks: true})
	resp, err := d.client.Post(srv.URL, "application/json", nil)
	if err != nil {
		t.Fatalf("with AllowPrivateWebhooks: %v", err)
	}
	resp.Body.Close()
}
