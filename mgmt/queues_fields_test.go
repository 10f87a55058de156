package mgmt

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// Sorting and selecting columns through the row struct (queueRow.field)
// answers exactly what the map path answers, for every sort key of the
// UI and the API's columns: the same lister over the same queues, with
// and without field.
func TestQueueFieldsMatchTheMaps(t *testing.T) {
	b, err := broker.Open(broker.Config{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	v, _ := b.VHost("/")
	p := guest(t, "/")
	pol, err := broker.ParsePolicy(broker.UserPolicy, "/", "lim", map[string]any{"pattern": "^q-1", "definition": map[string]any{"max-length": 100}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.SetPolicy(broker.UserPolicy, pol); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		name := fmt.Sprintf("q-%02d", (i*17)%40) // declared out of name order
		if _, err := v.QueueDeclare(p, broker.QueueDeclareOptions{Name: name, Durable: i%2 == 0, Args: frame.Table{"x-n": int32(i % 3)}}); err != nil {
			t.Fatal(err)
		}
		for range i % 5 {
			if _, _, err := v.Publish(p, &broker.Message{RoutingKey: []byte(name), Body: []byte("body")}, &broker.PublishCache{}, nil); err != nil {
				t.Fatal(err)
			}
		}
		if q, _ := v.QueueByName(name); i%3 == 1 { // some unacked, so messages differs from messages_ready
			q.Get(false, func(broker.Ticket, broker.Delivery, int) {})
		}
	}
	a := newAPI(b, http.NewServeMux())
	a.cfg.Node, a.rates = "warren@localhost", newRates(b)
	defer a.rates.close()
	a.rates.sampleNow(time.Now().Add(time.Second)) // two samples: rates exist

	all := v.Queues()
	run := func(query string, withField bool) string {
		rows := make([]queueRow, len(all))
		for i, q := range all {
			rows[i] = a.queueRowOf(v, q)
		}
		l := lister{
			n:     len(all),
			name:  func(i int) string { return all[i].Name },
			asMap: func(i int) map[string]any { return a.queueJSON(v, all[i]) },
			fast:  func(i int) any { return rows[i] },
		}
		if withField {
			l.field = func(i int, path []string) (any, bool) { return rows[i].field(path) }
		}
		w := httptest.NewRecorder()
		l.write(w, httptest.NewRequest("GET", "/api/queues?"+query, nil))
		return w.Body.String()
	}
	var queries []string
	for _, key := range []string{"name", "vhost", "policy", "state", "durable", "arguments", "type", "messages_ready", "messages_unacknowledged", "messages",
		"consumers", "memory", "message_bytes", "message_stats", "message_stats.publish", "message_stats.publish_details.rate",
		"message_stats.deliver_get_details.rate", "message_stats.ack_details.rate", "message_stats.publish_details", "message_stats.nope", "nope", "nope.deeper"} {
		queries = append(queries, "sort="+key, "sort="+key+"&sort_reverse=true&page=1&page_size=7")
	}
	queries = append(queries, "columns=name,messages", "columns=name,message_stats.publish_details,policy,arguments",
		"columns=name,members", "page=2&page_size=10&columns=vhost,messages_ready&sort=messages")
	for _, q := range queries {
		if want, got := run(q, false), run(q, true); got != want {
			t.Errorf("%s:\n got %.300s\nwant %.300s", q, got, want)
		}
	}
}
