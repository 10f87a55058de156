package broker

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/warrenmq/warren/frame"
)

func mustSetPolicy(t *testing.T, v *VHost, k PolicyKind, p Policy) {
	t.Helper()
	if _, err := v.SetPolicy(k, p); err != nil {
		t.Fatalf("set %s %q: %v", k, p.Name, err)
	}
}

// allQueueArgsSupported lets policies carry every setting for the test,
// as they will once each feature has landed: these tests are about how
// policies reach q.cfg, not about the features reading it.
func allQueueArgsSupported(t *testing.T) {
	saved := unsupportedQueueArgs
	unsupportedQueueArgs = nil
	t.Cleanup(func() { unsupportedQueueArgs = saved })
}

func queueCfg(q *Queue) queueSettings {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.cfg
}

// The highest priority wins among the policies whose pattern matches and
// whose apply-to covers the object; equal priorities go to the first name.
// Patterns are unanchored regular expressions, as RabbitMQ's re:run.
func TestPolicyMatch(t *testing.T) {
	pol := func(name, pattern, applyTo string, prio float64) *compiledPolicy {
		cp, err := compilePolicy(UserPolicy, Policy{Name: name, Pattern: pattern, ApplyTo: applyTo, Priority: prio, Definition: map[string]any{"max-length": 1}})
		if err != nil {
			t.Fatal(err)
		}
		return cp
	}
	tbl := policyTable{}
	for _, p := range []*compiledPolicy{
		pol("any", "", "all", 0),
		pol("orders-q", "^orders\\.", "queues", 5),
		pol("orders-x", "^orders\\.", "exchanges", 7),
		pol("mid", "der", "all", 5), // unanchored: matches inside "orders.eu"
		pol("b-tie", "^tie$", "all", 3),
		pol("a-tie", "^tie$", "all", 3),
		pol("neg", "^neg", "queues", -1),
	} {
		tbl[p.Name] = p
	}
	for _, c := range []struct {
		name    string
		isQueue bool
		want    string
	}{
		{"orders.eu", true, "mid"},       // orders-q and mid tie at 5: first name
		{"orders.eu", false, "orders-x"}, // apply-to exchanges only for exchanges
		{"tie", true, "a-tie"},
		{"negative", true, "any"}, // priority 0 beats -1
		{"other", false, "any"},
		{"xordersx", true, "mid"},
	} {
		got := tbl.match(c.name, c.isQueue)
		if got == nil || got.Name != c.want {
			t.Errorf("match(%q, queue=%v) = %v, want %s", c.name, c.isQueue, got, c.want)
		}
	}
	if got := (policyTable{}).match("x", true); got != nil {
		t.Errorf("empty table matched %v", got.Name)
	}
}

