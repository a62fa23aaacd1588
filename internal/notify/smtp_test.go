package notify_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/shelf-dam/shelf/internal/notify"
)

// smtpServer is a tiny in-process SMTP server that keeps what it receives.
type smtpServer struct {
	Addr string

	mu       sync.Mutex
	messages []smtpMessage
	got      chan smtpMessage
}

type smtpMessage struct {
	From string
	To   []string
	Auth string // decoded AUTH PLAIN credentials, "" without auth
	Data string
}

func startSMTP(t *testing.T) *smtpServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &smtpServer{Addr: l.Addr().String(), got: make(chan smtpMessage, 10)}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *smtpServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	say := func(line string) { _, _ = c.Write([]byte(line + "\r\n")) }
	say("220 localhost test SMTP")
	var m smtpMessage
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		cmd := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250-localhost")
			say("250 AUTH PLAIN")
		case strings.HasPrefix(cmd, "AUTH PLAIN "):
			dec, _ := base64.StdEncoding.DecodeString(line[len("AUTH PLAIN "):])
			m.Auth = strings.ReplaceAll(string(dec), "\x00", "|")
			say("235 ok")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m.From = strings.Trim(line[len("MAIL FROM:"):], "<> ")
			say("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			m.To = append(m.To, strings.Trim(line[len("RCPT TO:"):], "<> "))
			say("250 ok")
		case cmd == "DATA":
			say("354 go on")
			var b strings.Builder
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				b.WriteString(l)
			}
			m.Data = b.String()
			s.mu.Lock()
			s.messages = append(s.messages, m)
			s.mu.Unlock()
			s.got <- m
			m = smtpMessage{}
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("250 ok")
		}
	}
}

func TestMailerSends(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t)
	m := notify.NewMailer(notify.SMTPConfig{Addr: srv.Addr, From: "shelf@example.test", User: "shelf", Password: "pw"})
	err := m.Send(context.Background(), notify.Message{
		To:      []string{"ada@example.test", "bob@example.test"},
		Subject: "Shelf: sync failed",
		Body:    "line one\n.line starting with a dot\n",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := <-srv.got
	if got.From != "shelf@example.test" || strings.Join(got.To, ",") != "ada@example.test,bob@example.test" {
		t.Errorf("envelope = %s → %v", got.From, got.To)
	}
	if got.Auth != "|shelf|pw" {
		t.Errorf("auth = %q, want PLAIN shelf/pw", got.Auth)
	}
	for _, want := range []string{"Subject: Shelf: sync failed\r\n", "To: ada@example.test, bob@example.test\r\n", "\r\nline one\r\n..line starting with a dot\r\n"} {
		if !strings.Contains(got.Data, want) {
			t.Errorf("message lacks %q:\n%s", want, got.Data)
		}
	}
}

func TestMailerRefusesHeaderInjection(t *testing.T) {
	t.Parallel()
	m := notify.NewMailer(notify.SMTPConfig{Addr: "127.0.0.1:1", From: "shelf@example.test"})
	if err := m.Send(context.Background(), notify.Message{To: []string{"a@example.test\r\nBcc: x@example.test"}, Subject: "s"}); err == nil {
		t.Fatal("an address with a line break was accepted")
	}
	if (&notify.Mailer{}).Enabled() || (*notify.Mailer)(nil).Enabled() {
		t.Fatal("a mailer without a server reports enabled")
	}
}

func TestSignVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"type":"sync.completed"}`)
	sig := notify.Sign([]byte("k"), body)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("signature %q", sig)
	}
	if err := notify.Verify([]byte("k"), body, sig); err != nil {
		t.Fatal(err)
	}
	if notify.Verify([]byte("other"), body, sig) == nil || notify.Verify([]byte("k"), append(body, ' '), sig) == nil || notify.Verify([]byte("k"), body, sig[7:]) == nil {
		t.Fatal("a wrong secret, body or header format verified")
	}
}
