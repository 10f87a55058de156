package broker

import (
	"cmp"
	"slices"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/router"
)

// BindingView is one binding as management lists it. Args is the router's
// copy: read only.
type BindingView struct {
	Source      string
	DestType    string // "queue" or "exchange"
	Destination string
	Key         string
	Args        frame.Table
}

func viewOf(b router.BindingInfo[*Queue]) BindingView {
	bv := BindingView{Source: b.Source, DestType: b.DestKind.String(), Key: b.Key, Args: b.Args}
	if b.DestKind == router.DestExchange {
		bv.Destination = b.Exchange
	} else {
		bv.Destination = b.Queue.Name
	}
	return bv
}

func views(bs []router.BindingInfo[*Queue], extra []BindingView) []BindingView {
	out := extra
	for _, b := range bs {
		out = append(out, viewOf(b))
	}
	slices.SortStableFunc(out, func(x, y BindingView) int {
		return cmp.Or(cmp.Compare(x.Source, y.Source), cmp.Compare(x.DestType, y.DestType),
			cmp.Compare(x.Destination, y.Destination), cmp.Compare(x.Key, y.Key))
	})
	return out
}

// defaultBinding is the implicit binding of q from the default exchange,
// which RabbitMQ lists with the others.
func defaultBinding(q *Queue) BindingView {
	return BindingView{Source: "", DestType: "queue", Destination: q.Name, Key: q.Name}
}

// Bindings lists every binding of the vhost, the default exchange's
// implicit ones included, by source, destination type, destination, key.
func (v *VHost) Bindings() []BindingView {
	var implicit []BindingView
	for _, q := range v.Queues() {
		implicit = append(implicit, defaultBinding(q))
	}
	return views(v.router.Bindings(), implicit)
}

// BindingsFrom lists the bindings whose source is the exchange.
func (v *VHost) BindingsFrom(exchange string) []BindingView {
	if exchange == "" {
		var implicit []BindingView
		for _, q := range v.Queues() {
			implicit = append(implicit, defaultBinding(q))
		}
		return views(nil, implicit)
	}
	return views(v.router.SourceBindings(exchange), nil)
}

// BindingsToExchange lists the exchange-to-exchange bindings into name.
func (v *VHost) BindingsToExchange(name string) []BindingView {
	return views(v.router.DestinationBindings(name), nil)
}

// BindingsToQueue lists q's bindings, its default one first.
func (v *VHost) BindingsToQueue(q *Queue) []BindingView {
	return views(v.router.QueueBindings(q), []BindingView{defaultBinding(q)})
}