// Arguments against policy against operator policy, key by key, as
// RabbitMQ 3.10's classic and quorum queues resolve them.
func TestEffectiveSettingsPrecedence(t *testing.T) {
	type want struct {
		ttl, expires, maxLen, maxBytes, limit int64
		overflow, dlx, dlrk                   string
	}
	get := func(s queueSettings) want {
		w := want{s.messageTTL, s.expires, s.maxLength, s.maxLengthBytes, s.deliveryLimit, s.overflow, "-", "-"}
		if s.hasDLX {
			w.dlx = s.deadLetterX
		}
		if s.hasDLRK {
			w.dlrk = s.deadLetterRK
		}
		return w
	}
	limits := map[string]any{"message-ttl": int64(500), "expires": int64(60000), "max-length": int64(10), "max-length-bytes": int64(1000), "delivery-limit": int64(5)}
	strs := map[string]any{"overflow": "reject-publish", "dead-letter-exchange": "pdlx", "dead-letter-routing-key": "prk"}
	both := map[string]any{}
	for k, v := range limits {
		both[k] = v
	}
	for k, v := range strs {
		both[k] = v
	}
	for _, c := range []struct {
		what    string
		args    frame.Table
		pol, op map[string]any
		want    want
	}{
		{"nothing", nil, nil, nil, want{-1, -1, -1, -1, -1, "drop-head", "-", "-"}},
		{"policy alone", nil, both, nil, want{500, 60000, 10, 1000, 5, "reject-publish", "pdlx", "prk"}},
		{"operator alone", nil, nil, limits, want{500, 60000, 10, 1000, 5, "drop-head", "-", "-"}},
		{"lower argument wins over policy",
			frame.Table{"x-message-ttl": int32(100), "x-expires": int32(1000), "x-max-length": int32(2), "x-max-length-bytes": int32(20), "x-delivery-limit": int32(1)},
			limits, nil, want{100, 1000, 2, 20, 1, "drop-head", "-", "-"}},
		{"lower policy wins over argument",
			frame.Table{"x-message-ttl": int32(9000), "x-expires": int32(900000), "x-max-length": int32(200), "x-max-length-bytes": int32(20000), "x-delivery-limit": int32(50)},
			limits, nil, want{500, 60000, 10, 1000, 5, "drop-head", "-", "-"}},
		{"lower operator wins over policy", nil,
			map[string]any{"message-ttl": int64(100), "max-length": int64(50)},
			map[string]any{"message-ttl": int64(200), "max-length": int64(20)},
			want{100, -1, 20, -1, -1, "drop-head", "-", "-"}},
		{"operator caps argument", frame.Table{"x-max-length": int32(1000)}, nil, map[string]any{"max-length": int64(30)},
			want{-1, -1, 30, -1, -1, "drop-head", "-", "-"}},
		{"arguments win for dead lettering and overflow",
			frame.Table{"x-dead-letter-exchange": "adlx", "x-dead-letter-routing-key": "ark", "x-overflow": "drop-head"},
			strs, nil, want{-1, -1, -1, -1, -1, "drop-head", "adlx", "ark"}},
		{"empty dead-letter exchange argument still wins",
			frame.Table{"x-dead-letter-exchange": ""}, strs, nil, want{-1, -1, -1, -1, -1, "reject-publish", "", "prk"}},
		{"quorum: policy's expires and overflow win",
			frame.Table{"x-queue-type": "quorum", "x-expires": int32(1000), "x-overflow": "drop-head", "x-max-length": int32(2)},
			both, nil, want{500, 60000, 2, 1000, 5, "reject-publish", "pdlx", "prk"}},
	} {
		if got := get(effectiveSettings(c.args, c.pol, c.op)); got != c.want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.what, got, c.want)
		}
	}
}

// Bad policies are refused with RabbitMQ 3.10's reason text, as its
// management API returned it for the same input (before HTML escaping).
func TestPolicyValidationMessages(t *testing.T) {
	num := func(s string) json.Number { return json.Number(s) }
	for _, c := range []struct {
		k                          PolicyKind
		pattern, def, prio, applyT any
		want                       string
	}{
		{UserPolicy, "x", map[string]any{"max-lengthx": num("5"), "foo": "bar"}, nil, nil,
			`[{<<"foo">>,<<"bar">>},{<<"max-lengthx">>,5}] are not recognised policy settings`},
		{UserPolicy, "x", map[string]any{"max-length": "5"}, nil, nil, `<<"5">> is not a valid maximum length`},
		{UserPolicy, "x", map[string]any{"max-length": num("5.0")}, nil, nil, `5.0 is not a valid maximum length`},
		{UserPolicy, "x", map[string]any{"message-ttl": num("-1")}, nil, nil, `-1 is not a valid message TTL`},
		{UserPolicy, "x", map[string]any{"expires": num("0")}, nil, nil, `0 is not a valid queue expiry`},
		{UserPolicy, "x", map[string]any{"overflow": "drop-tail"}, nil, nil, `<<"drop-tail">> is not a valid overflow value`},
		{UserPolicy, "x", map[string]any{"dead-letter-exchange": num("1")}, nil, nil, `1 is not a valid dead letter exchange name`},
		{UserPolicy, "x", map[string]any{}, nil, nil, `no policy provided`},
		{UserPolicy, "x", map[string]any{"max-length": num("5")}, nil, "foo", `apply-to 'foo' unrecognised; should be 'queues', 'exchanges' or 'all'`},
		{UserPolicy, "x", map[string]any{"max-length": num("5")}, "a", nil, `priority should be a number, actually was <<"a">>`},
		{UserPolicy, num("1"), map[string]any{"max-length": num("5")}, nil, nil, `pattern should be a binary but was 1`},
		{OperatorPolicy, "x", map[string]any{"dead-letter-exchange": "a"}, nil, nil, `[{<<"dead-letter-exchange">>,<<"a">>}] are not recognised policy settings`},
		{OperatorPolicy, "x", map[string]any{"max-length": "a"}, nil, nil, `<<"a">> is not a valid maximum length`},
	} {
		body := map[string]any{"pattern": c.pattern, "definition": c.def}
		if c.prio != nil {
			body["priority"] = c.prio
		}
		if c.applyT != nil {
			body["apply-to"] = c.applyT
		}
		_, err := ParsePolicy(c.k, "/", "p", body)
		var pe *PolicyError
		if !errors.As(err, &pe) {
			t.Errorf("%v %v: got %v, want a PolicyError", c.k, c.def, err)
			continue
		}
		if want := "Validation failed\n\n" + c.want + "\n"; pe.Reason != want {
			t.Errorf("%v %v:\n got %q\nwant %q", c.k, c.def, pe.Reason, want)
		}
	}
	// Several at once, in RabbitMQ's order: definition, apply-to, pattern, priority.
	_, err := ParsePolicy(UserPolicy, "/", "p", map[string]any{"pattern": "(", "definition": map[string]any{"max-length": "a"}, "priority": "b", "apply-to": "c"})
	var pe *PolicyError
	if !errors.As(err, &pe) || !strings.HasPrefix(pe.Reason, "Validation failed\n\n<<\"a\">> is not a valid maximum length\napply-to 'c'") ||
		!strings.Contains(pe.Reason, "\npattern should be regular expression but is invalid: ") || !strings.HasSuffix(pe.Reason, "\npriority should be a number, actually was <<\"b\">>\n") {
		t.Errorf("several errors: %v", err)
	}
	p, err := ParsePolicy(UserPolicy, "/", "p", map[string]any{"pattern": "^a", "definition": map[string]any{"max-length": num("5"), "queue-mode": "lazy"}, "priority": num("1.5")})
	if err != nil || p.ApplyTo != "all" || p.Priority != 1.5 || p.Definition["max-length"] != int64(5) {
		t.Errorf("valid policy: %+v, %v", p, err)
	}
	// null is a value, not an absent key.
	_, err = ParsePolicy(UserPolicy, "/", "p", map[string]any{"pattern": "x", "definition": map[string]any{"max-length": num("1")}, "priority": nil, "apply-to": nil})
	if want := "Validation failed\n\napply-to 'null' unrecognised; should be 'queues', 'exchanges' or 'all'\npriority should be a number, actually was null\n"; !errors.As(err, &pe) || pe.Reason != want {
		t.Errorf("null priority and apply-to: %v", err)
	}
}

