package mgmt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/netio"
)

// amqpTarget is a target with an AMQP listener beside the management
// API: an in-process Warren (broker, netio server, management server
// reporting the AMQP listener), or with WARREN_MGMT_URL the external
// broker whose AMQP URL is WARREN_IT_URL (default RabbitMQ's on
// 127.0.0.1:5672).
type amqpTarget struct {
	*target
	amqpURL string
}

func newID() string {
	var idb [4]byte
	_, _ = rand.Read(idb[:])
	return hex.EncodeToString(idb[:])
}

func newAMQPTarget(t *testing.T) *amqpTarget {
	t.Helper()
	if os.Getenv("WARREN_MGMT_URL") != "" {
		u := os.Getenv("WARREN_IT_URL")
		if u == "" {
			u = "amqp://guest:guest@127.0.0.1:5672/"
		}
		return &amqpTarget{target: newTarget(t, nil), amqpURL: u}
	}
	b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv := netio.NewServer(netio.Config{Addr: "127.0.0.1:0"}, b)
	runErr := make(chan error, 1)
	go func() { runErr <- srv.Run() }()
	select {
	case <-srv.Ready():
	case err := <-runErr:
		b.Close()
		t.Fatal(err)
	}
	amqpAddr, err := srv.Addr()
	if err != nil {
		t.Fatal(err)
	}
	s, err := ListenConfig(Config{Addr: "127.0.0.1:0", AMQP: amqpAddr, Version: netio.Version}, b)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		_ = srv.Stop(ctx)
		b.Close()
	})
	return &amqpTarget{
		target:  &target{base: "http://" + s.Addr().String(), b: b, id: newID()},
		amqpURL: "amqp://guest:guest@" + amqpAddr.String() + "/",
	}
}

// dial opens a client connection named name (client_properties
// connection_name), closed at cleanup.
func (tg *amqpTarget) dial(t *testing.T, name string) *amqp.Connection {
	t.Helper()
	props := amqp.NewConnectionProperties()
	props.SetClientConnectionName(name)
	c, err := amqp.DialConfig(tg.amqpURL, amqp.Config{Properties: props, Dial: amqp.DefaultDial(30 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func (tg *amqpTarget) amqpPort(t *testing.T) int {
	t.Helper()
	u, err := amqp.ParseURI(tg.amqpURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Port
}

// poll retries fn until it reports done, for up to a generous deadline.
func poll(t *testing.T, what string, fn func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !fn() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
