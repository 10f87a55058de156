package mgmt

import (
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/warrenmq/warren/broker"
)

// api is the RabbitMQ-compatible management API: handlers registered on
// the server's ServeMux with Go's method patterns, each behind the
// authentication and tag check RabbitMQ's resource of that path makes.
type api struct {
	b   *broker.Broker
	mux *http.ServeMux
	// allowed collects each path's methods, for the 405 answer.
	allowed map[string][]string

	cfg     Config
	http    net.Addr  // the management listener's own address
	started time.Time // for the node's uptime
	rates   *rates
}

// apiHandler serves one request for an authenticated principal.
type apiHandler func(w http.ResponseWriter, r *http.Request, p *broker.Principal)

func newAPI(b *broker.Broker, mux *http.ServeMux) *api {
	a := &api{b: b, mux: mux, allowed: make(map[string][]string)}
	// Anything else under /api/ is RabbitMQ's JSON 404.
	mux.HandleFunc("/api/", func(w http.ResponseWriter, _ *http.Request) { writeNotFound(w) })
	return a
}

// escapedPaths lets the API's patterns match escaped segments: RabbitMQ's
// default vhost "/" travels as "%2F", which ServeMux would unescape into
// an empty segment and clean away. Under /api/ the mux sees the path as
// sent, and handlers unescape each wildcard with pathValue.
func escapedPaths(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			u := *r.URL
			u.Path, u.RawPath = r.URL.EscapedPath(), ""
			r2 := *r
			r2.URL = &u
			r = &r2
		}
		next.ServeHTTP(w, r)
	})
}

// pathValue is the unescaped value of a pattern's wildcard.
func pathValue(r *http.Request, key string) string {
	v := r.PathValue(key)
	if s, err := url.PathUnescape(v); err == nil {
		return s
	}
	return v
}

// handle registers h for method and path (a ServeMux pattern path; read
// its wildcards with pathValue), allowed to
// the users perm admits. A request with another method gets RabbitMQ's
// 405 with the Allow list, OPTIONS a 200 with it.
func (a *api) handle(method, path string, perm permission, h apiHandler) {
	a.mux.Handle(method+" "+path, a.authenticated(perm, h))
	if _, seen := a.allowed[path]; !seen {
		a.mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", strings.Join(a.allowed[path], ", ")+", OPTIONS")
			if r.Method == http.MethodOptions { // CORS preflight: no credentials, as RabbitMQ
				w.WriteHeader(http.StatusOK)
				return
			}
			w.WriteHeader(http.StatusMethodNotAllowed)
		})
		a.allowed[path] = []string{"HEAD"}
	}
	a.allowed[path] = append(a.allowed[path], method)
}

// writeJSON answers 200 with v as RabbitMQ prints it (no HTML escaping of
// <, > and & inside strings).
func writeJSON(w http.ResponseWriter, v any) { writeJSONStatus(w, http.StatusOK, v) }

// writeJSONStatus is writeJSON with another status.
func writeJSONStatus(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeError(w, http.StatusInternalServerError, "internal_server_error", err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// writeError answers with RabbitMQ's error body: {"error":..,"reason":..}.
func writeError(w http.ResponseWriter, status int, kind, reason string) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(map[string]string{"error": kind, "reason": reason})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
}

// writeNotFound is RabbitMQ's answer for a missing object or path.
func writeNotFound(w http.ResponseWriter) {
	writeError(w, http.StatusNotFound, "Object Not Found", "Not Found")
}

// decodeObject reads a JSON object body with numbers kept as written (so
// 5.0 stays a float, as RabbitMQ's decoder keeps it). An empty body is an
// empty object, as in RabbitMQ. ok false: the 400 has been written.
func decodeObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	return decodeObjectLimit(w, r, maxBody)
}

// decodeObjectLimit is decodeObject for bodies up to limit bytes.
func decodeObjectLimit(w http.ResponseWriter, r *http.Request, limit int64) (map[string]any, bool) {
	body := http.MaxBytesReader(w, r.Body, limit)
	dec := json.NewDecoder(body)
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if err != nil && err.Error() == "EOF" {
		return map[string]any{}, true
	}
	obj, isObj := v.(map[string]any)
	if err != nil || !isObj || dec.More() {
		writeError(w, http.StatusBadRequest, "bad_request", "not_json")
		return nil, false
	}
	return obj, true
}

// maxBody bounds a request body; definitions of one object are small.
const maxBody = 1 << 20

// requireKeys answers RabbitMQ's 400 for mandatory body keys left out.
func requireKeys(w http.ResponseWriter, body map[string]any, keys ...string) bool {
	var missing []string
	for _, k := range keys {
		if _, ok := body[k]; !ok {
			missing = append(missing, "{key_missing,"+k+"}")
		}
	}
	if len(missing) > 0 {
		writeError(w, http.StatusBadRequest, "bad_request", "["+strings.Join(missing, ",")+"]")
		return false
	}
	return true
}