// A policy may not carry a setting whose queue argument this Warren
// refuses: it would promise what the queues do not do.
func TestPolicyRefusesUnsupportedSettings(t *testing.T) {
	for _, arg := range unsupportedQueueArgs {
		key := strings.TrimPrefix(arg, "x-")
		if _, isPolicyKey := policyKeys[key]; !isPolicyKey {
			continue
		}
		val := any(json.Number("1000"))
		if !policyKeys[key](val) {
			val = "x"
		}
		_, err := ParsePolicy(UserPolicy, "/", "p", map[string]any{"pattern": "", "definition": map[string]any{key: val}})
		var pe *PolicyError
		if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "'"+key+"'") {
			t.Errorf("policy with %s (its argument %s is refused): %v", key, arg, err)
		}
	}
	if _, err := ParsePolicy(UserPolicy, "/", "p", map[string]any{"pattern": "", "definition": map[string]any{"max-length": json.Number("1"), "queue-mode": "lazy"}}); err != nil {
		t.Errorf("supported settings refused: %v", err)
	}
}

// A policy reaches existing queues at once (a lower max-length drops the
// oldest), new queues at declare, and leaves them when it is removed; a
// queue's own lower argument keeps winning throughout.
func TestPolicyAppliedAndRemoved(t *testing.T) {
	allQueueArgsSupported(t)
	v := openTestVHost(t)
	q := declareTestQueue(t, v, "pol.a")
	own, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "pol.own", Args: frame.Table{"x-max-length": int32(2)}})
	if err != nil {
		t.Fatal(err)
	}
	other := declareTestQueue(t, v, "other")
	for _, name := range []string{"pol.a", "pol.own", "other"} {
		publishN(t, v, name, 10)
	}
	if own.Ready() != 2 {
		t.Fatalf("x-max-length 2 before any policy: %d ready", own.Ready())
	}
	mustSetPolicy(t, v, UserPolicy, Policy{Name: "cap", Pattern: `^pol\.`, ApplyTo: "queues", Definition: map[string]any{"max-length": 4}})
	if q.Ready() != 4 || own.Ready() != 2 || other.Ready() != 10 {
		t.Fatalf("after policy max-length 4: pol.a %d, pol.own %d, other %d ready; want 4, 2, 10", q.Ready(), own.Ready(), other.Ready())
	}
	fresh := declareTestQueue(t, v, "pol.fresh")
	if got := queueCfg(fresh).maxLength; got != 4 {
		t.Fatalf("queue declared under the policy: max-length %d", got)
	}
	// A higher-priority policy takes over; an operator policy caps it.
	mustSetPolicy(t, v, UserPolicy, Policy{Name: "wide", Pattern: `^pol`, Priority: 10, Definition: map[string]any{"max-length": 8, "message-ttl": 1000}})
	if got := queueCfg(q); got.maxLength != 8 || got.messageTTL != 1000 {
		t.Fatalf("higher priority policy: max-length %d ttl %d", got.maxLength, got.messageTTL)
	}
	mustSetPolicy(t, v, OperatorPolicy, Policy{Name: "ops", Pattern: ``, Definition: map[string]any{"max-length": 3}})
	if q.Ready() != 3 || other.Ready() != 3 || own.Ready() != 2 {
		t.Fatalf("operator max-length 3: pol.a %d, other %d, pol.own %d ready", q.Ready(), other.Ready(), own.Ready())
	}
	for _, c := range []struct {
		k    PolicyKind
		name string
	}{{OperatorPolicy, "ops"}, {UserPolicy, "wide"}, {UserPolicy, "cap"}} {
		if found, err := v.DeletePolicy(c.k, c.name); !found || err != nil {
			t.Fatalf("delete %s: %v %v", c.name, found, err)
		}
	}
	if got := queueCfg(q); got != settingsFromArgs(nil) {
		t.Fatalf("after every policy is gone pol.a runs with %+v", got)
	}
	if got := queueCfg(own); got != settingsFromArgs(own.Args) {
		t.Fatalf("after every policy is gone pol.own runs with %+v", got)
	}
	publishN(t, v, "pol.a", 5)
	if q.Ready() != 8 {
		t.Fatalf("no limit left: pol.a holds %d, want 8", q.Ready())
	}
	if found, err := v.DeletePolicy(UserPolicy, "cap"); found || err != nil {
		t.Fatalf("deleting a missing policy: %v %v", found, err)
	}
}

