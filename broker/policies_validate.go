package broker

import (
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/warrenmq/warren/frame"
)

// PolicyError is a policy RabbitMQ would refuse. Reason is RabbitMQ's text
// ("Validation failed\n\n..." with the offending values printed as Erlang
// terms), which its management API returns as a 400's reason.
type PolicyError struct{ Reason string }

func (e *PolicyError) Error() string { return "broker: invalid policy: " + e.Reason }

// policyKeys are the definition keys RabbitMQ 3.10's rabbit_policies
// validates, each with its check. Warren acts on the queue and exchange
// settings (queueSettings, alternateExchange); the others are accepted so
// that definitions exported from RabbitMQ load, and have no effect here
// (every queue is lazy and on disk, there are no streams or replicas).
var policyKeys = map[string]func(v any) bool{
	"alternate-exchange":            isString,
	"dead-letter-exchange":          isString,
	"dead-letter-routing-key":       isString,
	"dead-letter-strategy":          oneOf("at-most-once", "at-least-once"),
	"message-ttl":                   intAtLeast(0),
	"expires":                       intAtLeast(1),
	"max-length":                    intAtLeast(0),
	"max-length-bytes":              intAtLeast(0),
	"max-in-memory-length":          intAtLeast(0),
	"max-in-memory-bytes":           intAtLeast(0),
	"queue-mode":                    oneOf("default", "lazy"),
	"queue-version":                 func(v any) bool { n, ok := policyInt(v); return ok && (n == 1 || n == 2) },
	"overflow":                      oneOf("drop-head", "reject-publish", "reject-publish-dlx"),
	"delivery-limit":                intAtLeast(0),
	"max-age":                       func(v any) bool { s, ok := v.(string); return ok && maxAgeRE.MatchString(s) },
	"stream-max-segment-size-bytes": func(v any) bool { n, ok := policyInt(v); return ok && n >= 0 && n <= 3_000_000_000 },
	"queue-leader-locator":          oneOf("client-local", "balanced", "random", "least-leaders"),
	"initial-cluster-size":          intAtLeast(0),
}

// policyKeyErrors are RabbitMQ's messages for a bad value of each key.
var policyKeyErrors = map[string]string{
	"alternate-exchange":            "%s is not a valid alternate exchange name",
	"dead-letter-exchange":          "%s is not a valid dead letter exchange name",
	"dead-letter-routing-key":       "%s is not a valid dead letter routing key",
	"dead-letter-strategy":          "%s is not a valid dead letter strategy",
	"message-ttl":                   "%s is not a valid message TTL",
	"expires":                       "%s is not a valid queue expiry",
	"max-length":                    "%s is not a valid maximum length",
	"max-length-bytes":              "%s is not a valid maximum length in bytes",
	"max-in-memory-length":          "%s is not a valid maximum memory in bytes",
	"max-in-memory-bytes":           "%s is not a valid maximum memory in bytes",
	"queue-mode":                    "%s is not a valid queue-mode value",
	"queue-version":                 "%s is not a valid queue-version value",
	"overflow":                      "%s is not a valid overflow value",
	"delivery-limit":                "%s is not a valid delivery limit",
	"max-age":                       "%s is not a valid max age",
	"stream-max-segment-size-bytes": "%s is not a valid segment size",
	"queue-leader-locator":          "%s is not a valid queue leader locator value",
	"initial-cluster-size":          "%s is not a valid cluster size",
}

// operatorPolicyKeys are the keys an operator policy may hold: limits, for
// which the lower of the operator's and the user's value wins.
var operatorPolicyKeys = []string{
	"expires", "message-ttl", "max-length", "max-length-bytes",
	"max-in-memory-length", "max-in-memory-bytes", "delivery-limit",
}

var maxAgeRE = regexp.MustCompile(`^[0-9]+(Y|M|D|h|m|s)$`)

func isString(v any) bool { _, ok := v.(string); return ok }

