package main

import (
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// vm_memory_high_watermark.absolute and disk_free_limit.absolute from the
// config file are in effect: with a threshold past what the machine has,
// the alarm is set at start (and logged in RabbitMQ's words), and a
// client that publishes hears connection.blocked with RabbitMQ's reason.
func TestConfigAlarmsBlockPublishers(t *testing.T) {
	for _, tc := range []struct{ name, conf, log, reason string }{
		{"memory", "vm_memory_high_watermark.absolute = 1\n", "memory resource limit alarm set", "low on memory"},
		{"disk", "disk_free_limit.absolute = 4000000000GB\n", "disk resource limit alarm set", "low on disk"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conf := writeConf(t, tc.conf)
			p := startWarren(t, t.TempDir()+"/data", procOptions{args: []string{"-config", conf}})
			c, err := dialTune(p.url)
			if err != nil {
				t.Fatal(err)
			}
			// A blocked connection is not read, so its own close would
			// not be either: the process's end closes it.
			defer func() { _ = c.CloseDeadline(time.Now().Add(time.Second)) }()
			blocked := c.NotifyBlocked(make(chan amqp.Blocking, 1))
			ch, err := c.Channel()
			if err != nil {
				t.Fatal(err)
			}
			if err := ch.Publish("", "nowhere", false, false, amqp.Publishing{Body: []byte("x")}); err != nil {
				t.Fatal(err)
			}
			select {
			case b := <-blocked:
				if !b.Active || b.Reason != tc.reason {
					t.Fatalf("got %+v, want blocked %q", b, tc.reason)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no connection.blocked")
			}
			if log := p.log(); !strings.Contains(log, tc.log) || strings.Contains(log, "not yet in effect") {
				t.Fatalf("log lacks %q or reports the key as not in effect:\n%s", tc.log, log)
			}
		})
	}
}
