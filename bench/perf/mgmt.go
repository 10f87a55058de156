package perf

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// PermPermissions are the regex permissions of PermUser on vhost "/": its
// own queues and the default exchange (named amq.default in permission
// checks, as RabbitMQ does), nothing else.
const (
	PermConfigure = `^perf-.*`
	PermWrite     = `^(perf-.*|amq\.default)$`
	PermRead      = `^perf-.*`
)

// CreatePermUser creates PermUser with regex permissions on vhost "/"
// through the RabbitMQ-compatible management API at base
// (http://admin:pass@host:port); undo deletes it.
func CreatePermUser(base string) (undo func(), err error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		return nil, err
	}
	call := func(method, path, body string) error {
		req, err := http.NewRequest(method, u.Scheme+"://"+u.Host+path, bytes.NewBufferString(body))
		if err != nil {
			return err
		}
		if u.User != nil {
			pw, _ := u.User.Password()
			req.SetBasicAuth(u.User.Username(), pw)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
		if err != nil {
			return err
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			return fmt.Errorf("%s %s: %s %s", method, path, resp.Status, msg)
		}
		return nil
	}
	user := "/api/users/" + PermUser
	if err := call("PUT", user, fmt.Sprintf(`{"password":%q,"tags":""}`, PermPassword)); err != nil {
		return nil, err
	}
	undo = func() { _ = call("DELETE", user, "") }
	perm := fmt.Sprintf(`{"configure":%q,"write":%q,"read":%q}`, PermConfigure, PermWrite, PermRead)
	if err := call("PUT", "/api/permissions/%2F/"+PermUser, perm); err != nil {
		undo()
		return nil, err
	}
	return undo, nil
}