func oneOf(vals ...string) func(any) bool {
	return func(v any) bool {
		s, ok := v.(string)
		for _, x := range vals {
			if ok && s == x {
				return true
			}
		}
		return false
	}
}

func intAtLeast(min int64) func(any) bool {
	return func(v any) bool { n, ok := policyInt(v); return ok && n >= min }
}

// policyInt reads an integer from a definition value: a json.Number
// without a fraction or exponent (the management API decodes with
// UseNumber, so 5.0 stays a float as in RabbitMQ), a Go integer, or a whole
// float64 (definitions read back from disk).
func policyInt(v any) (int64, bool) {
	switch n := v.(type) {
	case json.Number:
		if strings.ContainsAny(string(n), ".eE") {
			return 0, false
		}
		i, err := n.Int64()
		return i, err == nil
	case float64:
		if n == math.Trunc(n) && math.Abs(n) < 1<<53 {
			return int64(n), true
		}
		return 0, false
	case int:
		return int64(n), true
	}
	return intArg(v)
}

// ParsePolicy builds a policy from the body of a management API PUT (a
// JSON object decoded with UseNumber) and validates it as RabbitMQ does,
// errors in RabbitMQ's order and words. An absent priority is 0 and an
// absent apply-to "all"; other keys are ignored, as RabbitMQ does.
func ParsePolicy(k PolicyKind, vhost, name string, body map[string]any) (Policy, error) {
	p := Policy{VHost: vhost, Name: name, ApplyTo: "all"}
	pattern, definition := body["pattern"], body["definition"]
	priority, hasPriority := body["priority"]
	applyTo, hasApplyTo := body["apply-to"]
	var errs []string
	// rabbit_parameter_validation:proplist reports in reverse order of
	// its constraints: definition, apply-to, pattern, priority.
	def, ok := definition.(map[string]any)
	if !ok {
		errs = append(errs, "definition must be a dictionary: "+erlangTerm(definition))
	} else if msg := validateDefinition(k, def); msg != "" {
		errs = append(errs, msg)
	} else if msg := unsupportedPolicySettings(def); msg != "" {
		errs = append(errs, msg)
	} else {
		p.Definition = normaliseDefinition(def)
	}
	if hasApplyTo {
		s, _ := applyTo.(string)
		if s != "all" && s != "queues" && s != "exchanges" {
			errs = append(errs, fmt.Sprintf("apply-to '%s' unrecognised; should be 'queues', 'exchanges' or 'all'", erlangString(applyTo)))
		}
		p.ApplyTo = s
	}
	if s, ok := pattern.(string); !ok {
		errs = append(errs, "pattern should be a binary but was "+erlangTerm(pattern))
	} else if _, err := regexp.Compile(s); err != nil {
		errs = append(errs, "pattern should be regular expression but is invalid: "+regexpError(err))
	} else {
		p.Pattern = s
	}
	if hasPriority {
		f, ok := policyNumber(priority)
		if !ok {
			errs = append(errs, "priority should be a number, actually was "+erlangTerm(priority))
		}
		p.Priority = f
	}
	if len(errs) > 0 {
		return Policy{}, &PolicyError{Reason: "Validation failed\n\n" + strings.Join(errs, "\n") + "\n"}
	}
	return p, nil
}

// unsupportedPolicySettings refuses a setting whose queue argument this
// Warren refuses (checkSupportedQueueArgs): a policy must not promise a
// feature the queues do not have. As features land and leave that list,
// their policy keys are accepted with them.
func unsupportedPolicySettings(def map[string]any) string {
	keys := make([]string, 0, len(def))
	for key := range def {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	for _, key := range keys {
		if checkSupportedQueueArgs(frame.Table{"x-" + key: def[key]}) != nil {
			return fmt.Sprintf("policy setting '%s' with value %s is not supported by this Warren version", key, erlangTerm(def[key]))
		}
	}
	return ""
}

func policyNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	case float64:
		return n, true
	}
	if n, ok := policyInt(v); ok {
		return float64(n), true
	}
	return 0, false
}

