package broker

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// The streamed snapshot decodes to what was written, every field of
// definitions included (policies came after the encoder; a field it
// forgot would be lost at the next compaction).
func TestEncodeDefinitionsRoundTrip(t *testing.T) {
	d := definitions{
		VHost: "/", Format: definitionsFormat, Journal: 7,
		Exchanges:        []exchangeDef{{Name: "x", Type: "direct", Durable: true, Arguments: map[string]any{"alternate-exchange": "ae"}}},
		Queues:           []queueDef{{Name: "q1", Durable: true}, {Name: "q\"2\n", Durable: true, AutoDelete: true, Arguments: map[string]any{"x-max-length": float64(3)}}},
		Bindings:         []bindingDef{{Source: "x", Destination: "q1", DestinationType: "queue", RoutingKey: "k"}},
		Policies:         []Policy{{VHost: "/", Name: "p", Pattern: "^q", ApplyTo: "queues", Definition: map[string]any{"max-length": float64(10)}, Priority: 1}},
		OperatorPolicies: []Policy{{VHost: "/", Name: "op", Pattern: ".*", ApplyTo: "queues", Definition: map[string]any{"max-length": float64(100)}}},
	}
	for _, d := range []definitions{d, {VHost: "/"}} {
		var buf bytes.Buffer
		if err := encodeDefinitions(&buf, d); err != nil {
			t.Fatal(err)
		}
		var got definitions
		if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
			t.Fatalf("%v in\n%s", err, buf.Bytes())
		}
		// Empty lists come back empty rather than nil.
		for _, l := range []*[]exchangeDef{&d.Exchanges, &got.Exchanges} {
			if len(*l) == 0 {
				*l = nil
			}
		}
		for _, l := range []*[]queueDef{&d.Queues, &got.Queues} {
			if len(*l) == 0 {
				*l = nil
			}
		}
		for _, l := range []*[]bindingDef{&d.Bindings, &got.Bindings} {
			if len(*l) == 0 {
				*l = nil
			}
		}
		if !reflect.DeepEqual(got, d) {
			t.Fatalf("round trip:\n got %+v\nwant %+v\nfile:\n%s", got, d, buf.Bytes())
		}
	}
}
