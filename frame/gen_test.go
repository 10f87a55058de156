package frame

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// methods_gen.go is what the generator writes from the spec XML today: a
// change to either without `go generate ./frame` fails here. Running the
// generator also keeps it compiling, since its ignore constraint hides it
// from go build, vet and install.
func TestGeneratedCodeUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the generator")
	}
	out := filepath.Join(t.TempDir(), "methods_gen.go")
	cmd := exec.Command("go", "run", "./internal/gen/main.go", "-spec", "amqp0-9-1.stripped.extended.xml", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("methods_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("methods_gen.go is not what the generator writes: run go generate ./frame")
	}
}
