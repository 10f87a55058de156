package netio

import (
	"net"
	"os"
	"sync"
	"testing"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// fakeTransport lets Feed run without a socket.
type fakeTransport struct{ closed bool }

func (t *fakeTransport) Wake()  {}
func (t *fakeTransport) Close() { t.closed = true }
func (t *fakeTransport) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}
func (t *fakeTransport) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5672}
}
func (t *fakeTransport) Write(b []byte) (int, error) { return len(b), nil }
func (t *fakeTransport) Buffered() int               { return 0 }

var (
	fuzzOnce sync.Once
	fuzzSrv  *Server
)

func fuzzServer(t testing.TB) *Server {
	fuzzOnce.Do(func() {
		dir, err := os.MkdirTemp("", "warren-fuzz")
		if err != nil {
			t.Fatal(err)
		}
		b, err := broker.Open(broker.Config{DataDir: dir, MaxMessageSize: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		fuzzSrv = NewServer(Config{}, b)
	})
	return fuzzSrv
}

// handshake is a client's opening: header, start-ok, tune-ok, open, and
// channel 1 opened, so fuzzed bytes reach the channel methods.
func handshake() []byte {
	var b []byte
	b = append(b, frame.ProtocolHeader[:]...)
	b = frame.AppendMethodFrame(b, 0, &frame.ConnectionStartOk{
		ClientProperties: frame.Table{"product": "fuzz"}, Mechanism: "PLAIN", Response: "\x00guest\x00guest", Locale: "en_US",
	})
	b = frame.AppendMethodFrame(b, 0, &frame.ConnectionTuneOk{ChannelMax: 16, FrameMax: 131072, Heartbeat: 0})
	b = frame.AppendMethodFrame(b, 0, &frame.ConnectionOpen{VirtualHost: "/"})
	b = frame.AppendMethodFrame(b, 1, &frame.ChannelOpen{})
	return b
}

func seedPublish() []byte {
	var b []byte
	b = frame.AppendMethodFrame(b, 1, &frame.QueueDeclare{Queue: "fz", AutoDelete: true})
	b = frame.AppendMethodFrame(b, 1, &frame.BasicConsume{Queue: "fz"})
	b = frame.AppendMethodFrame(b, 1, &frame.BasicPublish{RoutingKey: "fz"})
	props := frame.AppendProperties(nil, &frame.Properties{ContentType: "text/plain", DeliveryMode: 2, Headers: frame.Table{"a": int32(1)}})
	b = frame.AppendContentHeader(b, 1, 60, 5, props)
	b = frame.AppendBody(b, 1, []byte("hello"), 131072)
	b = frame.AppendBasicAck(b, 1, 1, false)
	b = frame.AppendMethodFrame(b, 1, &frame.TxSelect{})
	b = frame.AppendMethodFrame(b, 1, &frame.ChannelClose{})
	return b
}

// FuzzFeed drives the connection state machine with arbitrary bytes after
// a valid handshake: whatever a peer sends, Feed must not panic, and the
// connection must end in a consistent state.
func FuzzFeed(f *testing.F) {
	f.Add(seedPublish(), uint8(0))
	f.Add(seedPublish(), uint8(7))
	f.Add([]byte{1, 0, 1, 0, 0, 0, 4, 0, 60, 0, 40, 0xce}, uint8(3))
	f.Add(frame.AppendMethodFrame(nil, 1, &frame.ExchangeDeclare{Exchange: "x", Type: "topic"}), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		srv := fuzzServer(t)
		tr := &fakeTransport{}
		c := newConn(srv, tr)
		in := append(handshake(), data...)
		// Feed in two pieces, as reads may split anywhere.
		cut := len(in) - int(split)%(len(data)+1)
		pending := []byte{}
		for _, piece := range [][]byte{in[:cut], in[cut:]} {
			pending = append(pending, piece...)
			n := c.Feed(pending)
			if n < 0 || n > len(pending) {
				t.Fatalf("Feed used %d of %d bytes", n, len(pending))
			}
			pending = pending[n:]
			out := c.TakeOutput()
			c.ReturnOutput(out, 0)
		}
		c.Closed()
	})
}
