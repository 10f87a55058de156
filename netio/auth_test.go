package netio

import (
	"net"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// addrTransport is a socketless transport with a chosen peer address.
type addrTransport struct {
	addr   net.Addr
	closed bool
}

func (t *addrTransport) Wake()                       {}
func (t *addrTransport) Close()                      { t.closed = true }
func (t *addrTransport) RemoteAddr() net.Addr        { return t.addr }
func (t *addrTransport) LocalAddr() net.Addr         { return t.addr }
func (t *addrTransport) Write(b []byte) (int, error) { return len(b), nil }
func (t *addrTransport) Buffered() int               { return 0 }

func login(user, pass string) []byte {
	b := append([]byte(nil), frame.ProtocolHeader[:]...)
	b = frame.AppendMethodFrame(b, 0, &frame.ConnectionStartOk{
		ClientProperties: frame.Table{}, Mechanism: "PLAIN", Response: "\x00" + user + "\x00" + pass, Locale: "en_US",
	})
	b = frame.AppendMethodFrame(b, 0, &frame.ConnectionTuneOk{ChannelMax: 16, FrameMax: 131072})
	return frame.AppendMethodFrame(b, 0, &frame.ConnectionOpen{VirtualHost: "/"})
}

// Logins are checked against the broker's user table, and the connection
// then acts as the principal it returned, in the vhost it opened.
func TestLoginThroughBrokerUsers(t *testing.T) {
	users := broker.DefaultUsers()
	users.Add(broker.User{Name: "alice", Password: "pw", Tags: []string{"monitoring"}})
	users.SetPermissions(broker.Permission{User: "alice", VHost: "/", Configure: ".*", Write: ".*", Read: ".*"})
	b, err := broker.Open(broker.Config{DataDir: t.TempDir(), Users: users})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	srv := NewServer(Config{}, b)
	loopback := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 40000}
	for _, c := range []struct {
		user, pass string
		addr       net.Addr
		ok         bool
	}{
		{"alice", "pw", remote, true},
		{"guest", "guest", loopback, true},
		{"alice", "guest", loopback, false},
		{"guest", "guest", remote, false}, // guest is loopback-only
		{"nobody", "pw", loopback, false},
	} {
		tr := &addrTransport{addr: c.addr}
		conn := newConn(srv, tr)
		conn.Feed(login(c.user, c.pass))
		if !c.ok {
			// Refused without a word (the client did not announce
			// authentication_failure_close): nothing more is read, and the
			// socket goes after RabbitMQ's silent-close delay.
			conn.tick(time.Now().Add(silentCloseDelay + time.Second))
			if conn.state != stateDone || !tr.closed || conn.principal != nil {
				t.Errorf("%s/%s from %v: state %d closed %v, want refused", c.user, c.pass, c.addr, conn.state, tr.closed)
			}
			continue
		}
		if conn.state != stateOpened {
			t.Errorf("%s/%s from %v: state %d, want opened", c.user, c.pass, c.addr, conn.state)
			continue
		}
		if p := conn.principal; p.User != c.user || p.VHost != "/" {
			t.Errorf("%s: principal %+v", c.user, p)
		}
		conn.Closed()
	}
}
