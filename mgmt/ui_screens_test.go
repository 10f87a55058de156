package mgmt

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	amqp "github.com/rabbitmq/amqp091-go"
)

// TestUIScreenshots writes the screenshots in docs/ui: a Warren with a
// few queues, consumers, backlogs and steady rates, and the main pages
// after a minute of samples. WARREN_UI_SCREENSHOTS names the directory:
//
//	WARREN_UI_SCREENSHOTS=$PWD/docs/ui go test -run TestUIScreenshots ./mgmt
func TestUIScreenshots(t *testing.T) {
	dir := os.Getenv("WARREN_UI_SCREENSHOTS")
	if dir == "" {
		t.Skip("set WARREN_UI_SCREENSHOTS to the directory for the PNG files (docs/ui)")
	}
	tg := newAMQPTarget(t)
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })

	type queue struct {
		name    string
		args    amqp.Table
		backlog int     // messages published before the load starts
		rate    float64 // messages a second, modulated
		consume int     // consumers (0: the backlog grows)
		prefech int
		slow    time.Duration // per message work of each consumer
	}
	queues := []queue{
		{name: "orders", rate: 180, consume: 2, prefech: 50},
		{name: "payments", args: amqp.Table{"x-dead-letter-exchange": "dlx", "x-message-ttl": int32(600000)}, rate: 60, consume: 1, prefech: 20},
		{name: "email.outbound", rate: 25, consume: 1, prefech: 10, slow: 60 * time.Millisecond},
		{name: "audit.log", args: amqp.Table{"x-max-length": int32(500000)}, backlog: 12000, rate: 40},
		{name: "notifications.push", rate: 90, consume: 3, prefech: 100},
		{name: "payments.dead-letter", backlog: 37},
		{name: "reports.nightly", backlog: 4},
	}
	admin := tg.dial(t, "warren-admin")
	ch, err := admin.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare("events", "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare("dlx", "fanout", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range queues {
		if _, err := ch.QueueDeclare(q.name, true, false, false, false, q.args); err != nil {
			t.Fatal(err)
		}
		for range q.backlog {
			if err := ch.PublishWithContext(ctx, "", q.name, false, false, amqp.Publishing{Body: []byte(`{"event":"backlog"}`), DeliveryMode: 2}); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, b := range [][3]string{{"orders", "events", "order.*"}, {"payments", "events", "payment.#"}, {"audit.log", "events", "#"},
		{"payments.dead-letter", "dlx", ""}, {"email.outbound", "events", "email.#"}, {"notifications.push", "events", "*.created"}} {
		if err := ch.QueueBind(b[0], b[2], b[1], false, nil); err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range queues {
		for i := range q.consume {
			c := tg.dial(t, q.name+"-worker-"+string(rune('a'+i)))
			cch, err := c.Channel()
			if err != nil {
				t.Fatal(err)
			}
			if err := cch.Qos(q.prefech, 0, false); err != nil {
				t.Fatal(err)
			}
			deliveries, err := cch.Consume(q.name, "", false, false, false, false, nil)
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func(slow time.Duration) {
				defer wg.Done()
				for {
					select {
					case <-ctx.Done():
						return
					case d, ok := <-deliveries:
						if !ok {
							return
						}
						if slow > 0 {
							time.Sleep(slow)
						}
						_ = d.Ack(false)
					}
				}
			}(q.slow)
		}
		if q.rate == 0 {
			continue
		}
		p := tg.dial(t, q.name+"-publisher")
		pch, err := p.Channel()
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func(q queue) {
			defer wg.Done()
			start := time.Now()
			tick := time.NewTicker(50 * time.Millisecond)
			defer tick.Stop()
			owed := 0.0
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				el := time.Since(start).Seconds()
				owed += q.rate * 0.05 * (1 + 0.5*math.Sin(el/9))
				for ; owed >= 1; owed-- {
					if err := pch.PublishWithContext(ctx, "events", topicKey(q.name), false, false,
						amqp.Publishing{ContentType: "application/json", Body: []byte(`{"id":42,"status":"created"}`)}); err != nil {
						return
					}
				}
			}
		}(q)
	}

	b := newBrowser(t, tg.base, 1440, 900)
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b.do(t, "open the UI", chromedp.Navigate(b.base+"/"))
	b.wait(t, "the login form", `!document.getElementById('login').hidden`)
	shot("login")
	b.login(t, "guest", "guest")
	b.eval(t, `const r = document.getElementById('refresh-select'); r.value = '2000'; r.dispatchEvent(new Event('change'))`)
	b.open(t, "#/queues")
	b.wait(t, "the queue list", `document.querySelector('tr[data-name="orders"]')`)
	time.Sleep(45 * time.Second)
	shot("queues")
	b.open(t, "#/queues/%2F/orders")
	b.wait(t, "the queue page", `document.querySelector('#queue-counts .tile')`)
	time.Sleep(5 * time.Second)
	shot("queue")
	b.open(t, "#/")
	b.wait(t, "the overview", `document.querySelector('#nodes tr[data-node]')`)
	time.Sleep(3 * time.Second)
	shot("overview")
	b.open(t, "#/connections")
	b.wait(t, "the connections", `document.querySelector('#sec-conn-list tbody tr[data-name]')`)
	time.Sleep(5 * time.Second)
	shot("connections")
	b.open(t, "#/channels")
	b.wait(t, "the channels", `document.querySelector('#sec-chan-list tbody tr[data-name]')`)
	time.Sleep(5 * time.Second)
	shot("channels")
	b.open(t, "#/exchanges")
	b.wait(t, "the exchanges", `document.querySelector('tr[data-name="events"]')`)
	time.Sleep(3 * time.Second)
	shot("exchanges")
	b.open(t, "#/exchanges/%2F/events")
	b.wait(t, "the exchange", `document.querySelector('#sec-ex-src tr[data-key]')`)
	shot("exchange")
	b.open(t, "#/users")
	b.wait(t, "the users", `document.querySelector('#sec-u-list tr[data-name="guest"]')`)
	shot("users")
	b.check(t, "screenshots")
}

func topicKey(queue string) string {
	switch queue {
	case "orders":
		return "order.created"
	case "payments":
		return "payment.card.captured"
	case "notifications.push":
		return "push.created"
	case "audit.log":
		return "audit.entry"
	case "email.outbound":
		return "email.outbound.sent"
	}
	return queue
}
