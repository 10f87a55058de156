package broker

import (
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/warrenmq/warren/frame"
	"github.com/warrenmq/warren/router"
)

// delayedType is the plugin's exchange type.
const delayedType = "x-delayed-message"

// exchangeExt is what an exchange does beyond routing: a delayed exchange's
// buckets, an exchange's deduplication cache. Plain exchanges have none, so
// publishing to them costs one nil check.
type exchangeExt struct {
	delayed *delayedExchange
	dedup   *dedupCache
}

// exchangeKind is how an exchange of type typ routes: an x-delayed-message
// exchange routes as its x-delayed-type, which must name another type, with
// the plugin's errors.
func exchangeKind(typ string, args frame.Table) (router.Kind, error) {
	if typ == delayedType {
		dt, _ := args["x-delayed-type"].(string)
		switch {
		case dt == delayedType:
			return 0, frame.Errorf(frame.PreconditionFailed, "Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'")
		case dt == "":
			return 0, frame.Errorf(frame.PreconditionFailed, "Invalid argument, 'x-delayed-type' must be an existing exchange type")
		}
		typ = dt
	}
	kind, known := router.ParseKind(typ)
	if !known {
		return 0, frame.Errorf(frame.CommandInvalid, "unknown exchange type '%s'", typ)
	}
	return kind, nil
}

// openExchangeExt gives x what its type and arguments ask for beyond
// routing; nil for a plain exchange.
func (v *VHost) openExchangeExt(x *Exchange) (*exchangeExt, error) {
	dedup, err := dedupFromArgs(x.Args)
	if err != nil {
		return nil, err
	}
	var e exchangeExt
	e.dedup = dedup
	if dedup != nil && dedup.onDisk && x.Durable {
		if dedup.log, err = openDedupLog(dedupLogPath(v, x.Name), dedup); err != nil {
			return nil, frame.Errorf(frame.InternalError, "cannot open the deduplication cache's file: %v", err)
		}
	}
	if x.Type == delayedType {
		d, err := openDelayedExchange(v, x.Name, x.Durable)
		if err != nil {
			x.ext = &e
			x.closeExt(false)
			return nil, frame.Errorf(frame.InternalError, "cannot open delayed exchange storage: %v", err)
		}
		e.delayed = d
	}
	if e == (exchangeExt{}) {
		return nil, nil
	}
	return &e, nil
}

// closeExt releases what openExchangeExt opened; destroy deletes a delayed
// exchange's waiting messages with it (exchange.delete).
func (x *Exchange) closeExt(destroy bool) {
	if x.ext == nil {
		return
	}
	if d := x.ext.delayed; d != nil {
		logErr("close delayed exchange", d.close(destroy), "exchange", x.Name)
	}
	if c := x.ext.dedup; c != nil {
		c.mu.Lock()
		if c.log != nil {
			logErr("close deduplication cache file", c.log.close(destroy), "exchange", x.Name)
			c.log = nil
		}
		c.mu.Unlock()
	}
}

// closeExchangeExtsLocked closes the delayed exchanges at shutdown, before
// the queues: a message firing meanwhile is then not marked done and fires
// again after the restart, instead of being routed into a closed queue and
// lost. REQUIRES: v.mu held.
func (v *VHost) closeExchangeExtsLocked() {
	for _, x := range v.exchanges {
		x.closeExt(false)
	}
}

// publishExt applies x's extensions to a publish. done is true when the
// message was taken care of (dropped as a duplicate, or delayed) and must
// not be routed now.
func (v *VHost) publishExt(x *Exchange, m *Message) (res PublishResult, done bool, err error) {
	if m.fired {
		return res, false, nil // deduplicated and delayed before it waited
	}
	e := x.ext
	if e.dedup != nil && e.dedup.seen(m.Props) {
		return res, true, nil // not routed: a mandatory publish comes back
	}
	if e.delayed != nil {
		if d, ok := messageDelay(m.Props); ok {
			res, err = e.delayed.delay(m, d)
			return res, true, err
		}
	}
	return res, false, nil
}

// messageDelay reads the x-delay header as the plugin does: an integer of
// any width, a float truncated, or a string of digits; it reports whether
// the message waits (1 ms up to Erlang's longest timer).
func messageDelay(props []byte) (int64, bool) {
	h, err := frame.PropsHeaders(props)
	if err != nil || h == nil {
		return 0, false
	}
	d, ok := delayValue(h["x-delay"])
	return d, ok && d > 0 && d <= maxDelay
}

