package netio

import "encoding/binary"

// A frame split between two reads, kept by the connection instead of
// gnet.
//
// A publisher sending at full speed ends nearly every read in the middle
// of a frame. gnet keeps what OnTraffic leaves unread in a ring buffer
// from a pool shared with its outbound buffers, sized by the pool's most
// common size: after consumers' 1 MiB backlogs had gone through it, each
// of 32 publishing connections held a 1 MiB ring for a few hundred bytes
// of partial frame (31 MB of the broker's heap in issue 19's 32p/32c
// case), and never gave it back, since the ring is never empty. So a
// partial frame of up to maxCarry bytes is copied here instead, and the
// next read's first bytes complete it: one small copy per read.

// maxCarry is the largest split frame kept by the connection; larger ones
// stay in gnet's buffer as before.
const maxCarry = 16 << 10

// frameTotal is the length of the frame p starts with, or the length of
// a frame header while p holds less than one.
func frameTotal(p []byte) int {
	if len(p) < 7 {
		return 7
	}
	return 7 + int(binary.BigEndian.Uint32(p[3:7])) + 1
}

// keepCarry takes rest, what Feed left of a read, if it is the start of a
// single frame of up to maxCarry bytes and the connection is reading
// frames normally; it reports whether it did.
func (c *Conn) keepCarry(rest []byte) bool {
	if len(rest) == 0 || c.state == stateHeader || c.state >= stateDone || c.holdInput || c.flow.blocked {
		return false
	}
	if len(rest) >= frameTotal(rest) || frameTotal(rest) > maxCarry {
		return false // a whole frame Feed did not take, or a big one
	}
	if c.carry == nil {
		c.carry = make([]byte, 0, maxCarry)
		c.carryHeld.Store(true)
	}
	c.carry = append(c.carry[:0], rest...)
	return true
}

// completeCarry appends to the kept partial frame what buf has of its
// rest, and says how many bytes of buf it took.
func (c *Conn) completeCarry(buf []byte) int {
	taken := 0
	for !c.carryTooBig() {
		need := frameTotal(c.carry)
		k := min(need-len(c.carry), len(buf)-taken)
		if k <= 0 {
			return taken
		}
		// A frame whose header arrived in pieces may be larger than
		// maxCarry: append grows the buffer then (rare), and feedCarry
		// drops it after.
		c.carry = append(c.carry, buf[taken:taken+k]...)
		taken += k
	}
	return taken
}

// carryTooBig reports whether the kept frame's header declares more than
// the negotiated frame-max: Feed refuses it (frame_too_large) from the
// header alone, so its payload is never gathered.
func (c *Conn) carryTooBig() bool {
	fm := c.frameMaxIn()
	return len(c.carry) >= 7 && fm != 0 && frameTotal(c.carry)-8 > int(fm)
}

// carryReady reports whether the kept frame can go to Feed: complete, or
// too big to wait for.
func (c *Conn) carryReady() bool { return len(c.carry) >= frameTotal(c.carry) || c.carryTooBig() }

// feedCarry runs the completed frame through Feed and reports whether it
// was taken (not while input is held or the connection is blocked).
func (c *Conn) feedCarry() bool {
	n := c.Feed(c.carry)
	c.countIn(n)
	if n < len(c.carry) {
		c.carry = c.carry[:copy(c.carry, c.carry[n:])]
		return false
	}
	c.carry = c.carry[:0]
	if cap(c.carry) > maxCarry {
		c.carry = nil
		c.carryHeld.Store(false)
	}
	return true
}

// takeCarry hands over the kept partial frame (a connection leaving its
// event loop puts it in front of the rest of its input).
func (c *Conn) takeCarry() []byte {
	p := c.carry
	c.carry = nil
	c.carryHeld.Store(false)
	return p
}
