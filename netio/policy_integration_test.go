package netio_test

// Policies set through the management API take effect on queues a real
// client uses. In-process, the test starts Warren's management server on
// the shared broker; against WARREN_IT_URL it talks to that broker's
// management API (WARREN_MGMT_URL, default port 15672 on the same host).

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/mgmt"
)

var (
	mgmtOnce sync.Once
	mgmtBase string
	mgmtErr  error
)

// mgmtURL is the management API's base URL for the broker under test.
func mgmtURL(t *testing.T) string {
	t.Helper()
	mgmtOnce.Do(func() {
		if external {
			if u := os.Getenv("WARREN_MGMT_URL"); u != "" {
				mgmtBase = strings.TrimSuffix(u, "/")
				return
			}
			host, _, _ := net.SplitHostPort(amqpAddr)
			mgmtBase = "http://" + net.JoinHostPort(host, "15672")
			return
		}
		var s *mgmt.Server
		if s, mgmtErr = mgmt.Listen("127.0.0.1:0", shared.b); mgmtErr == nil {
			go s.Serve()
			mgmtBase = "http://" + s.Addr().String()
		}
	})
	if mgmtErr != nil {
		t.Fatalf("management server: %v", mgmtErr)
	}
	return mgmtBase
}

// mgmtDo sends a management request as the AMQP URL's user.
func mgmtDo(t *testing.T, method, path string, body any) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		data, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(data))
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, mgmtURL(t)+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if u, err := url.Parse(amqpURL); err == nil && u.User != nil {
		pass, _ := u.User.Password()
		req.SetBasicAuth(u.User.Username(), pass)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// setPolicy puts a policy matching exactly queue q on vhost "/", deleted
// at cleanup.
func setPolicy(t *testing.T, policy, q string, def map[string]any) {
	t.Helper()
	path := "/api/policies/%2F/" + url.PathEscape(policy)
	body := map[string]any{"pattern": "^" + regexp.QuoteMeta(q) + "$", "apply-to": "queues", "definition": def, "priority": 100}
	if code, resp := mgmtDo(t, "PUT", path, body); code != http.StatusCreated && code != http.StatusNoContent {
		t.Fatalf("PUT %s: %d %s", path, code, resp)
	}
	t.Cleanup(func() { mgmtDo(t, "DELETE", path, nil) })
}

func deletePolicy(t *testing.T, policy string) {
	t.Helper()
	path := "/api/policies/%2F/" + url.PathEscape(policy)
	if code, resp := mgmtDo(t, "DELETE", path, nil); code != http.StatusNoContent {
		t.Fatalf("DELETE %s: %d %s", path, code, resp)
	}
}

// A max-length policy reaches a queue that already holds messages: it is
// cut to the limit from the head at once, and stays bounded while the
// policy lasts; once the policy is removed the queue grows again.
func TestPolicyMaxLengthOnExistingQueue(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	q := declareQueue(t, ch, "")
	for i := range 10 {
		publishText(t, ch, "", q, itoa(i))
	}
	waitMessages(t, c, q, 10)

	setPolicy(t, name(t, "cap"), q, map[string]any{"max-length": 3})
	waitMessages(t, c, q, 3)
	for i := 10; i < 15; i++ {
		publishText(t, ch, "", q, itoa(i))
	}
	waitMessages(t, c, q, 3)
	if got := drain(t, ch, q); strings.Join(got, ",") != "12,13,14" {
		t.Fatalf("under max-length 3 the queue kept %q, want the newest three", got)
	}

	deletePolicy(t, name(t, "cap"))
	for i := range 6 {
		publishText(t, ch, "", q, itoa(i))
	}
	waitMessages(t, c, q, 6)
}

// A queue's own lower x-max-length keeps winning over a policy's higher
// one; a lower policy value wins over a higher argument.
func TestPolicyMaxLengthAgainstArgument(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	low, high := name(t, "low"), name(t, "high")
	for q, n := range map[string]int32{low: 2, high: 50} {
		cleanupQueue(t, q)
		if _, err := ch.QueueDeclare(q, false, false, false, false, amqp.Table{"x-max-length": n}); err != nil {
			t.Fatal(err)
		}
	}
	setPolicy(t, name(t, "low"), low, map[string]any{"max-length": 4})
	setPolicy(t, name(t, "high"), high, map[string]any{"max-length": 4})
	for i := range 8 {
		publishText(t, ch, "", low, itoa(i))
		publishText(t, ch, "", high, itoa(i))
	}
	waitMessages(t, c, low, 2)
	waitMessages(t, c, high, 4)
}

// A message-ttl policy gives messages published under it that TTL (as in
// RabbitMQ, messages already queued keep their own expiry); once removed,
// new messages stay. Needs per-queue TTL in the broker: skipped where the
// x-message-ttl argument itself is refused.
func TestPolicyMessageTTL(t *testing.T) {
	t.Parallel()
	c, ch := connChan(t)
	control := name(t, "control")
	cleanupQueue(t, control)
	if _, err := ch.QueueDeclare(control, false, false, false, false, amqp.Table{"x-message-ttl": int32(200)}); err != nil {
		if amqpCode(err) == amqp.PreconditionFailed && strings.Contains(err.Error(), "not supported") {
			t.Skipf("this broker has no per-queue TTL yet: %v", err)
		}
		t.Fatal(err)
	}
	q := declareQueue(t, channel(t, c), "")
	ch = channel(t, c)
	setPolicy(t, name(t, "ttl"), q, map[string]any{"message-ttl": 200})
	publishText(t, ch, "", q, "expires")
	waitMessages(t, c, q, 0)

	deletePolicy(t, name(t, "ttl"))
	publishText(t, ch, "", q, "stays")
	// The control queue's message, published after, expires by its own
	// 200 ms argument: by then a policy TTL would have taken "stays" too.
	publishText(t, ch, "", control, "marker")
	waitMessages(t, c, control, 0)
	if st := queueState(t, c, q); st.Messages != 1 {
		t.Fatalf("after the policy was removed the queue holds %d messages, want 1", st.Messages)
	}
	mustGet(t, ch, q, true, "stays")
}