// validateDefinition returns RabbitMQ's message for the first bad value
// (keys in order), else for the keys it does not know, else "".
func validateDefinition(k PolicyKind, def map[string]any) string {
	if len(def) == 0 {
		return "no policy provided"
	}
	keys := make([]string, 0, len(def))
	for key := range def {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	var unknown []string
	for _, key := range keys {
		check, known := policyKeys[key]
		if known && k == OperatorPolicy && !slices.Contains(operatorPolicyKeys, key) {
			known = false
		}
		if !known {
			unknown = append(unknown, "{"+erlangBinary(key)+","+erlangTerm(def[key])+"}")
			continue
		}
		if !check(def[key]) {
			return fmt.Sprintf(policyKeyErrors[key], erlangTerm(def[key]))
		}
	}
	if len(unknown) > 0 {
		return "[" + strings.Join(unknown, ",") + "] are not recognised policy settings"
	}
	return ""
}

// normaliseDefinition stores integers as int64, whatever JSON decoder
// produced them, so the settings read them one way.
func normaliseDefinition(def map[string]any) map[string]any {
	out := make(map[string]any, len(def))
	for k, v := range def {
		if n, ok := policyInt(v); ok {
			out[k] = n
		} else {
			out[k] = v
		}
	}
	return out
}

// compilePolicy validates a policy built in Go or read from disk.
func compilePolicy(k PolicyKind, p Policy) (*compiledPolicy, error) {
	def := make(map[string]any, len(p.Definition))
	for key, v := range p.Definition {
		def[key] = v
	}
	body := map[string]any{"pattern": p.Pattern, "definition": def, "priority": p.Priority}
	if p.ApplyTo != "" {
		body["apply-to"] = p.ApplyTo
	}
	q, err := ParsePolicy(k, p.VHost, p.Name, body)
	if err != nil {
		return nil, err
	}
	return &compiledPolicy{Policy: q, re: regexp.MustCompile(q.Pattern)}, nil
}

// regexpError prints a pattern error in the shape of RabbitMQ's
// {Reason, Offset}; Go's parser names the offending part, not its offset.
func regexpError(err error) string {
	if e, ok := err.(*syntax.Error); ok {
		return "{" + strconv.Quote(string(e.Code)) + "," + erlangBinary(e.Expr) + "}"
	}
	return "{" + strconv.Quote(err.Error()) + "}"
}

// erlangTerm prints a JSON value as RabbitMQ's ~p prints the term its
// JSON decoder made of it: strings as binaries, null as the atom.
func erlangTerm(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(x)
	case string:
		return erlangBinary(x)
	case json.Number:
		if _, ok := policyInt(x); ok {
			return string(x)
		}
		f, _ := x.Float64()
		return erlangFloat(f)
	case float64:
		if n, ok := policyInt(x); ok {
			return strconv.FormatInt(n, 10)
		}
		return erlangFloat(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = erlangTerm(e)
		}
		return "[" + strings.Join(parts, ",") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = erlangBinary(k) + " => " + erlangTerm(x[k])
		}
		return "#{" + strings.Join(parts, ",") + "}"
	}
	if n, ok := policyInt(v); ok {
		return strconv.FormatInt(n, 10)
	}
	return fmt.Sprint(v)
}

// erlangString is ~s of a value: a string as itself.
func erlangString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return erlangTerm(v)
}

func erlangBinary(s string) string {
	return `<<"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `">>`
}

// erlangFloat prints as Erlang's shortest round-trip form: 5.0, 1.5, 1.0e20.
func erlangFloat(f float64) string {
	s := strconv.FormatFloat(f, 'g', -1, 64)
	mant, exp, hasExp := strings.Cut(s, "e")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	if hasExp {
		exp = strings.TrimPrefix(exp, "+")
		return mant + "e" + exp
	}
	return mant
}
