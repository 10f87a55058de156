package netio

import (
	"net"
	"testing"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// Config.FrameMax and ChannelMax (frame_max, channel_max) are the ceiling
// a client's tune-ok may not exceed, as the defaults are.
func TestConfiguredTuneLimits(t *testing.T) {
	b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := NewServer(Config{FrameMax: 8192, ChannelMax: 16}, b)
	for _, c := range []struct {
		frameMax   uint32
		channelMax uint16
		ok         bool
	}{
		{8192, 16, true},
		{4096, 8, true},
		{131072, 16, false}, // amqp091-go's default frame size, above frame_max
		{8192, 17, false},
		{8192, 0, false}, // "no limit" is above any channel_max
	} {
		in := append([]byte(nil), frame.ProtocolHeader[:]...)
		in = frame.AppendMethodFrame(in, 0, &frame.ConnectionStartOk{
			ClientProperties: frame.Table{}, Mechanism: "PLAIN", Response: "\x00guest\x00guest", Locale: "en_US",
		})
		in = frame.AppendMethodFrame(in, 0, &frame.ConnectionTuneOk{ChannelMax: c.channelMax, FrameMax: c.frameMax})
		in = frame.AppendMethodFrame(in, 0, &frame.ConnectionOpen{VirtualHost: "/"})
		conn := newConn(srv, &addrTransport{addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}})
		conn.Feed(in)
		if opened := conn.state == stateOpened; opened != c.ok {
			t.Errorf("tune-ok frame_max %d channel_max %d: opened %v, want %v", c.frameMax, c.channelMax, opened, c.ok)
		}
		if c.ok && (conn.frameMax != c.frameMax || conn.channelMax != c.channelMax) {
			t.Errorf("negotiated %d/%d, want %d/%d", conn.frameMax, conn.channelMax, c.frameMax, c.channelMax)
		}
		conn.Closed()
	}
}
