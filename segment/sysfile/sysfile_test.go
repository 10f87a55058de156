package sysfile_test

import (
	"bytes"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/warrenmq/warren/segment/sysfile"
)

func openTemp(t *testing.T) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// ZeroFill covers ranges longer than its zero buffer, starting anywhere,
// and leaves the bytes around the range alone.
func TestZeroFill(t *testing.T) {
	f := openTemp(t)
	n := int64(3*sysfile.ZeroChunk + 17)
	junk := bytes.Repeat([]byte{0xAB}, int(n)+200)
	if err := sysfile.PwriteAll(int(f.Fd()), junk, 0); err != nil {
		t.Fatal(err)
	}
	if err := sysfile.ZeroFill(int(f.Fd()), 100, n); err != nil {
		t.Fatal(err)
	}
	if err := sysfile.Datasync(int(f.Fd())); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(junk) {
		t.Fatalf("file is %d bytes, want %d", len(got), len(junk))
	}
	for i, b := range got {
		inRange := int64(i) >= 100 && int64(i) < 100+n
		if inRange && b != 0 || !inRange && b != 0xAB {
			t.Fatalf("byte %d is %#x (in range: %v)", i, b, inRange)
		}
	}
}

// PwriteAll extends the file past its end and writes at the offset given,
// not at the file position.
func TestPwriteAllExtends(t *testing.T) {
	f := openTemp(t)
	if err := sysfile.PwriteAll(int(f.Fd()), []byte("tail"), 1<<20); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1<<20+4 || string(got[1<<20:]) != "tail" {
		t.Fatalf("file is %d bytes ending %q", len(got), got[len(got)-4:])
	}
}

func TestZerosIsZero(t *testing.T) {
	z := sysfile.Zeros(sysfile.ZeroChunk)
	if len(z) != sysfile.ZeroChunk || !bytes.Equal(z, make([]byte, sysfile.ZeroChunk)) {
		t.Fatal("Zeros is not zero")
	}
}

// The table is CRC-32C: the check value from the Castagnoli paper's
// standard vector ("123456789" → 0xE3069283). Files on disk depend on it.
func TestCastagnoliCheckValue(t *testing.T) {
	if got := crc32.Checksum([]byte("123456789"), sysfile.Castagnoli); got != 0xE3069283 {
		t.Fatalf("crc32c(123456789) = %#x, want 0xe3069283", got)
	}
}
