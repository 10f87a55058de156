package fast

import (
	"context"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/warrenmq/warren/bench/wire"
)

// fakeServer is a scripted broker on loopback for tests without a broker.
type fakeServer struct {
	t   *testing.T
	ln  net.Listener
	c   net.Conn
	buf []byte
}

func newFakeServer(t *testing.T) *fakeServer {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Skip("no loopback:", err)
	}
	t.Cleanup(func() { ln.Close() })
	return &fakeServer{t: t, ln: ln}
}

func (s *fakeServer) uri() string { return "amqp://guest:guest@" + s.ln.Addr().String() + "/" }

// method reads client frames until a method frame and returns its id.
func (s *fakeServer) method() (uint32, []byte) {
	for {
		f, n, err := wire.ParseFrame(s.buf, 0)
		if err != nil {
			s.t.Errorf("server parse: %v", err)
			return 0, nil
		}
		if n == 0 {
			tmp := make([]byte, 4096)
			k, err := s.c.Read(tmp)
			if err != nil {
				return 0, nil
			}
			s.buf = append(s.buf, tmp[:k]...)
			continue
		}
		s.buf = s.buf[n:]
		if f.Type == wire.FrameMethod {
			id, args, _ := wire.Method(f.Payload)
			return id, append([]byte(nil), args...)
		}
	}
}

func (s *fakeServer) send(id uint32, args ...byte) {
	b, st := wire.AppendMethodHeader(nil, 0, id)
	if id>>16 != wire.ClassConnection {
		b[2] = Channel
	}
	b = wire.EndFrame(append(b, args...), st)
	if _, err := s.c.Write(b); err != nil {
		s.t.Errorf("server write: %v", err)
	}
}

// handshake plays the server side up to an open channel, with frame_max 4096.
func (s *fakeServer) handshake() {
	c, err := s.ln.Accept()
	if err != nil {
		s.t.Errorf("accept: %v", err)
		return
	}
	s.c = c
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	hdr := make([]byte, 8)
	if _, err := c.Read(hdr); err != nil || string(hdr) != string(wire.ProtocolHeader) {
		s.t.Errorf("protocol header %q %v", hdr, err)
	}
	s.send(wire.ConnectionStart, 0, 9, 0, 0, 0, 0, 0, 0, 0, 5, 'P', 'L', 'A', 'I', 'N', 0, 0, 0, 5, 'e', 'n', '_', 'U', 'S')
	if id, _ := s.method(); id != wire.ConnectionStartOk {
		s.t.Errorf("want start-ok, got %x", id)
	}
	s.send(wire.ConnectionTune, 0, 16, 0, 0, 0x10, 0, 0, 60) // channel_max 16, frame_max 4096, heartbeat 60
	id, args := s.method()
	if id != wire.ConnectionTuneOk {
		s.t.Errorf("want tune-ok, got %x", id)
	}
	if want := []byte{0, 16, 0, 0, 0x10, 0, 0, 0}; string(args) != string(want) {
		s.t.Errorf("tune-ok args %v, want %v (echo, heartbeat 0)", args, want)
	}
	if id, _ := s.method(); id != wire.ConnectionOpen {
		s.t.Errorf("want open, got %x", id)
	}
	s.send(wire.ConnectionOpenOk, 0)
	if id, _ := s.method(); id != wire.ChannelOpen {
		s.t.Errorf("want channel.open, got %x", id)
	}
	s.send(wire.ChannelOpenOk, 0, 0, 0, 0)
}