// An exchange's alternate exchange comes from its argument, else from its
// policy, and follows the policy as it changes.
func TestPolicyAlternateExchange(t *testing.T) {
	v := openTestVHost(t)
	must := mustOK(t)
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "ae.plain", Type: "direct"}))
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "ae.own", Type: "direct", Args: frame.Table{"alternate-exchange": "mine"}}))
	ae := func(name string) string {
		x, _ := v.Exchange(name)
		s, ok := x.alternateExchange()
		if !ok {
			return "-"
		}
		return s
	}
	if ae("ae.plain") != "-" || ae("ae.own") != "mine" {
		t.Fatalf("before policy: %s %s", ae("ae.plain"), ae("ae.own"))
	}
	mustSetPolicy(t, v, UserPolicy, Policy{Name: "ae", Pattern: `^ae\.`, ApplyTo: "exchanges", Definition: map[string]any{"alternate-exchange": "unrouted"}})
	must(v.ExchangeDeclare(guest, ExchangeDeclareOptions{Name: "ae.new", Type: "fanout"}))
	if ae("ae.plain") != "unrouted" || ae("ae.own") != "mine" || ae("ae.new") != "unrouted" || ae("amq.direct") != "-" {
		t.Fatalf("with policy: %s %s %s %s", ae("ae.plain"), ae("ae.own"), ae("ae.new"), ae("amq.direct"))
	}
	// A queues-only policy of higher priority does not take exchanges.
	mustSetPolicy(t, v, UserPolicy, Policy{Name: "q", Pattern: `.`, ApplyTo: "queues", Priority: 9, Definition: map[string]any{"max-length": 1}})
	if ae("ae.plain") != "unrouted" {
		t.Fatalf("queues-only policy changed an exchange: %s", ae("ae.plain"))
	}
	if _, err := v.DeletePolicy(UserPolicy, "ae"); err != nil {
		t.Fatal(err)
	}
	if ae("ae.plain") != "-" || ae("ae.new") != "-" {
		t.Fatalf("after delete: %s %s", ae("ae.plain"), ae("ae.new"))
	}
}

