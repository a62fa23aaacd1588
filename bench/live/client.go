package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"

	"github.com/shelf-dam/shelf/internal/catalog"
)

// client calls Shelf's JSON API as one signed-in user, as a script or the
// web page would.
type client struct {
	base string
	http *http.Client
	csrf string
}

const benchPassword = "a long benchmark password"

// signup creates an account with its admin, signs in and returns the
// client and the account's ID.
func signup(base, email, account string) (*client, int64, error) {
	jar, _ := cookiejar.New(nil)
	c := &client{base: base, http: &http.Client{Jar: jar, Timeout: time.Minute}}
	var su struct {
		Account struct{ ID int64 } `json:"account"`
	}
	if err := c.call("POST", "/api/v1/signup", map[string]any{"email": email, "password": benchPassword, "account_name": account}, http.StatusCreated, &su); err != nil {
		return nil, 0, err
	}
	var in struct {
		CSRF string `json:"csrf_token"`
	}
	if err := c.call("POST", "/api/v1/login", map[string]any{"email": email, "password": benchPassword}, http.StatusOK, &in); err != nil {
		return nil, 0, err
	}
	c.csrf = in.CSRF
	return c, su.Account.ID, nil
}

// call sends body as JSON and decodes the answer into out (when not nil);
// an answer other than want is an error.
func (c *client) call(method, path string, body any, want int, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// connect connects the account's storage and waits for the first sync.
func (c *client) connect(ctx context.Context, s *shelf, accountID int64, body map[string]any) error {
	var r struct {
		Run struct{ ID int64 } `json:"sync_run"`
	}
	if err := c.call("PUT", "/api/v1/storage", body, http.StatusOK, &r); err != nil {
		return err
	}
	run, err := s.waitRun(ctx, accountID, r.Run.ID, 5*time.Minute)
	if err != nil {
		return err
	}
	if run.State != catalog.RunSucceeded {
		return fmt.Errorf("the first sync of the storage ended %s: %s", run.State, run.Error)
	}
	return nil
}

// eventsURL is the storage's events URL as Settings → Storage shows it.
func (c *client) eventsURL() (string, error) {
	var r struct {
		Storage struct {
			EventsURL string `json:"events_url"`
		} `json:"storage"`
	}
	if err := c.call("GET", "/api/v1/storage", nil, http.StatusOK, &r); err != nil {
		return "", err
	}
	return r.Storage.EventsURL, nil
}

// waitLive waits until a process watches the account and applied the
// catch-up batch it starts with; it returns the live mode ("push",
// "polling").
func (c *client) waitLive(ctx context.Context) (string, error) {
	var mode string
	err := poll(ctx, 2*time.Minute, 100*time.Millisecond, func() (bool, error) {
		var st struct {
			Mode  string `json:"live_mode"`
			State string `json:"state"`
		}
		if err := c.call("GET", "/api/v1/sync", nil, http.StatusOK, &st); err != nil {
			return false, err
		}
		if st.Mode == "" || st.State != "idle" {
			return false, nil
		}
		mode = st.Mode
		var runs struct {
			Runs []struct{ Trigger, State string } `json:"runs"`
		}
		if err := c.call("GET", "/api/v1/sync/runs", nil, http.StatusOK, &runs); err != nil {
			return false, err
		}
		// The watcher's catch-up: a reconciliation (an auto sync) for
		// S3 and local folders, a live batch reading the feed for Drive.
		for _, r := range runs.Runs {
			if (r.Trigger == catalog.TriggerLive || r.Trigger == catalog.TriggerAuto) && r.State == catalog.RunSucceeded {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return "", fmt.Errorf("waiting for the account to be watched live: %w", err)
	}
	return mode, nil
}

// paths lists the whole library through GET /api/v1/assets and returns the
// set of asset paths.
func (c *client) paths() (map[string]bool, error) {
	out := map[string]bool{}
	cursor := ""
	for {
		q := url.Values{"recursive": {"true"}, "limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var page struct {
			Assets []struct{ Path string } `json:"assets"`
			Next   *string                 `json:"next_cursor"`
		}
		if err := c.call("GET", "/api/v1/assets?"+q.Encode(), nil, http.StatusOK, &page); err != nil {
			return nil, err
		}
		for _, a := range page.Assets {
			out[a.Path] = true
		}
		if page.Next == nil || *page.Next == "" {
			return out, nil
		}
		cursor = *page.Next
	}
}

// fullSync runs a manual full sync and returns how many library rows it
// changed (0: the live batches had left nothing behind); -1 when the plan
// refuses a manual sync now.
func (c *client) fullSync(ctx context.Context, s *shelf, accountID int64) (int64, error) {
	var r struct {
		Run struct{ ID int64 } `json:"run"`
	}
	err := c.call("POST", "/api/v1/sync", nil, http.StatusAccepted, &r)
	if err != nil {
		return -1, err
	}
	run, err := s.waitRun(ctx, accountID, r.Run.ID, 10*time.Minute)
	if err != nil {
		return -1, err
	}
	if run.State != catalog.RunSucceeded {
		return -1, fmt.Errorf("the full sync ended %s: %s", run.State, run.Error)
	}
	return run.Counts.Changes(), nil
}
