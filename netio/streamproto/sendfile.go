package streamproto

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// sendfileMin is the size of a chunk's entries from which a delivery
// goes from the segment file to the socket with sendfile(2): the kernel
// hands the page cache's pages to the socket, so the broker copies none of
// the chunk's bytes (each of N readers of a chunk costs two syscalls, not
// a copy of the chunk). Smaller chunks are cheaper copied into the write
// buffer with their neighbours and written together.
const sendfileMin = 16 << 10

// fileSender writes a delivery's head (what is buffered, deliver frame
// prefix and chunk header last) with MSG_MORE, then the chunk's entries
// from the segment file, on a TCP connection. It is built once per
// connection and its callbacks are method values made once, so a send
// allocates nothing.
type fileSender struct {
	rc    syscall.RawConn
	sends atomic.Uint64 // chunks sent from their file (tests read it)

	// The send in progress (writer goroutine only).
	head   []byte
	inFd   int
	off    int64
	left   int
	err    error
	headFn func(fd uintptr) bool
	fileFn func(fd uintptr) bool
}

// newFileSender returns nil when nc is not a TCP connection.
func newFileSender(nc net.Conn) *fileSender {
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	fs := &fileSender{rc: rc}
	fs.headFn, fs.fileFn = fs.sendHead, fs.sendFile
	return fs
}

// send writes head, then n bytes of f from off. An error is a dead socket
// (or an unreadable file: the connection cannot go on mid-frame either way).
func (fs *fileSender) send(head []byte, f *os.File, off int64, n int) error {
	fs.head, fs.err = head, nil
	if err := fs.rc.Write(fs.headFn); err != nil {
		return err
	}
	if fs.err != nil {
		return fs.err
	}
	fs.inFd, fs.off, fs.left = int(f.Fd()), off, n
	if err := fs.rc.Write(fs.fileFn); err != nil {
		return err
	}
	fs.head = nil
	if fs.err == nil {
		fs.sends.Add(1)
	}
	return fs.err
}

// sendHead is a RawConn.Write callback: false asks to wait for the socket.
func (fs *fileSender) sendHead(fd uintptr) bool {
	for len(fs.head) > 0 {
		n, _, e := syscall.Syscall6(syscall.SYS_SENDTO, fd, uintptr(unsafe.Pointer(&fs.head[0])), uintptr(len(fs.head)),
			uintptr(syscall.MSG_MORE|syscall.MSG_NOSIGNAL), 0, 0)
		switch {
		case e == syscall.EAGAIN:
			return false
		case e == syscall.EINTR:
			continue
		case e != 0:
			fs.err = e
			return true
		}
		fs.head = fs.head[n:]
	}
	return true
}

func (fs *fileSender) sendFile(fd uintptr) bool {
	for fs.left > 0 {
		n, err := syscall.Sendfile(int(fd), fs.inFd, &fs.off, fs.left)
		switch {
		case errors.Is(err, syscall.EAGAIN):
			if n > 0 {
				fs.left -= n
			}
			return false
		case errors.Is(err, syscall.EINTR):
			continue
		case err != nil:
			fs.err = err
			return true
		case n == 0:
			fs.err = errors.New("streamproto: segment file shorter than its chunk")
			return true
		}
		fs.left -= n
	}
	return true
}