// Policies are definitions: they survive a restart both from the journal
// (a crash: the data dir copied while the broker runs) and from the
// snapshot a clean close writes, and queues restored at start run with
// them from the first moment.
func TestPolicyPersistence(t *testing.T) {
	allQueueArgsSupported(t)
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "pol.d", Durable: true}); err != nil {
		t.Fatal(err)
	}
	mustSetPolicy(t, v, UserPolicy, Policy{Name: "gone", Pattern: "^pol", Definition: map[string]any{"max-length": 1}})
	mustSetPolicy(t, v, UserPolicy, Policy{Name: "cap", Pattern: "^pol", Priority: 2, ApplyTo: "queues", Definition: map[string]any{"max-length": 7, "dead-letter-exchange": "dlx"}})
	mustSetPolicy(t, v, OperatorPolicy, Policy{Name: "ops", Pattern: ".", Definition: map[string]any{"message-ttl": 60000}})
	if _, err := v.DeletePolicy(UserPolicy, "gone"); err != nil {
		t.Fatal(err)
	}
	check := func(what string, b *Broker) {
		t.Helper()
		v, _ := b.VHost("/")
		ps, ops := v.Policies(UserPolicy), v.Policies(OperatorPolicy)
		if len(ps) != 1 || ps[0].Name != "cap" || ps[0].Priority != 2 || ps[0].ApplyTo != "queues" || len(ops) != 1 || ops[0].Name != "ops" {
			t.Fatalf("%s: policies %+v, operator policies %+v", what, ps, ops)
		}
		q, err := v.Queue(guest, "pol.d", 0)
		if err != nil {
			t.Fatal(err)
		}
		if s := queueCfg(q); s.maxLength != 7 || s.deadLetterX != "dlx" || s.messageTTL != 60000 {
			t.Fatalf("%s: restored queue runs with %+v", what, s)
		}
	}
	crashCopy := filepath.Join(t.TempDir(), "data")
	copyDir(t, b.Config().DataDir, crashCopy)
	crashed, err := Open(Config{DataDir: crashCopy})
	if err != nil {
		t.Fatal(err)
	}
	check("from the journal", crashed)
	crashed.Close()
	check("after a clean restart", reopen(t, b))
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(to, rel), 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(to, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A clean close folds the journal into definitions.json, so a reader of
// the snapshot alone (a Warren from before the journal) finds every
// change; a snapshot in a newer format than this Warren's is refused
// instead of being half read.
func TestDefinitionsFormatAndDowngrade(t *testing.T) {
	b := openTestBroker(t)
	v, _ := b.VHost("/")
	if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "late", Durable: true}); err != nil {
		t.Fatal(err)
	}
	dir := b.Config().DataDir
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(dir, "vhosts", nameDir("/"), definitionsFile)
	data, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	var old struct { // what the snapshot-only reader parsed
		Queues []struct{ Name string } `json:"queues"`
		Format int                     `json:"warren_format"`
	}
	if err := json.Unmarshal(data, &old); err != nil || len(old.Queues) != 1 || old.Queues[0].Name != "late" || old.Format != definitionsFormat {
		t.Fatalf("snapshot after a clean close: %s (%v)", data, err)
	}
	newer := strings.Replace(string(data), `"warren_format": 2`, `"warren_format": 99`, 1)
	if newer == string(data) {
		t.Fatalf("no format field in %s", data)
	}
	if err := os.WriteFile(snap, []byte(newer), 0o644); err != nil {
		t.Fatal(err)
	}
	nb, err := Open(Config{DataDir: dir})
	if err == nil {
		nb.Close()
		t.Fatal("a snapshot in format 99 was accepted")
	}
	if !strings.Contains(err.Error(), "format 99, newer than this Warren's 2") {
		t.Fatalf("refusal does not say why: %v", err)
	}
}

