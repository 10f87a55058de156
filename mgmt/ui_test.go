package mgmt

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
)

// The embedded files are served at / with their types and a strict
// content security policy, beside the API and the health check.
func TestUIServesFiles(t *testing.T) {
	if os.Getenv("WARREN_MGMT_URL") != "" {
		t.Skip("the UI is Warren's (WARREN_MGMT_URL is set)")
	}
	tg := newTarget(t, nil)
	for _, c := range []struct{ path, ctype, contains string }{
		{"/", "text/html", `<script src="app.js"`},
		{"/app.js", "text/javascript", "PAGES.queues"},
		{"/chart.js", "text/javascript", "lineChart"},
		{"/style.css", "text/css", ".section"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
	} {
		resp := tg.do(t, "GET", c.path, "", "", "", "")
		if resp.status != http.StatusOK || !strings.HasPrefix(resp.header.Get("Content-Type"), c.ctype) || !strings.Contains(resp.body, c.contains) {
			t.Errorf("GET %s: %d %q, body without %q", c.path, resp.status, resp.header.Get("Content-Type"), c.contains)
		}
		if csp := resp.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
			t.Errorf("GET %s: CSP %q", c.path, csp)
		}
	}
	expect(t, "a file that is not there", tg.do(t, "GET", "/nothing.js", "", "", "", ""), http.StatusNotFound, "404 page not found\n")
	if got := tg.do(t, "POST", "/", "", "", "", ""); got.status != http.StatusMethodNotAllowed || got.header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /: %d Allow %q", got.status, got.header.Get("Allow"))
	}
	expect(t, "the API's 404 is still JSON", tg.guest(t, "GET", "/api/nothing", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
	expect(t, "healthz", tg.do(t, "GET", "/healthz", "", "", "", ""), http.StatusOK, "ok\n")
}

// chromium finds Debian's chromium (or another Chrome). Without one the
// browser tests skip, except in CI (CI=true), where they fail.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("WARREN_CHROME"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium on PATH and CI=true: the browser test must run in CI (apt-get install chromium; .ci/run installs it)")
	}
	t.Skip("no chromium on PATH: skipping the browser test (apt-get install chromium to run it)")
	return ""
}

// browser is a headless chromium page that records every console error
// and warning, uncaught exception and error log entry (failed loads
// among them).
type browser struct {
	ctx  context.Context
	base string
	mu   sync.Mutex
	errs []string
}

func newBrowser(t *testing.T, base string, width, height int) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.WindowSize(width, height),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("lang", "en-US"),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	// One deadline for the whole browser session: generous, the machine
	// may be busy.
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browser{ctx: ctx, base: base}
	if err := chromedp.Do(ctx); err != nil { // starts the browser and its tab
		t.Fatalf("starting chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			switch m.Type {
			case chromedp.ConsoleError, chromedp.ConsoleWarning, chromedp.ConsoleException, "assert":
				b.fail(fmt.Sprintf("%s (%s:%d)", m.String(), m.URL, m.Line))
			}
		}
	}()
	return b
}

func (b *browser) fail(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs = append(b.errs, msg)
}

// check fails the test on any error the page reported so far.
func (b *browser) check(t *testing.T, when string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errs {
		t.Errorf("%s: %s", when, e)
	}
	b.errs = nil
}

func (b *browser) do(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// wait polls the JavaScript expression js until it is true (60 s, for a
// busy machine), and shows what the page showed instead when it is not.
func (b *browser) wait(t *testing.T, what, js string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool]("!!("+js+")"))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body.innerText.slice(0, 3000)`))
			b.mu.Lock()
			errs := strings.Join(b.errs, "\n")
			b.mu.Unlock()
			t.Fatalf("%s: not within 60 s (%v); the page reported:\n%s\nand shows:\n%s", what, err, errs, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// text is the text of the first element sel matches ("" when none).
func (b *browser) text(t *testing.T, sel string) string {
	t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(document.querySelector(`+strconv.Quote(sel)+`)||{}).textContent||""`))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *browser) eval(t *testing.T, js string) {
	t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](`{ `+js+` }; null`)); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
}

func (b *browser) open(t *testing.T, hash string) {
	t.Helper()
	b.eval(t, `location.hash = `+strconv.Quote(hash))
}

