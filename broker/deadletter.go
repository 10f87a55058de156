package broker

// deathReason is why a message left its queue without being acked: the
// reason x-death records.
type deathReason uint8

const (
	reasonRejected deathReason = iota
	reasonExpired
	reasonMaxlen
	reasonDeliveryLimit
)

// discardLocked removes an in-flight message that is not coming back.
// REQUIRES: q.mu held.
func (q *Queue) discardLocked(t Ticket, d *Delivery, r deathReason) {
	q.ackLocked(t)
}
