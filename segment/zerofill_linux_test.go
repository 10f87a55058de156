package segment

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/warrenmq/warren/segment/smallfs"
)

// unwrittenBytes is how much of path's file is in unwritten (fallocated,
// never written) extents, from FIEMAP; ok is false where the file system
// cannot say.
func unwrittenBytes(t *testing.T, path string) (n int64, ok bool) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	const (
		fsIocFiemap      = 0xC020660B // _IOWR('f', 11, struct fiemap)
		fiemapFlagSync   = 0x1
		extentUnwritten  = 0x800
		extentLast       = 0x1
		headerSize       = 32
		extentSize       = 56
		extentsPerSearch = 64
	)
	buf := make([]byte, headerSize+extentsPerSearch*extentSize)
	var start uint64
	for {
		clear(buf)
		binary.NativeEndian.PutUint64(buf[0:], start)
		binary.NativeEndian.PutUint64(buf[8:], ^uint64(0)-start)
		binary.NativeEndian.PutUint32(buf[16:], fiemapFlagSync)
		binary.NativeEndian.PutUint32(buf[24:], extentsPerSearch)
		if _, _, e := unix.Syscall(unix.SYS_IOCTL, f.Fd(), fsIocFiemap, uintptr(unsafe.Pointer(&buf[0]))); e != 0 {
			return 0, false
		}
		mapped := binary.NativeEndian.Uint32(buf[20:])
		if mapped == 0 {
			return n, true
		}
		for i := range mapped {
			e := buf[headerSize+int(i)*extentSize:]
			logical := binary.NativeEndian.Uint64(e[0:])
			length := binary.NativeEndian.Uint64(e[16:])
			flags := binary.NativeEndian.Uint32(e[40:])
			if flags&extentUnwritten != 0 {
				n += int64(length)
			}
			start = logical + length
			if flags&extentLast != 0 {
				return n, true
			}
		}
	}
}

// A durable log whose records are fdatasynced zero-fills the blocks it
// reserves ahead of its records instead of fallocating them: an fdatasync
// after a write into fallocated (unwritten) blocks also commits their
// conversion through the file system's journal, which here doubled its
// time. Logs nobody fdatasyncs keep fallocate, which writes nothing.
func TestSyncedLogReservesWrittenBlocks(t *testing.T) {
	sy := NewSyncer()
	defer sy.Close()
	wsy := NewSyncerPolicy(SyncWrite) // warren.fsync = false: nothing fdatasyncs
	defer wsy.Close()
	for _, c := range []struct {
		name          string
		o             Options
		wantUnwritten bool
	}{
		{"synced", Options{Durable: true, Syncer: sy}, false},
		{"transient", Options{}, true},
		{"write-only syncer", Options{Durable: true, Syncer: wsy}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			l, _ := openLog(t, dir, c.o)
			body := make([]byte, 3000)
			for i := range 200 { // past the first reservation, into the next ones
				r := testRecord(i, body)
				r.Flags |= FlagPersistent
				if _, _, _, err := l.Append(r); err != nil {
					t.Fatal(err)
				}
			}
			if err := l.Flush(); err != nil {
				t.Fatal(err)
			}
			h := l.head
			if h.alloc <= int64(h.used) {
				t.Fatalf("nothing reserved past the records (alloc %d, used %d)", h.alloc, h.used)
			}
			n, ok := unwrittenBytes(t, l.path(h.id))
			if !ok {
				t.Skip("the file system does not answer FIEMAP")
			}
			if c.wantUnwritten && n == 0 {
				t.Skip("the file system reports no unwritten extents after fallocate")
			}
			if !c.wantUnwritten && n != 0 {
				t.Errorf("%d bytes of the head are unwritten (fallocated) extents, want none", n)
			}
		})
	}
}

// A zero-filled reservation that does not fit takes nothing from the disk.
// Writing zeros alone filled the disk to its last block before failing:
// the disk alarm (free < limit) tripped, and every other writer met ENOSPC
// until the failed segment was removed (TestDiskFullNacks in netio saw its
// publisher blocked by the alarm).
func TestZeroFillThatDoesNotFitTakesNothing(t *testing.T) {
	mnt := smallfs.Mount(t, 4<<20)
	spare := filepath.Join(mnt, "spare")
	if err := os.WriteFile(spare, make([]byte, 768<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	smallfs.Fill(t, filepath.Join(mnt, "filler"))
	if err := os.Remove(spare); err != nil {
		t.Fatal(err)
	}
	free := func() int64 {
		var st unix.Statfs_t
		if err := unix.Statfs(mnt, &st); err != nil {
			t.Fatal(err)
		}
		return int64(st.Bavail) * st.Bsize
	}
	sy := NewSyncer()
	defer sy.Close()
	l, _ := openLog(t, filepath.Join(mnt, "log"), Options{Durable: true, Syncer: sy, Logger: quietLogger(&logBuf{})})
	r := testRecord(1, make([]byte, 4000))
	r.Flags |= FlagPersistent
	for i := 0; ; i++ {
		before := free()
		_, _, g, err := l.Append(r)
		if err != nil {
			if after := free(); after < before-4096 {
				t.Fatalf("the append that failed (%v) took %d of the %d bytes free", err, before-after, before)
			}
			if free() == 0 {
				t.Fatal("the disk is left with no block free")
			}
			return
		}
		for sy.Done() < g { // its write done, so free space is settled
			time.Sleep(time.Millisecond)
		}
		if i > 1000 {
			t.Fatal("1000 appends of 4 KB fitted into well under 1 MiB")
		}
	}
}
