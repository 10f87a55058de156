package perf

import (
	"fmt"
	"net/url"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// DescribeTarget connects to the broker at uri and says what it is, from the
// server properties of its connection.start (product, version, cluster
// name), with the password left out: "amqp://guest@127.0.0.1:5672/ is
// RabbitMQ 3.10.8 (rabbit@vm)". A load tool whose default URI is the
// standard port would otherwise measure whatever happens to listen there.
func DescribeTarget(uri string) (string, error) {
	c, err := amqp.DialConfig(uri, amqp.Config{
		Dial:            amqp.DefaultDial(10 * time.Second),
		TLSClientConfig: TLS,
		Properties:      amqp.Table{"product": "warren-perf", "connection_name": "warren-perf target check"},
	})
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", redactURI(uri), err)
	}
	defer c.Close()
	p := c.Properties
	product, _ := p["product"].(string)
	version, _ := p["version"].(string)
	s := fmt.Sprintf("%s is %s %s", redactURI(uri), orUnknown(product), orUnknown(version))
	if cluster, _ := p["cluster_name"].(string); cluster != "" {
		s += " (" + cluster + ")"
	}
	return s, nil
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func redactURI(uri string) string {
	u, err := url.Parse(uri)
	if err != nil || u.User == nil {
		return uri
	}
	u.User = url.User(u.User.Username())
	return u.String()
}
