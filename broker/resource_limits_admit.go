package broker

import (
	"sync"

	"github.com/warrenmq/warren/frame"
)

// admissions counts open connections per vhost and per user and open
// channels per user, so that the limits are checked and a slot taken in
// one step: two connections racing for the last slot cannot both get it.
// Only connection.open and channel.open (and their closes) come here.
type admissions struct {
	mu         sync.Mutex
	vhostConns map[string]int
	userConns  map[string]int
	userChans  map[string]int
}

func bump(m *map[string]int, k string, d int) {
	if *m == nil {
		*m = make(map[string]int)
	}
	if n := (*m)[k] + d; n > 0 {
		(*m)[k] = n
	} else {
		delete(*m, k)
	}
}

// AdmitConnection takes a connection slot of user in vhost v, or refuses
// with 530 NOT_ALLOWED as RabbitMQ does when the vhost's or the user's
// max-connections is reached. Every admitted connection is given back
// with ReleaseConnection.
func (b *Broker) AdmitConnection(user string, v *VHost) error {
	vmax, vlimited := v.limitsNow().limit(LimitMaxConnections)
	umax, ulimited := b.cfg.Users.limit(user, LimitMaxConnections)
	a := &b.admit
	a.mu.Lock()
	defer a.mu.Unlock()
	if vlimited && a.vhostConns[v.Name] >= vmax {
		return frame.Errorf(frame.NotAllowed, "access to vhost '%s' refused for user '%s': connection limit (%d) is reached", v.Name, user, vmax)
	}
	if ulimited && a.userConns[user] >= umax {
		return frame.Errorf(frame.NotAllowed, "connection refused for user '%s': user connection limit (%d) is reached", user, umax)
	}
	bump(&a.vhostConns, v.Name, 1)
	bump(&a.userConns, user, 1)
	return nil
}

// ReleaseConnection gives back a slot AdmitConnection took.
func (b *Broker) ReleaseConnection(user, vhost string) {
	a := &b.admit
	a.mu.Lock()
	bump(&a.vhostConns, vhost, -1)
	bump(&a.userConns, user, -1)
	a.mu.Unlock()
}

// AdmitChannel takes a channel slot of user, or refuses when the user's
// max-channels is reached: RabbitMQ closes the connection then, with 530.
func (b *Broker) AdmitChannel(user string) error {
	max, limited := b.cfg.Users.limit(user, LimitMaxChannels)
	a := &b.admit
	a.mu.Lock()
	defer a.mu.Unlock()
	if limited && a.userChans[user] >= max {
		return frame.Errorf(frame.NotAllowed, "number of channels opened for user '%s' has reached the maximum allowed user limit of (%d)", user, max)
	}
	bump(&a.userChans, user, 1)
	return nil
}

// ReleaseChannel gives back a slot AdmitChannel took.
func (b *Broker) ReleaseChannel(user string) {
	a := &b.admit
	a.mu.Lock()
	bump(&a.userChans, user, -1)
	a.mu.Unlock()
}

// checkQueueLimitLocked refuses a new queue in a vhost at its max-queues.
// v.mu is held: the count and the creation are one step.
func (v *VHost) checkQueueLimitLocked(name string) error {
	if max, ok := v.limitsNow().limit(LimitMaxQueues); ok && len(v.queues) >= max {
		return frame.Errorf(frame.PreconditionFailed, "cannot declare queue '%s': queue limit in vhost '%s' (%d) is reached", name, v.Name, max)
	}
	return nil
}
