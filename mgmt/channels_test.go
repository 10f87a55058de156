package mgmt

import (
	"net/http"
	"net/url"
	"testing"
)

// A consumer shows in /api/consumers and its vhost's list with its queue
// and channel; the channel in /api/channels and by name.
func TestChannelsAndConsumers(t *testing.T) {
	tg := newAMQPTarget(t)
	c := tg.dial(t, "warren-chan-"+tg.id)
	ch, err := c.Channel()
	if err != nil {
		t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	tag := "warren-ctag-" + tg.id
	if _, err := ch.Consume(q.Name, tag, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	var cons map[string]any
	// RabbitMQ fills channel_details with its next statistics emission.
	poll(t, "consumer listed with its channel", func() bool {
		for _, e := range decodeJSON(t, "consumers", tg.guest(t, "GET", "/api/consumers/%2F", "").body).([]any) {
			if m := e.(map[string]any); m["consumer_tag"] == tag && len(m["channel_details"].(map[string]any)) > 0 {
				cons = m
				return true
			}
		}
		return false
	})
	if cons["ack_required"] != true || cons["exclusive"] != false {
		t.Errorf("consumer flags: %v", cons)
	}
	if qm, _ := cons["queue"].(map[string]any); qm["name"] != q.Name || qm["vhost"] != "/" {
		t.Errorf("consumer queue: %v", cons["queue"])
	}
	cd, _ := cons["channel_details"].(map[string]any)
	name, _ := cd["name"].(string)
	if cd["number"] != 1.0 || name != cd["connection_name"].(string)+" (1)" {
		t.Errorf("channel_details: %v", cd)
	}
	one := tg.guest(t, "GET", "/api/channels/"+url.PathEscape(name), "")
	chm, _ := decodeJSON(t, "channel", one.body).(map[string]any)
	if one.status != http.StatusOK || chm["name"] != name || chm["number"] != 1.0 || chm["vhost"] != "/" || chm["user"] != "guest" {
		t.Errorf("channel %s: %d %s", name, one.status, one.body)
	}
	found := false
	for _, e := range decodeJSON(t, "channels", tg.guest(t, "GET", "/api/channels", "").body).([]any) {
		found = found || e.(map[string]any)["name"] == name
	}
	if !found {
		t.Errorf("%s not in /api/channels", name)
	}
	expect(t, "missing channel", tg.guest(t, "GET", "/api/channels/nope", ""), http.StatusNotFound, `{"error":"Object Not Found","reason":"Not Found"}`)
}
