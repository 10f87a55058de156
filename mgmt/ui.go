package mgmt

import (
	"embed"
	"io/fs"
	"net/http"
)

// uiFiles is the management web UI: plain HTML, CSS and JavaScript with
// no build step, served at / on the management port. The page calls the
// HTTP API with the credentials typed at its login (basic auth, as
// RabbitMQ's UI does), so the UI itself needs no session state.
//
//go:embed ui
var uiFiles embed.FS

// uiCSP keeps the page to its own files: no inline script or style, no
// other origin. Downloads of exported definitions are blob: URLs.
const uiCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// registerUI serves the embedded files at /; paths the API, metrics and
// health handlers register are more specific and win.
func registerUI(mux *http.ServeMux) {
	sub, err := fs.Sub(uiFiles, "ui")
	if err != nil {
		panic(err) // the embed directive guarantees the directory
	}
	files := http.FileServerFS(sub)
	// "/" without a method: "GET /" would conflict with the API's
	// catch-all "/api/" (neither pattern more specific than the other).
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			h.Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.Set("Content-Security-Policy", uiCSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		// The files change with the binary and have no modification
		// time: revalidate each time (they are small).
		h.Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	}))
}