// TestConsumeInPlace feeds deliveries (5000-byte bodies split over two
// frames at frame_max 4096) in 7-byte dribbles and in one burst, and checks
// every message, timestamp and multiple ack.
func TestConsumeInPlace(t *testing.T) {
	s := newFakeServer(t)
	const n = 300
	var acks []uint64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.handshake()
		if id, _ := s.method(); id != wire.BasicQos {
			t.Errorf("want qos, got %x", id)
		}
		s.send(wire.BasicQosOk)
		if id, _ := s.method(); id != wire.BasicConsume {
			t.Errorf("want consume, got %x", id)
		}
		s.send(wire.BasicConsumeOk, 2, 'c', 't')
		var stream []byte
		for i := 1; i <= n; i++ {
			m, st := wire.AppendMethodHeader(nil, Channel, wire.BasicDeliver)
			m = wire.AppendLonglong(wire.AppendShortstr(m, "ct"), uint64(i))
			m = append(m, 0, 0, 1, 'q')
			m = wire.EndFrame(m, st)
			m = append(m, wire.FrameHeartbeat, 0, 0, 0, 0, 0, 0, wire.FrameEnd)
			m = wire.AppendContentHeader(m, Channel, 5000, 0)
			body := make([]byte, 5000)
			binary.BigEndian.PutUint64(body, uint64(1000+i))
			stream = append(stream, wire.AppendBody(m, Channel, body, 4096)...)
		}
		half := len(stream) / 2
		for p := 0; p < half; p += 7 {
			if _, err := s.c.Write(stream[p:min(p+7, half)]); err != nil {
				t.Errorf("write: %v", err)
				return
			}
		}
		if _, err := s.c.Write(stream[half:]); err != nil {
			t.Errorf("write: %v", err)
		}
		for len(acks) == 0 || acks[len(acks)-1] < n {
			id, args := s.method()
			if id != wire.BasicAck {
				t.Errorf("want ack, got %x", id)
				return
			}
			tag, multi, _ := wire.ParseAck(args)
			if !multi {
				t.Error("ack not multiple")
			}
			acks = append(acks, tag)
		}
	}()
	c, err := Dial(s.uri(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	if c.FrameMax != 4096 || c.ChannelMax != 16 {
		t.Fatalf("tuned %d/%d", c.FrameMax, c.ChannelMax)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []int64
	ready := false
	err = c.Consume(ctx, ConsumerConfig{Queue: "q", Tag: "ct", Prefetch: 100, AckEvery: 30, Ready: func() { ready = true }},
		func(sendNs, recvNs int64) {
			got = append(got, sendNs)
			if recvNs == 0 {
				t.Error("no arrival time")
			}
			if len(got) == n {
				cancel()
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if !ready || len(got) != n {
		t.Fatalf("ready %v, %d messages", ready, len(got))
	}
	for i, ts := range got {
		if ts != int64(1001+i) {
			t.Fatalf("message %d timestamp %d", i, ts)
		}
	}
	if len(acks) != 10 || acks[0] != 30 || acks[9] != 300 {
		t.Fatalf("acks %v", acks)
	}
}

// TestPublisherBatches checks that batches write whole, stamped publishes,
// that confirms are tracked, and that Sync round-trips.
func TestPublisherBatches(t *testing.T) {
	s := newFakeServer(t)
	frames := make(chan wire.Frame, 10000)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.handshake()
		if id, _ := s.method(); id != wire.ConfirmSelect {
			t.Errorf("want confirm.select, got %x", id)
		}
		s.send(wire.ConfirmSelectOk)
		published := 0
		for published < 25 {
			f, n, err := wire.ParseFrame(s.buf, 0)
			if err != nil {
				t.Errorf("parse: %v", err)
				return
			}
			if n == 0 {
				tmp := make([]byte, 65536)
				k, err := s.c.Read(tmp)
				if err != nil {
					return
				}
				s.buf = append(s.buf, tmp[:k]...)
				continue
			}
			s.buf = s.buf[n:]
			f.Payload = append([]byte(nil), f.Payload...)
			frames <- f
			if f.Type == wire.FrameBody {
				published++
			}
		}
		close(frames)
		s.send(wire.BasicAck, 0, 0, 0, 0, 0, 0, 0, 20, 1) // multiple up to 20
		for tag := byte(21); tag <= 25; tag++ {
			s.send(wire.BasicAck, 0, 0, 0, 0, 0, 0, 0, tag, 0)
		}
		if id, _ := s.method(); id != wire.BasicQos {
			t.Errorf("want qos for sync, got %x", id)
		}
		s.send(wire.BasicQosOk)
	}()
	c, err := Dial(s.uri(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPublisher(c, PublisherConfig{Exchange: "x", Keys: []string{"a", "b", "c"}, Size: 20, Persistent: true, Confirms: 64, BatchBytes: 700})
	if err != nil {
		t.Fatal(err)
	}
	if p.MaxBatch() != 9 { // 700 / 70 bytes = 10, less 1 for a multiple of 3 keys (a multiple of 3 keys)
		t.Fatalf("max batch %d", p.MaxBatch())
	}
	before := time.Now().UnixNano()
	for _, n := range []int{9, 5, 9, 2} {
		if err := p.Publish(n); err != nil {
			t.Fatal(err)
		}
	}
	var keys []string
	for f := range frames {
		switch f.Type {
		case wire.FrameMethod:
			a := wire.NewArgs(f.Payload[4:])
			a.Short()
			if ex := string(a.Shortstr()); ex != "x" {
				t.Fatalf("exchange %q", ex)
			}
			keys = append(keys, string(a.Shortstr()))
		case wire.FrameHeader:
			if _, size, _ := wire.ParseContentHeader(f.Payload); size != 20 || f.Payload[len(f.Payload)-1] != 2 {
				t.Fatalf("header %v", f.Payload)
			}
		case wire.FrameBody:
			if ts := int64(binary.BigEndian.Uint64(f.Payload)); ts < before || ts > time.Now().UnixNano() {
				t.Fatalf("timestamp %d not stamped at send", ts)
			}
		}
	}
	for i, k := range keys {
		if want := string(rune('a' + i%3)); k != want {
			t.Fatalf("key %d = %q, want %q (keys %v)", i, k, want, keys)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.WaitConfirmed(ctx, 25); err != nil || p.Confirmed() != 25 {
		t.Fatalf("confirmed %d err %v", p.Confirmed(), err)
	}
	if err := p.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	c.Abort()
}
