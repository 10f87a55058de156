package netio

// What management shows of a consumer, read by mgmt through an interface
// on broker.Consumer.D (mgmt does not import netio).

// PrefetchCount is the consumer's prefetch window (basic.qos with
// global=false before basic.consume; 0: unlimited), set at consume and
// never changed.
func (k *consumer) PrefetchCount() int { return int(k.prefetch) }
