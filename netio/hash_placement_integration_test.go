package netio_test

import (
	"bufio"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// hashPlacementFile is where each key of TestConsistentHashPlacement
// lands in RabbitMQ 3.10.8 with its consistent-hash plugin, recorded from
// it with WARREN_RECORD_HASH_PLACEMENT=1 and WARREN_IT_URL pointing there.
const hashPlacementFile = "testdata/rabbitmq_hash_placement.txt"

// hashPlacementCase is one exchange of the test: its arguments and how a
// message i is published to it (the routing key, and a header or a
// property for the exchanges that hash those).
type hashPlacementCase struct {
	name string
	args amqp.Table
	n    int
	msg  func(i int) (string, amqp.Publishing)
}

var hashPlacementCases = []hashPlacementCase{
	{"routing-key", nil, 10000, func(i int) (string, amqp.Publishing) {
		return fmt.Sprintf("key-%d", i), amqp.Publishing{}
	}},
	{"header-string", amqp.Table{"hash-header": "h"}, 1000, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{Headers: amqp.Table{"h": fmt.Sprintf("user-%d", i)}}
	}},
	{"header-int", amqp.Table{"hash-header": "h"}, 1000, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{Headers: amqp.Table{"h": int32(i*7919 - 3000000)}}
	}},
	// The types below are where Warren's hash once left the plugin's:
	// floats, tables, arrays and integers over make_hash2's 28 bits.
	{"header-long", amqp.Table{"hash-header": "h"}, 500, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{Headers: amqp.Table{"h": int64(i)*1_000_000_007 - 250_000_000_000}}
	}},
	{"header-int-wide", amqp.Table{"hash-header": "h"}, 500, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{Headers: amqp.Table{"h": int32(i*8_388_593 - 2_000_000_000)}}
	}},
	{"header-double", amqp.Table{"hash-header": "h"}, 500, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{Headers: amqp.Table{"h": float64(i)*1.25 - 100}}
	}},
	{"header-float32", amqp.Table{"hash-header": "h"}, 300, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{Headers: amqp.Table{"h": float32(i) / 8}}
	}},
	{"header-decimal", amqp.Table{"hash-header": "h"}, 300, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{Headers: amqp.Table{"h": amqp.Decimal{Scale: uint8(i % 5), Value: int32(i * 977)}}}
	}},
	{"header-timestamp", amqp.Table{"hash-header": "h"}, 300, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{Headers: amqp.Table{"h": time.Unix(int64(1_700_000_000+i*3601), 0)}}
	}},
	{"header-table", amqp.Table{"hash-header": "h"}, 500, func(i int) (string, amqp.Publishing) {
		// One key a table: amqp091-go writes a table's keys in Go's map
		// order, and both brokers hash them in the order sent.
		return "k", amqp.Publishing{Headers: amqp.Table{"h": amqp.Table{"t": []any{fmt.Sprint("t", i%37), int32(i), amqp.Table{"n": int64(i) << 30}}}}}
	}},
	{"header-array", amqp.Table{"hash-header": "h"}, 500, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{Headers: amqp.Table{"h": []any{fmt.Sprint("a", i), int64(i) << 33, []any{}, amqp.Table{}, i%2 == 0}}}
	}},
	{"header-missing", amqp.Table{"hash-header": "h"}, 20, func(i int) (string, amqp.Publishing) {
		return fmt.Sprintf("k%d", i), amqp.Publishing{}
	}},
	{"message-id", amqp.Table{"hash-property": "message_id"}, 1000, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{MessageId: fmt.Sprintf("%08x", i*2654435761)}
	}},
	{"timestamp", amqp.Table{"hash-property": "timestamp"}, 1000, func(i int) (string, amqp.Publishing) {
		return "k", amqp.Publishing{Timestamp: time.Unix(int64(1700000000+i*37), 0)}
	}},
}

// Three queues bound with weights 3, 5 and 12: every key lands on the
// queue it lands on in RabbitMQ 3.10.8 (the plugin's erlang:phash2 and
// exs1024-driven jump hash), for the routing key, a header of two types,
// a missing header and two properties.
func TestConsistentHashPlacement(t *testing.T) {
	t.Parallel()
	record := os.Getenv("WARREN_RECORD_HASH_PLACEMENT") != ""
	want := map[string]string{}
	if !record {
		f, err := os.Open(hashPlacementFile)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			w := strings.Fields(sc.Text())
			want[w[0]] = w[1]
		}
		f.Close()
	}
	var out []string
	for _, tc := range hashPlacementCases {
		// A subtest per case: the harness's watchdog gives each 30 s.
		t.Run(tc.name, func(t *testing.T) { out = append(out, hashPlacement(t, tc, want, record)...) })
	}
	if record {
		if err := os.WriteFile(hashPlacementFile, []byte(strings.Join(out, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func hashPlacement(t *testing.T, tc hashPlacementCase, want map[string]string, record bool) (out []string) {
	{
		c, ch := connChan(t)
		x := declareHashExchange(t, c, tc.args)
		var qs []string
		for i, w := range []string{"3", "5", "12"} {
			q := declareQueue(t, ch, fmt.Sprintf("%s-q%d", tc.name, i))
			if err := ch.QueueBind(q, w, x, false, nil); err != nil {
				t.Fatal(err)
			}
			qs = append(qs, q)
		}
		for i := range tc.n {
			key, p := tc.msg(i)
			p.Body = fmt.Appendf(nil, "%d", i)
			publish(t, ch, x, key, p)
		}
		total := 0
		counts := make([]int, len(qs))
		eventually(t, func() bool {
			total = 0
			for i, q := range qs {
				counts[i] = queueState(t, c, q).Messages
				total += counts[i]
			}
			return total == tc.n
		}, "%s: %d messages queued, want %d", tc.name, &total, tc.n)
		got := make([]string, tc.n)
		for qi, q := range qs {
			ds, err := ch.Consume(q, "", true, false, false, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			for range counts[qi] {
				d := recv(t, ds)
				var i int
				fmt.Sscan(string(d.Body), &i)
				got[i] = fmt.Sprint("q", qi)
			}
		}
		wrong := 0
		for i, q := range got {
			id := fmt.Sprintf("%s/%d", tc.name, i)
			out = append(out, id+" "+q)
			if !record && want[id] != q {
				if wrong++; wrong <= 5 {
					t.Errorf("%s: on %s, RabbitMQ puts it on %s", id, q, want[id])
				}
			}
		}
		if wrong > 0 {
			t.Errorf("%s: %d of %d keys on another queue than in RabbitMQ", tc.name, wrong, tc.n)
		}
	}
	return out
}