// Policies written into definitions.json in RabbitMQ's export shape (as an
// operator would, with Warren stopped) load at start and apply to the
// queues restored with them.
func TestPoliciesFromDefinitionsFile(t *testing.T) {
	dir := t.TempDir()
	vdir := filepath.Join(dir, "vhosts", nameDir("/"))
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		t.Fatal(err)
	}
	defs := `{
  "vhost": "/",
  "queues": [{"name": "jobs.a", "durable": true, "auto_delete": false, "arguments": {}}],
  "exchanges": [{"name": "in", "type": "topic", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}],
  "bindings": [],
  "policies": [
    {"vhost": "/", "name": "jobs", "pattern": "^jobs\\.", "apply-to": "queues", "definition": {"max-length": 100, "queue-mode": "lazy"}, "priority": 1},
    {"vhost": "/", "name": "ae", "pattern": "^in$", "apply-to": "exchanges", "definition": {"alternate-exchange": "lost"}, "priority": 0}
  ],
  "operator_policies": [
    {"vhost": "/", "name": "cap", "pattern": "", "apply-to": "queues", "definition": {"max-length": 50}, "priority": 0}
  ]
}`
	if err := os.WriteFile(filepath.Join(vdir, definitionsFile), []byte(defs), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Open(Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	v, _ := b.VHost("/")
	q, err := v.Queue(guest, "jobs.a", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := queueCfg(q).maxLength; got != 50 {
		t.Fatalf("jobs.a runs with max-length %d, want the operator's 50", got)
	}
	x, _ := v.Exchange("in")
	if ae, ok := x.alternateExchange(); !ok || ae != "lost" {
		t.Fatalf("exchange in: alternate exchange %q %v", ae, ok)
	}
	// A policy the file gets wrong stops the start, naming it.
	bad := strings.Replace(defs, `"max-length": 100`, `"max-length": "100"`, 1)
	b.Close()
	if err := os.WriteFile(filepath.Join(vdir, definitionsFile), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if nb, err := Open(Config{DataDir: dir}); err == nil {
		nb.Close()
		t.Fatal("a policy with a string max-length loaded")
	} else if !strings.Contains(err.Error(), `policy "jobs"`) || !strings.Contains(err.Error(), "is not a valid maximum length") {
		t.Fatalf("refusal does not name the policy and the fault: %v", err)
	}
}

func TestEffectivePolicy(t *testing.T) {
	v := openTestVHost(t)
	mustSetPolicy(t, v, UserPolicy, Policy{Name: "p", Pattern: "^a", Definition: map[string]any{"max-length": 10, "alternate-exchange": "x"}})
	mustSetPolicy(t, v, OperatorPolicy, Policy{Name: "op", Pattern: "^a", Definition: map[string]any{"max-length": 5, "delivery-limit": 3}})
	pol, op, def := v.EffectivePolicy("abc")
	want := map[string]any{"max-length": int64(5), "delivery-limit": int64(3), "alternate-exchange": "x"}
	if pol != "p" || op != "op" || len(def) != len(want) || def["max-length"] != want["max-length"] || def["delivery-limit"] != want["delivery-limit"] || def["alternate-exchange"] != "x" {
		t.Fatalf("EffectivePolicy(abc) = %q %q %v", pol, op, def)
	}
	if pol, op, def := v.EffectivePolicy("b"); pol != "" || op != "" || len(def) != 0 {
		t.Fatalf("EffectivePolicy(b) = %q %q %v", pol, op, def)
	}
}

// Whatever a management client sends, ParsePolicy answers without
// panicking, and what it accepts compiles.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		`{"pattern":"^a","definition":{"max-length":5},"priority":1,"apply-to":"queues"}`,
		`{"pattern":"(","definition":{"x":[1,{"a":null}]},"priority":"a"}`,
		`{"pattern":1,"definition":[1],"apply-to":null}`,
		`{"pattern":"","definition":{"message-ttl":1e400,"expires":-0.0,"max-age":"1D"}}`,
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, body string, operator bool) {
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var m map[string]any
		if dec.Decode(&m) != nil {
			return
		}
		k := UserPolicy
		if operator {
			k = OperatorPolicy
		}
		p, err := ParsePolicy(k, "/", "p", m)
		if err != nil {
			return
		}
		if _, err := compilePolicy(k, p); err != nil {
			t.Fatalf("accepted %s, then refused it: %v", body, err)
		}
	})
}

// Declares and policy changes running at once (for the race detector):
// every queue ends with the settings of the last change, which a declare
// either read from the new table or got from the change's pass over the
// queues. (A declare that missed the table is caught deterministically by
// TestPolicyAppliedAndRemoved's pol.fresh.)
func TestPolicyChangesRaceDeclares(t *testing.T) {
	v := openTestVHost(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 300 {
			if _, err := v.QueueDeclare(guest, QueueDeclareOptions{Name: "race." + strconv.Itoa(i)}); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := 0; ; i++ {
		mustSetPolicy(t, v, UserPolicy, Policy{Name: "p", Pattern: `^race\.`, Definition: map[string]any{"max-length": i}})
		select {
		case <-done: // every declare finished before or during set i
			for n := range 300 {
				q, err := v.Queue(guest, "race."+strconv.Itoa(n), 0)
				if err != nil {
					t.Fatal(err)
				}
				if got := queueCfg(q).maxLength; got != int64(i) {
					t.Fatalf("race.%d runs with max-length %d, want the last policy's %d", n, got, i)
				}
			}
			return
		default:
		}
	}
}
