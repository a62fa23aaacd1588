package notify

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/smtp"
	"strings"
	"time"
)

// SMTPConfig says how to send email (SHELF_SMTP_*). Addr empty means email
// is off.
type SMTPConfig struct {
	Addr     string // host:port
	From     string
	User     string
	Password string
}

// Enabled reports whether email can be sent.
func (c SMTPConfig) Enabled() bool { return c.Addr != "" && c.From != "" }

// Mailer sends plain-text email through an SMTP server with net/smtp:
// STARTTLS when the server offers it, PLAIN auth when a user is set.
type Mailer struct {
	cfg SMTPConfig
}

// NewMailer returns a mailer for cfg.
func NewMailer(cfg SMTPConfig) *Mailer { return &Mailer{cfg: cfg} }

// Enabled reports whether the mailer has a server to send through.
func (m *Mailer) Enabled() bool { return m != nil && m.cfg.Enabled() }

// Message is one email.
type Message struct {
	To      []string
	Subject string
	Body    string
}

// Send delivers msg. It honours ctx for the connection and the whole
// exchange.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	if !m.Enabled() {
		return errors.New("sending email: SMTP is not configured; set SHELF_SMTP_ADDR and SHELF_SMTP_FROM")
	}
	if len(msg.To) == 0 {
		return errors.New("sending email: no recipients")
	}
	for _, a := range append([]string{m.cfg.From}, msg.To...) {
		if strings.ContainsAny(a, "\r\n") {
			return fmt.Errorf("sending email: address %q contains a line break", a)
		}
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return fmt.Errorf("connecting to SMTP server %s (SHELF_SMTP_ADDR): %w", m.cfg.Addr, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	} else {
		_ = conn.SetDeadline(time.Now().Add(time.Minute))
	}
	host, _, _ := net.SplitHostPort(m.cfg.Addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		_ = conn.Close()
		return fmt.Errorf("greeting SMTP server %s: %w", m.cfg.Addr, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(nil); err != nil {
			return fmt.Errorf("starting TLS with SMTP server %s: %w", m.cfg.Addr, err)
		}
	}
	if m.cfg.User != "" {
		if err := c.Auth(smtp.PlainAuth("", m.cfg.User, m.cfg.Password, host)); err != nil {
			return fmt.Errorf("signing in to SMTP server %s as %s (SHELF_SMTP_USER/PASSWORD): %w", m.cfg.Addr, m.cfg.User, err)
		}
	}
	if err := c.Mail(m.cfg.From); err != nil {
		return fmt.Errorf("SMTP MAIL FROM %s: %w", m.cfg.From, err)
	}
	for _, to := range msg.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("SMTP RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP DATA: %w", err)
	}
	if _, err := w.Write(formatMessage(m.cfg.From, msg)); err != nil {
		return fmt.Errorf("writing email body: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("finishing email: %w", err)
	}
	return c.Quit()
}

// formatMessage renders headers and body with CRLF line ends.
func formatMessage(from string, msg Message) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\n", from)
	fmt.Fprintf(&b, "To: %s\r\n", strings.Join(msg.To, ", "))
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", strings.ReplaceAll(msg.Subject, "\n", " ")))
	fmt.Fprintf(&b, "Date: %s\r\n", time.Now().UTC().Format(time.RFC1123Z))
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	body := strings.ReplaceAll(msg.Body, "\r\n", "\n")
	// The SMTP data writer dot-stuffs lines itself.
	for _, line := range strings.Split(body, "\n") {
		b.WriteString(line + "\r\n")
	}
	return []byte(b.String())
}
