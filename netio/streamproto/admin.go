package streamproto

import (
	"errors"
	"slices"
	"strconv"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/frame"
)

// createStream: name, arguments (string map).
func (c *conn) createStream(r *reader) {
	corr := r.u32()
	name := r.str()
	args := r.strMap()
	if r.bad {
		c.malformed(KeyCreate, corr, true)
		return
	}
	code := c.declareStream(name, args)
	c.send(func(b []byte) []byte { return AppendResponse(b, KeyCreate, corr, code) })
}

func (c *conn) declareStream(name string, args map[string]string) uint16 {
	if name == "" || len(name) > 255 {
		return CodePreconditionFailed
	}
	cfg, err := broker.StreamConfigFromArguments(args)
	if err != nil {
		return CodePreconditionFailed
	}
	_, created, err := c.vhost.DeclareStream(c.principal, name, cfg)
	switch {
	case err != nil:
		return streamCode(err)
	case !created:
		return CodeStreamAlreadyExists
	}
	return CodeOK
}

func (c *conn) deleteStream(r *reader) {
	corr := r.u32()
	name := r.str()
	if r.bad {
		c.malformed(KeyDelete, corr, true)
		return
	}
	code := streamCode(c.vhost.DeleteStream(c.principal, name))
	if code == CodeOK {
		c.s.dedup.forget(c.vhost.Name, name)
	}
	c.send(func(b []byte) []byte { return AppendResponse(b, KeyDelete, corr, code) })
}

// metadata: the one broker (this one, as the client reached it) leads
// every stream; there are no replicas.
func (c *conn) metadata(r *reader) {
	corr := r.u32()
	names := r.strList()
	if r.bad {
		c.malformed(KeyMetadata, corr, true)
		return
	}
	brokers := []Broker{{Ref: 0, Host: c.advHost, Port: uint32(c.advPort)}}
	metas := make([]StreamMeta, 0, len(names))
	for _, n := range names {
		m := StreamMeta{Name: n, Code: CodeOK, Leader: 0}
		if _, err := c.vhost.Stream(n); err != nil {
			m.Code, m.Leader = streamCode(err), 0xffff
		}
		metas = append(metas, m)
	}
	c.send(func(b []byte) []byte { return AppendMetadata(b, corr, brokers, metas) })
}

// Super streams are as RabbitMQ makes them: a durable direct exchange
// (argument x-super-stream = true) bound to each partition stream with
// the partition's binding key and x-stream-partition-order.
const (
	argSuperStream    = "x-super-stream"
	argPartitionOrder = "x-stream-partition-order"
)

// superPartitions returns the partition streams of super stream name in
// partition order, with their binding keys; ok is false when there is no
// such exchange.
func (c *conn) superPartitions(name string) (parts, keys []string, ok bool) {
	if _, exists := c.vhost.Exchange(name); !exists {
		return nil, nil, false
	}
	type part struct {
		order      int64
		name, key  string
		hasOrdered bool
	}
	var ps []part
	seen := map[string]bool{}
	for _, b := range c.vhost.BindingsFrom(name) {
		if b.DestType != "queue" {
			continue
		}
		p := part{name: b.Destination, key: b.Key}
		if o, ok := tableInt(b.Args[argPartitionOrder]); ok {
			p.order, p.hasOrdered = o, true
		}
		ps = append(ps, p)
	}
	slices.SortStableFunc(ps, func(a, b part) int {
		switch {
		case a.hasOrdered && b.hasOrdered && a.order != b.order:
			if a.order < b.order {
				return -1
			}
			return 1
		case a.hasOrdered != b.hasOrdered:
			if a.hasOrdered {
				return -1
			}
			return 1
		}
		return 0
	})
	for _, p := range ps {
		keys = append(keys, p.key)
		if !seen[p.name] {
			seen[p.name] = true
			parts = append(parts, p.name)
		}
	}
	return parts, keys, true
}

func tableInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int8:
		return int64(x), true
	case uint8:
		return int64(x), true
	case int16:
		return int64(x), true
	case uint16:
		return int64(x), true
	case int32:
		return int64(x), true
	case uint32:
		return int64(x), true
	case int64:
		return x, true
	case int:
		return int64(x), true
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}

