// Package apitest is a small client of Shelf's JSON API for tests: a cookie
// jar, the CSRF token of the session, or a Bearer token.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"testing"
)

// Client calls one Shelf server as one user.
type Client struct {
	T     testing.TB
	Base  string // server URL without trailing slash
	HTTP  *http.Client
	Token string // Bearer token, when set
	CSRF  string // session CSRF token, sent on every request when set
}

// New returns an anonymous client of the server at base.
func New(t testing.TB, base string) *Client {
	jar, _ := cookiejar.New(nil)
	return &Client{T: t, Base: base, HTTP: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// Response is a decoded answer.
type Response struct {
	Status int
	Header http.Header
	Body   map[string]any
	Raw    []byte
}

// ErrorCode is the error.code of an error answer.
func (r Response) ErrorCode() string {
	e, _ := r.Body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// Obj returns the object under key.
func (r Response) Obj(key string) map[string]any {
	m, _ := r.Body[key].(map[string]any)
	return m
}

// List returns the array under key.
func (r Response) List(key string) []any {
	l, _ := r.Body[key].([]any)
	return l
}

// Do sends a request. body may be nil, a string (sent raw) or a value sent
// as JSON.
func (c *Client) Do(method, path string, body any) Response {
	c.T.Helper()
	return c.DoWith(method, path, body, nil)
}

// DoWith is Do with extra request headers.
func (c *Client) DoWith(method, path string, body any, header http.Header) Response {
	c.T.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case Multipart:
		rd, ctype = b.Body, b.ContentType
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.T.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.Base+path, rd)
	if err != nil {
		c.T.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	if c.CSRF != "" {
		req.Header.Set("X-CSRF-Token", c.CSRF)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.T.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := Response{Status: resp.StatusCode, Header: resp.Header, Body: map[string]any{}, Raw: raw}
	if len(raw) > 0 && bytes.HasPrefix(bytes.TrimSpace(raw), []byte("{")) {
		_ = json.Unmarshal(raw, &out.Body)
	}
	return out
}

// Must sends a request and fails the test unless the status is want.
func (c *Client) Must(want int, method, path string, body any) Response {
	c.T.Helper()
	r := c.Do(method, path, body)
	if r.Status != want {
		c.T.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, want, r.Raw)
	}
	return r
}

// Multipart is a prepared multipart/form-data body.
type Multipart struct {
	Body        io.Reader
	ContentType string
}

// Signup creates an account with its admin and returns a client signed in
// as that admin with a session, plus the signup answer.
func Signup(t testing.TB, base, email, account string) (*Client, Response) {
	t.Helper()
	c := New(t, base)
	r := c.Must(http.StatusCreated, "POST", "/api/v1/signup", map[string]any{"email": email, "password": Password, "account_name": account})
	c.Login(email, Password)
	return c, r
}

// Password is the password Signup gives every user.
const Password = "a good long password"

// Login signs in with a session and keeps its CSRF token.
func (c *Client) Login(email, password string) {
	c.T.Helper()
	r := c.Must(http.StatusOK, "POST", "/api/v1/login", map[string]any{"email": email, "password": password})
	c.CSRF, _ = r.Body["csrf_token"].(string)
}

// Num reads a JSON number as int64.
func Num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}