func delayValue(v any) (int64, bool) {
	if n, ok := intArg(v); ok {
		return n, true
	}
	switch x := v.(type) {
	case float64:
		if !math.IsNaN(x) && math.Abs(x) < 1<<62 {
			return int64(x), true
		}
	case float32:
		return delayValue(float64(x))
	case string:
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	case []byte:
		return delayValue(string(x))
	}
	return 0, false
}

// negateDelay sets the x-delay header of a fired message to minus its
// delay, as the plugin does: it is not delayed again when routed, and
// consumers can tell it came through a delayed exchange. Only the headers
// table is rewritten; the other properties stay byte for byte.
func negateDelay(props []byte) []byte {
	if out, ok := negateDelayInPlace(props); ok {
		return out
	}
	start, end, ok := headersSpan(props)
	if !ok {
		return append([]byte(nil), props...)
	}
	h, _, err := frame.DecodeTable(props[start:])
	if err != nil || h == nil {
		return append([]byte(nil), props...)
	}
	d, _ := delayValue(h["x-delay"])
	if d >= math.MinInt32 && d <= math.MaxInt32 {
		h["x-delay"] = int32(-d)
	} else {
		h["x-delay"] = -d
	}
	out := make([]byte, 0, len(props)+8)
	out = append(out, props[:start]...)
	if out, err = frame.AppendTable(out, h); err != nil {
		return append([]byte(nil), props...)
	}
	return append(out, props[end:]...)
}

// negateDelayInPlace is negateDelay for an integer x-delay whose negation
// fits 32 bits (every delay the plugin takes: at most 2^32-1 ms), as the
// plugin's set_table_value(H, <<"x-delay">>, signedint, -Delay) does it:
// the entry is replaced where it stands, as a signedint, and every other
// header stays byte for byte. One copy of the properties, no table decoded:
// the firing of a delayed message allocates that much less (what makes
// one late is mostly the timer goroutine waiting for a CPU or for a GC
// pause, so less garbage is fewer GC pauses).
func negateDelayInPlace(props []byte) ([]byte, bool) {
	f, ok := frame.PropsHeaderField(props, "x-delay")
	if !ok {
		return nil, false
	}
	d, ok := rawInt(f.Tag, f.Value)
	if !ok || -d < math.MinInt32 || -d > math.MaxInt32 {
		return nil, false
	}
	table, _, ok := headersSpan(props)
	if !ok {
		return nil, false
	}
	tag := f.End - len(f.Value) - 1
	out := make([]byte, 0, len(props)+4)
	out = append(out, props[:tag]...)
	out = append(out, 'I')
	out = binary.BigEndian.AppendUint32(out, uint32(int32(-d)))
	out = append(out, props[f.End:]...)
	size := binary.BigEndian.Uint32(props[table:]) + 4 - uint32(len(f.Value))
	binary.BigEndian.PutUint32(out[table:], size)
	return out, true
}

// headersSpan finds the headers table (its 4-byte size included) in raw
// content-header properties: after the flag words, content-type and
// content-encoding (AMQP 0-9-1's property order).
func headersSpan(raw []byte) (start, end int, ok bool) {
	if len(raw) < 2 {
		return 0, 0, false
	}
	flags := binary.BigEndian.Uint16(raw)
	off := 2
	for f := flags; f&1 != 0; off += 2 { // continuation flag words
		if len(raw) < off+2 {
			return 0, 0, false
		}
		f = binary.BigEndian.Uint16(raw[off:])
	}
	for _, bit := range []uint16{frame.PropContentType, frame.PropContentEncoding} {
		if flags&bit != 0 {
			if off >= len(raw) {
				return 0, 0, false
			}
			off += 1 + int(raw[off])
		}
	}
	if flags&frame.PropHeaders == 0 || off+4 > len(raw) {
		return 0, 0, false
	}
	end = off + 4 + int(binary.BigEndian.Uint32(raw[off:]))
	if end > len(raw) {
		return 0, 0, false
	}
	return off, end, true
}

// sweepDelayedDirsLocked deletes the files of durable delayed and
// deduplicating exchanges that no longer exist (a crash between recording
// a deletion and deleting its files), so a new exchange of the same name
// starts empty. REQUIRES: v.mu held, the durable exchanges restored.
func (v *VHost) sweepDelayedDirsLocked() {
	keep := make(map[string]bool)
	for _, x := range v.exchanges {
		if x.ext != nil && x.Durable {
			keep[nameDir(x.Name)] = true
		}
	}
	for _, sub := range []string{"delayed", "dedup"} {
		root := filepath.Join(v.dir, sub)
		ents, _ := os.ReadDir(root)
		for _, e := range ents {
			if !keep[e.Name()] {
				logErr("delete stale exchange storage", os.RemoveAll(filepath.Join(root, e.Name())), "path", filepath.Join(sub, e.Name()))
			}
		}
	}
}
