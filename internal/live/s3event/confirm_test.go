package s3event

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// confirmServer is a loopback SNS endpoint recording the confirmations it
// receives.
type confirmServer struct {
	*httptest.Server
	mu     sync.Mutex
	tokens []string
	status int
}

func newConfirmServer(t *testing.T, status int) *confirmServer {
	t.Helper()
	cs := &confirmServer{status: status}
	cs.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		if r.Method != http.MethodGet || r.URL.Query().Get("Action") != "ConfirmSubscription" {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		cs.tokens = append(cs.tokens, r.URL.Query().Get("Token"))
		if cs.status == http.StatusFound {
			http.Redirect(w, r, "https://evil.example.com/", http.StatusFound)
			return
		}
		w.WriteHeader(cs.status)
		_, _ = w.Write([]byte("<ConfirmSubscriptionResponse/>"))
	}))
	t.Cleanup(cs.Close)
	return cs
}

func (cs *confirmServer) received() []string {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return append([]string(nil), cs.tokens...)
}

// verifier returns a Verifier that trusts the loopback server as SNS.
func (cs *confirmServer) verifier() *Verifier {
	v := NewVerifier(cs.Client())
	v.AllowHost = func(host string) bool { return host == cs.Listener.Addr().String() }
	return v
}

func subscription(subscribeURL string) Message {
	return Message{Kind: KindSubscription, TopicArn: testTopic, MessageID: "m1", SubscribeURL: subscribeURL}
}

func TestConfirmSubscription(t *testing.T) {
	t.Parallel()
	cs := newConfirmServer(t, http.StatusOK)
	u := cs.URL + "/?Action=ConfirmSubscription&TopicArn=" + url.QueryEscape(testTopic) + "&Token=tok-1"
	if err := cs.verifier().ConfirmSubscription(context.Background(), subscription(u)); err != nil {
		t.Fatalf("ConfirmSubscription: %v", err)
	}
	if got := cs.received(); len(got) != 1 || got[0] != "tok-1" {
		t.Errorf("server received tokens %q, want [tok-1]", got)
	}
}

func TestConfirmSubscriptionOnSNSHost(t *testing.T) {
	t.Parallel()
	// The URL of a real confirmation, answered by a stand-in transport: the
	// production host rule lets it through.
	var env snsEnvelope
	if err := json.Unmarshal(readTestdata(t, "sns/subscription-confirmation-v1.json"), &env); err != nil {
		t.Fatal(err)
	}
	sns := newFakeSNS()
	sns.serve(env.SubscribeURL, []byte("<ConfirmSubscriptionResponse/>"))
	m := subscription(env.SubscribeURL)
	if err := NewVerifier(&http.Client{Transport: sns}).ConfirmSubscription(context.Background(), m); err != nil {
		t.Fatalf("ConfirmSubscription: %v", err)
	}
	if n := sns.fetches(m.SubscribeURL); n != 1 {
		t.Errorf("subscribe URL requested %d times, want 1", n)
	}
}

func TestConfirmSubscriptionRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		message   func(cs *confirmServer) Message
		status    int
		signature bool // ErrSignature, and no request made
	}{
		{
			name: "host not SNS's",
			message: func(*confirmServer) Message {
				return subscription("https://evil.example.com/?Action=ConfirmSubscription&Token=t")
			},
			signature: true,
		},
		{
			name: "metadata service",
			message: func(*confirmServer) Message {
				return subscription("https://169.254.169.254/latest/meta-data/?Action=ConfirmSubscription")
			},
			signature: true,
		},
		{
			name: "plain http",
			message: func(*confirmServer) Message {
				return subscription("http://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t")
			},
			signature: true,
		},
		{
			name: "loopback without AllowHost",
			message: func(cs *confirmServer) Message {
				return subscription(cs.URL + "/?Action=ConfirmSubscription&Token=t")
			},
			signature: true,
		},
		{
			name: "another action",
			message: func(cs *confirmServer) Message {
				return subscription(cs.URL + "/?Action=Unsubscribe&SubscriptionArn=x")
			},
			signature: true,
		},
		{
			name: "not a subscription message",
			message: func(cs *confirmServer) Message {
				m := subscription(cs.URL + "/?Action=ConfirmSubscription&Token=t")
				m.Kind = KindRecords
				return m
			},
		},
		{
			name: "sns says no",
			message: func(cs *confirmServer) Message {
				return subscription(cs.URL + "/?Action=ConfirmSubscription&Token=t")
			},
			status: http.StatusForbidden,
		},
		{
			name: "redirect not followed",
			message: func(cs *confirmServer) Message {
				return subscription(cs.URL + "/?Action=ConfirmSubscription&Token=t")
			},
			status: http.StatusFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			status := tt.status
			if status == 0 {
				status = http.StatusOK
			}
			cs := newConfirmServer(t, status)
			v := cs.verifier()
			if tt.name == "loopback without AllowHost" {
				v.AllowHost = nil
			}
			err := v.ConfirmSubscription(context.Background(), tt.message(cs))
			if err == nil {
				t.Fatal("ConfirmSubscription succeeded")
			}
			if errors.Is(err, ErrSignature) != tt.signature {
				t.Errorf("ConfirmSubscription: %v; ErrSignature = %v, want %v", err, !tt.signature, tt.signature)
			}
			if strings.Contains(err.Error(), "Token=") {
				t.Errorf("error %q shows the confirmation token", err)
			}
			if tt.signature || tt.status == 0 {
				if got := cs.received(); len(got) != 0 {
					t.Errorf("server received %d confirmations, want none", len(got))
				}
			}
		})
	}
}
