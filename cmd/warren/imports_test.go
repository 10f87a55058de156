package main

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// allowedImports is docs/ARCHITECTURE.md's import table: which of our own
// packages and which third-party modules each package may import. The
// standard library is always allowed.
var allowedImports = map[string][]string{
	"frame":   {},
	"router":  {"frame"},
	"segment": {"golang.org/x/sys", "github.com/klauspost/compress"},
	"index":   {"segment", "golang.org/x/sys"},
	"broker":  {"router", "segment", "index", "frame"},
	"netio":   {"frame", "broker", "github.com/panjf2000/gnet/v2"},
	"mgmt":    {"broker", "frame", "github.com/VictoriaMetrics/metrics"},
	"bench":   {"frame", "github.com/rabbitmq/amqp091-go", "golang.org/x/sys"},
	// Only cmd/warren imports the config package, which needs nothing.
	"cmd/warren/config": {},
}

const module = "github.com/warrenmq/warren/"

func TestImportBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		rel := strings.TrimPrefix(p.ImportPath, module)
		top, _, _ := strings.Cut(rel, "/")
		if rel == "cmd/warren/config" || strings.HasPrefix(rel, "cmd/warren/config/") {
			top = "cmd/warren/config"
		}
		allowed, ruled := allowedImports[top]
		if !ruled {
			continue // cmd/... may import everything
		}
		for _, imp := range p.Imports {
			if !strings.Contains(strings.Split(imp, "/")[0], ".") {
				continue // standard library
			}
			if ok := importAllowed(top, imp, allowed); !ok {
				t.Errorf("%s imports %s, which the import table does not allow", p.ImportPath, imp)
			}
		}
	}
}

func importAllowed(top, imp string, allowed []string) bool {
	if strings.HasPrefix(imp, module) {
		dep, _, _ := strings.Cut(strings.TrimPrefix(imp, module), "/")
		if dep == top {
			return true // its own subpackages
		}
		for _, a := range allowed {
			if a == dep {
				return true
			}
		}
		return false
	}
	for _, a := range allowed {
		if strings.Contains(a, ".") && strings.HasPrefix(imp, a) {
			return true
		}
	}
	return false
}
