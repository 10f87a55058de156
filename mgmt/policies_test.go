package mgmt

// HTTP tests of /api/policies and /api/operator-policies. Setting
// WARREN_MGMT_URL (e.g. http://127.0.0.1:15672) runs the same requests
// against a real RabbitMQ's management API, with guest/guest, to check
// that they expect what RabbitMQ answers; the tests that need users other
// than guest run in-process only.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
)

type target struct {
	base     string // http://host:port
	external bool
	b        *broker.Broker // nil when external
	id       string         // makes names unique per run
}

func newTarget(t *testing.T, users *broker.Users) *target {
	t.Helper()
	var idb [4]byte
	_, _ = rand.Read(idb[:])
	id := hex.EncodeToString(idb[:])
	if u := os.Getenv("WARREN_MGMT_URL"); u != "" {
		if users != nil {
			t.Skip("needs the in-process Warren's users (WARREN_MGMT_URL is set)")
		}
		return &target{base: strings.TrimSuffix(u, "/"), external: true, id: id}
	}
	b, err := broker.Open(broker.Config{DataDir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	s, err := Listen("127.0.0.1:0", b)
	if err != nil {
		b.Close()
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		b.Close()
	})
	return &target{base: "http://" + s.Addr().String(), b: b, id: id}
}

type reply struct {
	status int
	header http.Header
	body   string
}

// do sends a request as user:pass ("" user: no credentials).
func (tg *target) do(t *testing.T, method, path, user, pass, contentType, body string) reply {
	t.Helper()
	req, err := http.NewRequest(method, tg.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return reply{resp.StatusCode, resp.Header, string(data)}
}

func (tg *target) guest(t *testing.T, method, path, body string) reply {
	t.Helper()
	return tg.do(t, method, path, "guest", "guest", "application/json", body)
}

func expect(t *testing.T, what string, got reply, status int, body string) {
	t.Helper()
	if got.status != status || got.body != body {
		t.Errorf("%s: got %d %q, want %d %q", what, got.status, got.body, status, body)
	}
}

func decodeJSON(t *testing.T, what, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%s: %v in %q", what, err, s)
	}
	return v
}

// PUT creates (201) then updates (204), GET shows RabbitMQ's shape alone,
// in its vhost's list and in the list of all, DELETE removes (204, then
// 404), for both kinds.
func TestPoliciesCRUD(t *testing.T) {
	tg := newTarget(t, nil)
	for _, base := range []string{"/api/policies", "/api/operator-policies"} {
		name := "warren-test-" + tg.id
		path := base + "/%2F/" + name
		pattern := `^warren-test-` + tg.id + `\.`
		put := `{"pattern":"` + strings.ReplaceAll(pattern, `\`, `\\`) + `","definition":{"max-length":5},"priority":1,"apply-to":"queues"}`
		expect(t, base+" create", tg.guest(t, "PUT", path, put), http.StatusCreated, "")
		put = strings.Replace(put, `"max-length":5`, `"max-length":6,"delivery-limit":3`, 1)
		expect(t, base+" update", tg.guest(t, "PUT", path, put), http.StatusNoContent, "")

		want := map[string]any{"vhost": "/", "name": name, "pattern": pattern, "apply-to": "queues", "definition": map[string]any{"max-length": 6.0, "delivery-limit": 3.0}, "priority": 1.0}
		got := tg.guest(t, "GET", path, "")
		if got.status != http.StatusOK || got.header.Get("Content-Type") != "application/json" || !reflect.DeepEqual(decodeJSON(t, "get", got.body), any(want)) {
			t.Errorf("%s get: %d %s %s", base, got.status, got.header.Get("Content-Type"), got.body)
		}
		for _, list := range []string{base, base + "/%2F"} {
			got := tg.guest(t, "GET", list, "")
			found := false
			for _, p := range decodeJSON(t, list, got.body).([]any) {
				found = found || reflect.DeepEqual(p, any(want))
			}
			if got.status != http.StatusOK || !found {
				t.Errorf("%s: %d, policy not in %s", list, got.status, got.body)
			}
		}
		expect(t, base+" delete", tg.guest(t, "DELETE", path, ""), http.StatusNoContent, "")
		expect(t, base+" delete again", tg.guest(t, "DELETE", path, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
		expect(t, base+" get deleted", tg.guest(t, "GET", path, ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
		// Priority and apply-to default to 0 and "all"; other keys are ignored.
		expect(t, base+" defaults", tg.guest(t, "PUT", path, `{"pattern":"^`+name+`$","definition":{"max-in-memory-length":100},"name":"other","foo":1}`), http.StatusCreated, "")
		got = tg.guest(t, "GET", path, "")
		want = map[string]any{"vhost": "/", "name": name, "pattern": "^" + name + "$", "apply-to": "all", "definition": map[string]any{"max-in-memory-length": 100.0}, "priority": 0.0}
		if !reflect.DeepEqual(decodeJSON(t, "defaults", got.body), any(want)) {
			t.Errorf("%s defaults: %s", base, got.body)
		}
		expect(t, base+" delete defaults", tg.guest(t, "DELETE", path, ""), http.StatusNoContent, "")
	}
}

// Bad input gets RabbitMQ's 400s (and 404s, 405, 415) with its bodies.
func TestPoliciesBadRequests(t *testing.T) {
	tg := newTarget(t, nil)
	path := "/api/policies/%2F/warren-test-bad-" + tg.id
	opPath := "/api/operator-policies/%2F/warren-test-bad-" + tg.id
	bad := func(reason string) string { return `{"error":"bad_request","reason":"` + reason + `"}` }
	for _, c := range []struct {
		what, path, body string
		status           int
		want             string
	}{
		{"bad json", path, `{"pattern":`, 400, bad("not_json")},
		{"not an object", path, `[1]`, 400, bad("not_json")},
		{"empty body", path, ``, 400, bad("[{key_missing,pattern},{key_missing,definition}]")},
		{"no definition", path, `{"pattern":"x"}`, 400, bad("[{key_missing,definition}]")},
		{"unknown keys", path, `{"pattern":"x","definition":{"max-lengthx":5,"foo":"bar"}}`, 400,
			bad(`Validation failed\n\n[{&lt;&lt;\"foo\"&gt;&gt;,&lt;&lt;\"bar\"&gt;&gt;},{&lt;&lt;\"max-lengthx\"&gt;&gt;,5}] are not recognised policy settings\n`)},
		{"string for integer", path, `{"pattern":"x","definition":{"max-length":"5"}}`, 400,
			bad(`Validation failed\n\n&lt;&lt;\"5\"&gt;&gt; is not a valid maximum length\n`)},
		{"float for integer", path, `{"pattern":"x","definition":{"max-length":5.0}}`, 400,
			bad(`Validation failed\n\n5.0 is not a valid maximum length\n`)},
		{"negative ttl", path, `{"pattern":"x","definition":{"message-ttl":-1}}`, 400, bad(`Validation failed\n\n-1 is not a valid message TTL\n`)},
		{"empty definition", path, `{"pattern":"x","definition":{}}`, 400, bad(`Validation failed\n\nno policy provided\n`)},
		{"bad apply-to", path, `{"pattern":"x","apply-to":"foo","definition":{"max-length":5}}`, 400,
			bad(`Validation failed\n\napply-to 'foo' unrecognised; should be 'queues', 'exchanges' or 'all'\n`)},
		{"bad priority", path, `{"pattern":"x","priority":"a","definition":{"max-length":5}}`, 400,
			bad(`Validation failed\n\npriority should be a number, actually was &lt;&lt;\"a\"&gt;&gt;\n`)},
		{"null pattern", path, `{"pattern":null,"definition":{"max-length":1}}`, 400, bad(`Validation failed\n\npattern should be a binary but was null\n`)},
		{"operator: user-policy key", opPath, `{"pattern":"x","definition":{"dead-letter-exchange":"a"}}`, 400,
			bad(`Validation failed\n\n[{<<\"dead-letter-exchange\">>,<<\"a\">>}] are not recognised policy settings\n`)},
		{"operator: bad value, unescaped", opPath, `{"pattern":"x","definition":{"max-length":"a"}}`, 400,
			bad(`Validation failed\n\n<<\"a\">> is not a valid maximum length\n`)},
		{"no such vhost", "/api/policies/warren-no-vhost-" + tg.id + "/p", `{"pattern":"x","definition":{"max-length":1}}`, 404, `{"error":"not_found","reason":"vhost_not_found"}`},
	} {
		expect(t, c.what, tg.guest(t, "PUT", c.path, c.body), c.status, c.want)
	}
	notFound := `{"error":"Object Not Found","reason":"Not Found"}`
	expect(t, "list in a missing vhost", tg.guest(t, "GET", "/api/policies/warren-no-vhost-"+tg.id, ""), 404, notFound)
	expect(t, "delete in a missing vhost", tg.guest(t, "DELETE", "/api/policies/warren-no-vhost-"+tg.id+"/p", ""), 404, notFound)
	expect(t, "unknown path", tg.guest(t, "GET", "/api/policiesx", ""), 404, notFound)
	// An invalid regular expression: the reason names the error as the
	// regexp engine does (PCRE's and Go's words differ), in a 400.
	got := tg.guest(t, "PUT", path, `{"pattern":"(","definition":{"max-length":5}}`)
	if got.status != 400 || !strings.HasPrefix(got.body, `{"error":"bad_request","reason":"Validation failed\n\npattern should be regular expression but is invalid: {`) {
		t.Errorf("bad pattern: %d %s", got.status, got.body)
	}
	got = tg.do(t, "PUT", opPath, "guest", "guest", "", `{"pattern":"x","definition":{"max-length":1}}`)
	if got.status != http.StatusUnsupportedMediaType {
		t.Errorf("operator policy without a JSON content type: %d %s", got.status, got.body)
	}
	got = tg.guest(t, "POST", path, `{}`)
	if got.status != http.StatusMethodNotAllowed || got.header.Get("Allow") != "HEAD, GET, PUT, DELETE, OPTIONS" {
		t.Errorf("POST: %d, Allow %q", got.status, got.header.Get("Allow"))
	}
	for p, allow := range map[string]string{path: "HEAD, GET, PUT, DELETE, OPTIONS", "/api/policies": "HEAD, GET, OPTIONS"} {
		got = tg.do(t, "OPTIONS", p, "", "", "", "")
		if got.status != http.StatusOK || got.header.Get("Allow") != allow {
			t.Errorf("OPTIONS %s: %d, Allow %q", p, got.status, got.header.Get("Allow"))
		}
	}
	if got := tg.guest(t, "HEAD", "/api/policies", ""); got.status != http.StatusOK || got.body != "" {
		t.Errorf("HEAD: %d %q", got.status, got.body)
	}
	if got := tg.guest(t, "GET", path, ""); got.status != 404 {
		t.Errorf("a refused policy was stored: %d %s", got.status, got.body)
	}
}

// Without credentials: 401 with the challenge and no body; with wrong
// ones: 401 not_authorized "Login failed".
func TestPoliciesAuthentication(t *testing.T) {
	tg := newTarget(t, nil)
	for _, path := range []string{"/api/policies", "/api/operator-policies/%2F"} {
		got := tg.do(t, "GET", path, "", "", "", "")
		if got.status != 401 || got.body != "" || got.header.Get("WWW-Authenticate") != authRealm {
			t.Errorf("%s without credentials: %d %q %q", path, got.status, got.body, got.header.Get("WWW-Authenticate"))
		}
		got = tg.do(t, "GET", path, "guest", "wrong", "", "")
		if got.status != 401 || got.body != `{"error":"not_authorized","reason":"Login failed"}` || got.header.Get("WWW-Authenticate") != authRealm {
			t.Errorf("%s with a wrong password: %d %q", path, got.status, got.body)
		}
	}
}

// RabbitMQ's tag rules: a policymaker may manage policies but not
// operator policies; a user without a management tag may do neither;
// a loopback-only user is refused from elsewhere (checked in auth).
func TestPoliciesTags(t *testing.T) {
	users := broker.NewUsers()
	users.Add(broker.User{Name: "admin", Password: "a", Tags: []string{"administrator"}})
	users.Add(broker.User{Name: "pm", Password: "p", Tags: []string{"policymaker"}})
	users.Add(broker.User{Name: "mon", Password: "m", Tags: []string{"monitoring"}})
	users.Add(broker.User{Name: "app", Password: "x"})
	tg := newTarget(t, users)
	body := `{"pattern":"^t\\.","definition":{"max-length":1}}`
	for _, c := range []struct {
		user, pass, path string
		status           int
		want             string
	}{
		{"pm", "p", "/api/policies/%2F/t", 201, ""},
		{"pm", "p", "/api/operator-policies/%2F/t", 401, `{"error":"not_authorised","reason":"Not administrator user"}`},
		{"mon", "m", "/api/policies/%2F/t", 401, `{"error":"not_authorised","reason":"User not authorised to access object"}`},
		{"app", "x", "/api/policies/%2F/t", 401, `{"error":"not_authorised","reason":"Not management user"}`},
		{"admin", "a", "/api/operator-policies/%2F/t", 201, ""},
	} {
		expect(t, c.user+" "+c.path, tg.do(t, "PUT", c.path, c.user, c.pass, "application/json", body), c.status, c.want)
	}
	v, _ := tg.b.VHost("/")
	if len(v.Policies(broker.UserPolicy)) != 1 || len(v.Policies(broker.OperatorPolicy)) != 1 {
		t.Fatalf("policies stored: %v / %v", v.Policies(broker.UserPolicy), v.Policies(broker.OperatorPolicy))
	}
	// /metrics and /healthz stay open.
	for _, p := range []string{"/metrics", "/healthz"} {
		if got := tg.do(t, "GET", p, "", "", "", ""); got.status != 200 {
			t.Errorf("%s: %d", p, got.status)
		}
	}
}

func TestLoopbackDetection(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:5": true, "[::1]:5": true, "10.0.0.1:5": false, "bad": false} {
		if got := fromLoopback(&http.Request{RemoteAddr: addr}); got != want {
			t.Errorf("fromLoopback(%s) = %v", addr, got)
		}
	}
}
