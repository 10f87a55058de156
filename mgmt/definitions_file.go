package mgmt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/warrenmq/warren/broker"
)

// ImportDefinitions imports a whole-broker RabbitMQ definitions export
// (vhosts, users, permissions, topic permissions, policies, queues,
// exchanges, bindings) into b, as POST /api/definitions does: it is the
// same import, for RabbitMQ's load_definitions at boot. Importing a
// document again changes nothing.
func ImportDefinitions(b *broker.Broker, data []byte) error {
	if len(data) > maxDefinitions {
		return fmt.Errorf("larger than %d MiB", maxDefinitions>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	if errors.Is(err, io.EOF) {
		return nil // an empty file, as RabbitMQ takes it
	}
	if err != nil {
		return fmt.Errorf("not JSON: %v", err)
	}
	obj, ok := v.(map[string]any)
	if !ok || dec.More() {
		return errors.New("not a definitions export (one JSON object)")
	}
	return (&api{b: b}).importDefinitions(obj, "")
}
