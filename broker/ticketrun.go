package broker

// TicketRun is the tickets of n records that follow each other in one
// segment and are alike (the same size, body length, persistence and
// whatever else a Ticket carries): what a consumer that reads a queue in
// order and has not acked yet holds, by the million. It costs what one
// Ticket costs, so in-flight and requeued messages take memory per run,
// not per message.
//
// The first ticket is embedded, so r.pos is the position of its first
// record.
type TicketRun struct {
	Ticket // the first
	n      uint32
}

// maxRun keeps offsets and counts far from overflow.
const maxRun = 1 << 30

// RunOf is the run of the one ticket t.
func RunOf(t Ticket) TicketRun { return TicketRun{Ticket: t, n: 1} }

// Extend adds t at the end of r if t's record comes right after r's last
// and t is like r's tickets. It reports whether it did.
func (r *TicketRun) Extend(t Ticket) bool {
	f := r.Ticket
	if f.size == 0 || r.n >= maxRun || t.pos.Seg != f.pos.Seg ||
		uint64(t.pos.Off) != uint64(f.pos.Off)+uint64(r.n)*uint64(f.size) {
		return false
	}
	t.pos = f.pos
	if t != f {
		return false
	}
	r.n++
	return true
}

// Len is the number of tickets in r.
func (r TicketRun) Len() int { return int(r.n) }

// At is r's i-th ticket, 0 <= i < Len().
func (r TicketRun) At(i int) Ticket {
	t := r.Ticket
	t.pos.Off += uint32(i) * t.size
	return t
}

// Slice is the run of tickets i..j-1 of r, 0 <= i <= j <= Len().
func (r TicketRun) Slice(i, j int) TicketRun {
	return TicketRun{Ticket: r.At(i), n: uint32(j - i)}
}
