package mgmt

import (
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/warrenmq/warren/broker"
)

// A stream's queue view: type stream, its messages counted as ready, no
// unacknowledged (as RabbitMQ 3.10), members/online/readers, and Warren's
// offsets and segments.
func TestStreamQueueView(t *testing.T) {
	tg := newTarget(t, nil)
	q := "warren-stream-" + tg.id
	qp := "/api/queues/%2F/" + q
	tg.deleteAtEnd(t, qp)
	expect(t, "stream create", tg.guest(t, "PUT", qp, `{"durable":true,"arguments":{"x-queue-type":"stream"}}`), http.StatusCreated, "")
	// Get and purge are refused as RabbitMQ 3.10's management refuses them.
	expect(t, "stream get", tg.guest(t, "POST", qp+"/get", `{"count":1,"ackmode":"ack_requeue_true","encoding":"auto"}`), http.StatusBadRequest,
		`{"error":"bad_request","reason":"540 basic.get not supported by stream queues queue '`+q+`' in vhost '/'"}`)
	expect(t, "stream purge", tg.guest(t, "DELETE", qp+"/contents", ""), http.StatusBadRequest,
		`{"error":"bad_request","reason":"queue.purge not supported by stream queues queue '`+q+`' in vhost '/'"}`)
	if tg.external {
		return
	}
	v, _ := tg.b.VHost("/")
	s, err := v.Stream(q)
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if _, _, err := s.AppendChunk(&broker.ChunkIn{Encoding: broker.EncodingAMQP10, Entries: 1, Records: 2, Data: []byte("xx")}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := s.NewReader(broker.OffsetSpec{Kind: broker.OffsetFirst}, broker.ReaderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	deadline := time.Now().Add(20 * time.Second)
	var qo map[string]any
	for {
		qo = object(t, tg, qp)
		if qo["messages"] == 10.0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	node := qo["node"]
	for k, want := range map[string]any{"type": "stream", "messages": 10.0, "messages_ready": 10.0, "messages_unacknowledged": 0.0,
		"members": []any{node}, "online": []any{node}} {
		if got := qo[k]; !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %#v, want %#v", k, got, want)
		}
	}
	if rd, _ := qo["readers"].(map[string]any); rd[node.(string)] != 1.0 {
		t.Errorf("readers = %#v", qo["readers"])
	}
	st, _ := qo["stream"].(map[string]any)
	if st["first_offset"] != 0.0 || st["last_chunk_offset"] != 8.0 || st["committed_offset"] != 10.0 || st["segments"] != 1.0 {
		t.Errorf("stream = %#v", st)
	}
	// The list has the same view.
	rows := decodeJSON(t, "list", tg.guest(t, "GET", "/api/queues/%2F?name="+q, "").body).([]any)
	if len(rows) != 1 || rows[0].(map[string]any)["stream"] == nil || rows[0].(map[string]any)["messages"] != 10.0 {
		t.Errorf("list rows %#v", rows)
	}
}
