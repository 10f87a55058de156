package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"
)

// Exit codes, for scripts (documented in usage and docs/OPERATIONS.md).
const (
	exitOK          = 0 // done
	exitRefused     = 1 // the broker refused the request (400, 405, 409...): bad arguments, precondition failed
	exitUsage       = 2 // bad command line
	exitUnreachable = 3 // no answer from the broker: refused, timed out, not HTTP, bad URL
	exitAuth        = 4 // 401: wrong credentials, or the user lacks the tag or vhost access it needs
	exitNotFound    = 5 // 404: the vhost, queue, exchange, user... does not exist
	exitServer      = 6 // 5xx or an answer warrenctl cannot read
	exitNegative    = 7 // the request worked but the answer is no: a health check failing, a message not routed
)

// cliError is an error with its exit code.
type cliError struct {
	code int
	msg  string
}

func (e *cliError) Error() string { return e.msg }

func fail(code int, format string, args ...any) error {
	return &cliError{code: code, msg: fmt.Sprintf(format, args...)}
}

// client talks to the management API.
type client struct {
	base       *url.URL
	user, pass string
	http       *http.Client
}

func newClient(rawURL, user, pass string, timeout time.Duration) (*client, error) {
	if !strings.Contains(rawURL, "://") {
		rawURL = "http://" + rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fail(exitUsage, "--url %q: want http://host:port or https://host:port", rawURL)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &client{base: u, user: user, pass: pass, http: &http.Client{Timeout: timeout}}, nil
}

// path joins segments, each escaped whole: the vhost "/" is "%2F".
func path(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// apiError is the management API's error body.
type apiError struct {
	Error  string `json:"error"`
	Reason any    `json:"reason"`
	Status string `json:"status"` // a health check's "failed"
}

// call sends method to /api+p with body (marshalled as JSON unless nil
// or already bytes) and decodes a JSON answer into out (if not nil). what
// names the object for a 404's message.
func (c *client) call(method, p string, query url.Values, body, out any, what string) error {
	return c.callWith(nil, method, p, query, body, out, what)
}

// callWith is call with extra request headers.
func (c *client) callWith(h http.Header, method, p string, query url.Values, body, out any, what string) error {
	u := *c.base
	u.RawPath = c.base.Path + "/api" + p
	u.Path, _ = url.PathUnescape(u.RawPath)
	if query != nil {
		u.RawQuery = query.Encode()
	}
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return fail(exitUsage, "%v", err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, u.String(), rd)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	req.SetBasicAuth(c.user, c.pass)
	for k, v := range h {
		req.Header[k] = v
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return c.unreachable(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return c.unreachable(err)
	}
	if resp.StatusCode/100 == 2 {
		if out == nil || len(bytes.TrimSpace(data)) == 0 {
			return nil
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fail(exitServer, "%s %s: answer is not the JSON expected: %v", method, u.Path, err)
		}
		return nil
	}
	return c.statusError(resp.StatusCode, data, what)
}

func (c *client) statusError(status int, data []byte, what string) error {
	var e apiError
	reason := strings.TrimSpace(string(data))
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		switch r := e.Reason.(type) {
		case string:
			reason = strings.TrimSpace(strings.ReplaceAll(r, "\n\n", ": "))
		case nil:
			reason = e.Error
		default:
			b, _ := json.Marshal(r)
			reason = string(b)
		}
	}
	if json.Unmarshal(data, &e) == nil && e.Status == "failed" {
		r, _ := e.Reason.(string)
		return fail(exitNegative, "%s", r)
	}
	switch {
	case status == http.StatusUnauthorized:
		if reason == "" || reason == "Login failed" {
			return fail(exitAuth, "authentication failed: user %q with this password is refused by %s (--username, --password)", c.user, c.base.Redacted())
		}
		return fail(exitAuth, "not authorised: user %q: %s", c.user, reason)
	case status == http.StatusNotFound:
		if what == "" {
			what = "object"
		}
		if reason == "Not Found" || reason == "" {
			return fail(exitNotFound, "not found: %s", what)
		}
		return fail(exitNotFound, "not found: %s (%s)", what, reason)
	case status >= 500:
		return fail(exitServer, "broker error (HTTP %d): %s", status, reason)
	default:
		if reason == "" {
			reason = http.StatusText(status)
		}
		return fail(exitRefused, "refused (HTTP %d): %s", status, reason)
	}
}

func (c *client) unreachable(err error) error {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return fail(exitUnreachable, "cannot reach the broker at %s: connection refused (is Warren running? is --url right?)", c.base.Redacted())
	case errors.As(err, &ne) && ne.Timeout():
		return fail(exitUnreachable, "cannot reach the broker at %s: no answer within %s (--timeout)", c.base.Redacted(), c.http.Timeout)
	}
	return fail(exitUnreachable, "cannot reach the broker at %s: %v", c.base.Redacted(), unwrapURL(err))
}

func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