// login opens the UI and logs in as user.
func (b *browser) login(t *testing.T, user, pass string) {
	t.Helper()
	b.do(t, "open the UI", chromedp.Navigate(b.base+"/"))
	b.wait(t, "the login form", `!document.getElementById('login').hidden`)
	b.do(t, "log in",
		chromedp.SendKeys(chromedp.ID("login-user"), user),
		chromedp.SendKeys(chromedp.ID("login-pass"), pass),
		chromedp.Click(chromedp.ID("login-submit")))
	b.wait(t, "the overview after login", `!document.getElementById('shell').hidden && document.querySelector('#totals .tile')`)
}

func queueMessages(t *testing.T, tg *amqpTarget, name string) float64 {
	t.Helper()
	got := tg.guest(t, "GET", "/api/queues/%2F/"+name, "")
	if got.status != http.StatusOK {
		t.Fatalf("queue %s: %d %s", name, got.status, got.body)
	}
	return decodeJSON(t, "queue", got.body).(map[string]any)["messages"].(float64)
}

// TestUIInBrowser drives the UI in headless chromium: a wrong password
// is refused on the page, guest logs in, the queues page lists a queue
// this test made with its message count (found by the server-side
// filter among 1,500 others), the queue page publishes a message (the
// count goes up), gets it back and purges the queue; every page renders.
// Any JavaScript console error, exception or failed load fails the test.
func TestUIInBrowser(t *testing.T) {
	if os.Getenv("WARREN_MGMT_URL") != "" {
		t.Skip("the UI is Warren's (WARREN_MGMT_URL is set)")
	}
	path := chromium(t)
	t.Logf("browser: %s", path)
	tg := newAMQPTarget(t)
	name := "ui-test-" + tg.id
	c := tg.dial(t, "ui-test-client")
	closed := c.NotifyClose(make(chan *amqp.Error, 1))
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(name, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := ch.PublishWithContext(context.Background(), "", name, false, false, amqp.Publishing{Body: []byte("m" + strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
	poll(t, "3 messages in "+name, func() bool { return queueMessages(t, tg, name) == 3 })
	// Enough other queues that the list pages, as with many queues.
	v, _ := tg.b.VHost("/")
	p := guest(t, "/")
	for i := range 1500 {
		if _, err := v.QueueDeclare(p, broker.QueueDeclareOptions{Name: fmt.Sprintf("other-%04d", i)}); err != nil {
			t.Fatal(err)
		}
	}

	b := newBrowser(t, tg.base, 1400, 1000)

	// A wrong password shows the login error; the refused request is the
	// one failed load expected.
	b.do(t, "open the UI", chromedp.Navigate(b.base+"/"))
	b.wait(t, "the login form", `!document.getElementById('login').hidden`)
	b.do(t, "wrong login", chromedp.SendKeys(chromedp.ID("login-user"), "guest"),
		chromedp.SendKeys(chromedp.ID("login-pass"), "wrong"), chromedp.Click(chromedp.ID("login-submit")))
	b.wait(t, "the login error", `!document.getElementById('login-error').hidden`)
	if msg := b.text(t, "#login-error"); !strings.Contains(msg, "Login failed") {
		t.Errorf("login error %q", msg)
	}
	b.mu.Lock()
	if len(b.errs) != 1 || !strings.Contains(b.errs[0], "401") {
		t.Errorf("a wrong login should log just its 401, got %q", b.errs)
	}
	b.errs = nil
	b.mu.Unlock()

	b.login(t, "guest", "guest")
	b.wait(t, "the node row", `document.querySelector('#nodes tr[data-node]')`)
	b.wait(t, "the queued messages chart", `document.querySelector('#chart-queued svg')`)
	if n := b.text(t, `#totals [data-tile=messages] .n`); n != "3" {
		t.Errorf("overview messages tile %q, want 3", n)
	}
	b.check(t, "overview")

	// The queue list pages on the server: 1,501 queues, the filter finds ours.
	b.open(t, "#/queues")
	b.wait(t, "the queue list", `document.querySelector('#sec-q-list [data-role=count]').textContent.includes('1,501 items')`)
	b.wait(t, "page 1 of 16", `document.querySelector('#sec-q-list input[data-role=page]').value === '1' && document.querySelector('#sec-q-list .pager').textContent.includes('of 16')`)
	b.eval(t, `const pg = document.querySelector('#sec-q-list input[data-role=page]'); pg.value = '16'; pg.dispatchEvent(new Event('change'))`)
	b.wait(t, "the last page, of one queue", `document.querySelectorAll('#sec-q-list tbody tr[data-name]').length === 1`)
	b.do(t, "filter", chromedp.SendKeys(chromedp.CSS(`#sec-q-list input[data-role=filter]`), name))
	b.wait(t, "the server's filter", `document.querySelector('#sec-q-list [data-role=count]').textContent === '1 of 1,501 items match'`)
	row := `document.querySelector('tr[data-vhost="/"][data-name="` + name + `"]')`
	b.wait(t, "our queue in the filtered list", row+` && document.querySelectorAll('#sec-q-list tbody tr').length === 1`)
	b.wait(t, "its count of 3", row+`.querySelector('td.c-messages').textContent === '3'`)
	b.check(t, "queues")

	// The vhost menu narrows the list to one vhost (the API's
	// /api/queues/{vhost}) and drops the vhost column.
	if got := tg.guest(t, "PUT", "/api/vhosts/ui-vh", ""); got.status != http.StatusCreated {
		t.Fatalf("create vhost: %d %s", got.status, got.body)
	}
	if got := tg.guest(t, "PUT", "/api/queues/ui-vh/"+name, `{"durable":true}`); got.status != http.StatusCreated {
		t.Fatalf("declare in ui-vh: %d %s", got.status, got.body)
	}
	b.eval(t, `location.reload()`)
	b.wait(t, "the vhost in the menu", `document.querySelector('#vhost-select option[value="ui-vh"]')`)
	b.wait(t, "both queues of the name", `document.querySelectorAll('tr[data-name="`+name+`"]').length === 2`)
	b.eval(t, `const vs = document.getElementById('vhost-select'); vs.value = 'ui-vh'; vs.dispatchEvent(new Event('change'))`)
	b.wait(t, "only ui-vh's queue", `document.querySelectorAll('#sec-q-list tbody tr[data-name]').length === 1 && document.querySelector('tr[data-name="`+name+`"]').dataset.vhost === 'ui-vh' && ![...document.querySelectorAll('#sec-q-list th')].some(h => h.textContent === 'Virtual host')`)
	b.eval(t, `const vs = document.getElementById('vhost-select'); vs.value = ''; vs.dispatchEvent(new Event('change'))`)
	b.wait(t, "all vhosts again", `document.querySelectorAll('tr[data-name="`+name+`"]').length === 2`)
	b.check(t, "vhost menu")

	// The queue page: publish, see the count change, get, purge.
	b.do(t, "open the queue", chromedp.Click(chromedp.CSS(`tr[data-vhost="/"][data-name="`+name+`"] a`)))
	b.wait(t, "the queue page", `document.querySelector('#queue-counts [data-tile=messages] .n')`)
	if n := b.text(t, "#queue-counts [data-tile=messages] .n"); n != "3" {
		t.Errorf("queue page messages %q, want 3", n)
	}
	b.do(t, "publish", chromedp.SendKeys(chromedp.ID("publish-payload"), "hello from the browser"),
		chromedp.Click(chromedp.CSS(`#publish button[type=submit]`)))
	b.wait(t, "published", `document.querySelector('#publish .form-ok') && document.querySelector('#publish .form-ok').textContent === 'Message published.'`)
	b.wait(t, "the count of 4", `document.querySelector('#queue-counts [data-tile=messages] .n').textContent === '4'`)
	if n := queueMessages(t, tg, name); n != 4 {
		t.Errorf("after the UI's publish the API counts %v messages, want 4", n)
	}
	b.do(t, "get", chromedp.Click(chromedp.CSS(`#get-messages button[type=submit]`)))
	b.wait(t, "the message got", `document.querySelector('#got-messages pre.payload')`)
	if got := b.text(t, "#got-messages pre.payload"); got != "m0" {
		t.Errorf("got payload %q, want m0 (the oldest)", got)
	}
	b.do(t, "purge", chromedp.Click(chromedp.CSS(`#purge button.danger`)))
	b.do(t, "confirm purge", chromedp.Click(chromedp.CSS(`#purge .confirm button.primary`)))
	b.wait(t, "the count of 0", `document.querySelector('#queue-counts [data-tile=messages] .n').textContent === '0'`)
	poll(t, "the purge seen by the API", func() bool { return queueMessages(t, tg, name) == 0 })
	b.check(t, "queue page")

	// Back in the list, the count is 0.
	b.open(t, "#/queues")
	b.wait(t, "its count of 0", row+` && `+row+`.querySelector('td.c-messages').textContent === '0'`)

	// The channels page shows a channel's mode and prefetch window.
	cch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := cch.Qos(5, 0, false); err != nil {
		t.Fatal(err)
	}
	if err := cch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	b.open(t, "#/channels")
	b.wait(t, "a confirm channel with prefetch 5", `[...document.querySelectorAll('#sec-chan-list tbody tr[data-name]')].some(r => r.querySelector('td.mode').textContent === 'C' && r.querySelector('td.prefetch').textContent === '5')`)
	b.check(t, "channels page")

	// Every page renders without errors.
	pages := map[string]string{
		"#/connections":              `document.querySelector('#sec-conn-list tbody tr[data-name]')`,
		"#/channels":                 `document.querySelector('#sec-chan-list tbody tr[data-name]')`,
		"#/exchanges":                `document.querySelector('#sec-ex-list tr[data-name="amq.topic"]')`,
		"#/exchanges/%2F/amq.direct": `document.querySelector('#sec-ex-src table')`,
		"#/bindings":                 `document.querySelector('#sec-b-list tbody tr[data-key]')`,
		"#/vhosts":                   `document.querySelector('#sec-vh-list tr[data-name="/"]')`,
		"#/users":                    `document.querySelector('#sec-u-list tr[data-name="guest"]')`,
		"#/permissions":              `document.querySelector('#sec-perm-list tr[data-user="guest"]')`,
		"#/policies":                 `document.querySelector('#sec-pol-list table')`,
		"#/definitions":              `document.querySelector('#export-definitions')`,
		"#/":                         `document.querySelector('#nodes tr[data-node]')`,
	}
	if tg.guest(t, "GET", "/api/vhost-limits", "").status == http.StatusOK {
		pages["#/limits"] = `document.querySelector('#sec-lim-vhost table')`
	} else {
		t.Log("no /api/vhost-limits on this build: the limits page is not visited")
	}
	for hash, ready := range pages {
		b.open(t, hash)
		b.wait(t, hash, ready+` && document.getElementById('banner').hidden`)
		b.check(t, hash)
	}

	// A policy added from the UI reaches the API.
	b.open(t, "#/policies")
	b.wait(t, "the policy form", `document.querySelector('#add-policy')`)
	b.do(t, "add a policy",
		chromedp.SendKeys(chromedp.ID("add-policy-name"), "ui-policy"),
		chromedp.SendKeys(chromedp.ID("add-policy-pattern"), "^ui-"),
		chromedp.SendKeys(chromedp.ID("add-policy-definition"), "max-length = 10"),
		chromedp.Click(chromedp.CSS(`#add-policy button[type=submit]`)))
	b.wait(t, "the policy listed", `document.querySelector('#sec-pol-list tr[data-name="ui-policy"]')`)
	got := tg.guest(t, "GET", "/api/policies/%2F/ui-policy", "")
	var pol struct {
		Definition map[string]any `json:"definition"`
	}
	if err := json.Unmarshal([]byte(got.body), &pol); err != nil || pol.Definition["max-length"] != float64(10) {
		t.Errorf("policy from the UI: %d %s", got.status, got.body)
	}

	// The export builds a download from /api/definitions.
	b.open(t, "#/definitions")
	b.wait(t, "the export form", `document.querySelector('#export-definitions')`)
	b.do(t, "export", chromedp.Click(chromedp.CSS(`#export-definitions button[type=submit]`)))
	b.wait(t, "exported", `document.querySelector('#export-definitions .form-ok') && /Exported 1502 queues/.test(document.querySelector('#export-definitions .form-ok').textContent)`)
	b.check(t, "definitions")

	// An import uploads a definitions file: its queue appears.
	defs := filepath.Join(t.TempDir(), "defs.json")
	imported := "ui-imported-" + tg.id
	if err := os.WriteFile(defs, []byte(`{"queues":[{"name":"`+imported+`","vhost":"/","durable":true,"auto_delete":false,"arguments":{}}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	b.do(t, "import", chromedp.SetUploadFiles(chromedp.ID("import-file"), []string{defs}),
		chromedp.Click(chromedp.CSS(`#import-definitions button[type=submit]`)))
	b.wait(t, "imported", `document.querySelector('#import-definitions .form-ok') && /imported from defs.json/.test(document.querySelector('#import-definitions .form-ok').textContent)`)
	if got := tg.guest(t, "GET", "/api/queues/%2F/"+imported, ""); got.status != http.StatusOK {
		t.Errorf("the imported queue: %d %s", got.status, got.body)
	}
	b.check(t, "import")

	// The queue page deletes it again.
	b.open(t, "#/queues/%2F/"+imported)
	b.wait(t, "the imported queue's page", `document.querySelector('#queue-counts [data-tile=messages]')`)
	b.do(t, "delete", chromedp.Click(chromedp.CSS(`#delete button.danger`)))
	b.do(t, "confirm delete", chromedp.Click(chromedp.CSS(`#delete .confirm button.primary`)))
	b.wait(t, "back at the queue list", `location.hash === '#/queues'`)
	poll(t, "the queue deleted", func() bool { return tg.guest(t, "GET", "/api/queues/%2F/"+imported, "").status == http.StatusNotFound })

	// The connection page shows the test's client and closes it.
	b.open(t, "#/connections")
	b.wait(t, "the client's connection", `[...document.querySelectorAll('#sec-conn-list td .sub')].some(e => e.textContent === 'ui-test-client')`)
	b.eval(t, `[...document.querySelectorAll('#sec-conn-list td .sub')].find(e => e.textContent === 'ui-test-client').parentNode.querySelector('a').click()`)
	b.wait(t, "the connection page", `document.querySelector('#sec-conn-details table.kv') && document.querySelector('#sec-conn-channels tbody tr[data-name]')`)
	b.do(t, "close", chromedp.Click(chromedp.CSS(`#sec-conn-close button.danger`)))
	b.do(t, "confirm close", chromedp.Click(chromedp.CSS(`#sec-conn-close .confirm button.primary`)))
	b.wait(t, "closed", `document.querySelector('#sec-conn-close .form-ok') && document.querySelector('#sec-conn-close .form-ok').textContent === 'Connection closed.'`)
	select {
	case err := <-closed:
		if err == nil || err.Code != amqp.ConnectionForced {
			t.Errorf("closed from the UI: %v, want CONNECTION_FORCED", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("the connection closed from the UI is still open")
	}
	b.check(t, "connection page")

	// With the limits API (RabbitMQ's /api/vhost-limits), a limit set in
	// the UI reaches it.
	if _, ok := pages["#/limits"]; ok {
		b.open(t, "#/limits")
		b.wait(t, "the limits form", `document.querySelector('#set-vhost-limit')`)
		b.eval(t, `document.querySelector('#set-vhost-limit-value').value = '50'`)
		b.do(t, "set a limit", chromedp.Click(chromedp.CSS(`#set-vhost-limit button[type=submit]`)))
		b.wait(t, "the limit listed", `document.querySelector('#sec-lim-vhost tr[data-limit="//max-connections"]')`)
		got := tg.guest(t, "GET", "/api/vhost-limits/%2F", "")
		if got.status != http.StatusOK || !strings.Contains(got.body, `"max-connections":50`) {
			t.Errorf("vhost limit from the UI: %d %s", got.status, got.body)
		}
		b.check(t, "limits")
	}

	// Logging out returns to the login form.
	b.do(t, "log out", chromedp.Click(chromedp.ID("logout")))
	b.wait(t, "the login form", `!document.getElementById('login').hidden`)
	b.check(t, "logout")

	// A user with only the management tag sees the pages it may use, and
	// the UI asks nothing of the API that it would refuse (no 401s).
	if got := tg.guest(t, "PUT", "/api/users/ui-viewer", `{"password":"secret","tags":"management"}`); got.status != http.StatusCreated {
		t.Fatalf("create ui-viewer: %d %s", got.status, got.body)
	}
	if got := tg.guest(t, "PUT", "/api/permissions/%2F/ui-viewer", `{"configure":".*","write":".*","read":".*"}`); got.status != http.StatusCreated {
		t.Fatalf("permit ui-viewer: %d %s", got.status, got.body)
	}
	b.login(t, "ui-viewer", "secret")
	if admin := b.text(t, `#tabs a[data-tab=admin]`); admin != "" {
		t.Errorf("a management user sees the %q tab", admin)
	}
	b.wait(t, "the overview says why there are no nodes", `/monitoring or administrator/.test(document.getElementById('nodes').textContent)`)
	b.open(t, "#/queues")
	b.wait(t, "our queue for the viewer", row)
	b.open(t, "#/connections")
	b.wait(t, "connections for the viewer", `document.querySelector('#sec-conn-list tbody tr') && document.getElementById('banner').hidden`)
	b.check(t, "management user")
}
