package broker

import "testing"

// BenchmarkPublishPermission is the cost of the publish check on a
// channel's cached decision: the same unrouted publish as the broker
// itself (nil principal: no check), as guest, and as a user with a topic
// permission (one regexp match per message).
func BenchmarkPublishPermission(b *testing.B) {
	br := openTestBroker(b)
	v, _ := br.VHost("/")
	users := br.Users()
	_ = users.Add(User{Name: "topic", Password: "x"})
	_ = users.SetPermissions(Permission{User: "topic", VHost: "/", Write: ".*"})
	_ = users.SetTopicPermissions(TopicPermission{User: "topic", VHost: "/", Exchange: "amq.topic", Write: `^{username}\.`})
	for _, c := range []struct {
		name string
		p    *Principal
	}{{"unchecked", nil}, {"guest", guest}, {"topic-permission", &Principal{User: "topic", VHost: "/"}}} {
		b.Run(c.name, func(b *testing.B) {
			var cache PublishCache
			m := &Message{Exchange: []byte("amq.topic"), RoutingKey: []byte("topic.orders.eu"), Props: []byte{0, 0}}
			var scratch []*Queue
			b.ReportAllocs()
			for b.Loop() {
				var err error
				if _, scratch, err = v.Publish(c.p, m, &cache, scratch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPermitPublishCached is the check alone on a cache hit.
func BenchmarkPermitPublishCached(b *testing.B) {
	br := openTestBroker(b)
	v, _ := br.VHost("/")
	x, _ := v.Exchange("amq.topic")
	key := []byte("orders.eu")
	var c publishPermission
	b.ReportAllocs()
	for b.Loop() {
		if err := v.permitPublish(guest, x, key, &c); err != nil {
			b.Fatal(err)
		}
	}
}