// route: routing key, super stream; the partitions whose binding key is
// the routing key (the exchange is direct).
func (c *conn) route(r *reader) {
	corr := r.u32()
	key := r.str()
	super := r.str()
	if r.bad {
		c.malformed(KeyRoute, corr, true)
		return
	}
	var out []string
	code := CodeOK
	if _, ok := c.vhost.Exchange(super); !ok {
		code = CodeStreamDoesNotExist
	} else {
		for _, b := range c.vhost.BindingsFrom(super) {
			if b.DestType == "queue" && b.Key == key && !slices.Contains(out, b.Destination) {
				out = append(out, b.Destination)
			}
		}
	}
	c.send(func(b []byte) []byte { return AppendStrListResponse(b, KeyRoute, corr, code, out) })
}

func (c *conn) partitions(r *reader) {
	corr := r.u32()
	super := r.str()
	if r.bad {
		c.malformed(KeyPartitions, corr, true)
		return
	}
	parts, _, ok := c.superPartitions(super)
	code := CodeOK
	if !ok {
		code = CodeStreamDoesNotExist
	}
	c.send(func(b []byte) []byte { return AppendStrListResponse(b, KeyPartitions, corr, code, parts) })
}

// createSuperStream: name, partitions, binding keys, arguments.
func (c *conn) createSuperStream(r *reader) {
	corr := r.u32()
	name := r.str()
	parts := r.strList()
	keys := r.strList()
	args := r.strMap()
	if r.bad {
		c.malformed(KeyCreateSuperStream, corr, true)
		return
	}
	code := c.declareSuperStream(name, parts, keys, args)
	c.send(func(b []byte) []byte { return AppendResponse(b, KeyCreateSuperStream, corr, code) })
}

func (c *conn) declareSuperStream(name string, parts, keys []string, args map[string]string) uint16 {
	if name == "" || len(parts) == 0 || len(parts) != len(keys) {
		return CodePreconditionFailed
	}
	if _, ok := c.vhost.Exchange(name); ok {
		return CodeStreamAlreadyExists
	}
	cfg, err := broker.StreamConfigFromArguments(args)
	if err != nil {
		return CodePreconditionFailed
	}
	for _, p := range parts {
		if _, err := c.vhost.Stream(p); err == nil {
			return CodeStreamAlreadyExists
		}
	}
	if err := c.vhost.ExchangeDeclare(c.principal, broker.ExchangeDeclareOptions{
		Name: name, Type: "direct", Durable: true, Args: frame.Table{argSuperStream: true},
	}); err != nil {
		return streamCode(err)
	}
	for i, p := range parts {
		if _, _, err := c.vhost.DeclareStream(c.principal, p, cfg); err != nil {
			return streamCode(err)
		}
		if err := c.vhost.QueueBind(c.principal, broker.Binding{Source: name, Destination: p, Key: keys[i],
			Args: frame.Table{argPartitionOrder: int32(i)}}, 0); err != nil {
			return streamCode(err)
		}
	}
	return CodeOK
}

func (c *conn) deleteSuperStream(r *reader) {
	corr := r.u32()
	name := r.str()
	if r.bad {
		c.malformed(KeyDeleteSuperStream, corr, true)
		return
	}
	code := CodeOK
	parts, _, ok := c.superPartitions(name)
	if !ok {
		code = CodeStreamDoesNotExist
	} else {
		if err := c.vhost.ExchangeDelete(c.principal, name, broker.ExchangeDeleteOptions{}); err != nil {
			code = streamCode(err)
		}
		for _, p := range parts {
			if err := c.vhost.DeleteStream(c.principal, p); err != nil && !errors.Is(err, broker.ErrStreamNotFound) && code == CodeOK {
				code = streamCode(err)
			}
			c.s.dedup.forget(c.vhost.Name, p)
		}
	}
	c.send(func(b []byte) []byte { return AppendResponse(b, KeyDeleteSuperStream, corr, code) })
}

// partitionIndex is s's stream's index among its super stream's
// partitions (-1 when it names none or the stream is not one of them).
func (c *conn) partitionIndex(s *subscription) int {
	if s.superStream == "" {
		return -1
	}
	parts, _, ok := c.superPartitions(s.superStream)
	if !ok {
		return -1
	}
	return slices.Index(parts, s.stream.Name())
}
