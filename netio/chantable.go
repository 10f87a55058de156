package netio

// channelTable finds a connection's channels by id with a slice index: the
// lookup runs for every frame, where a map's hashing showed in profiles.
// Ids past directIDs are found by scanning open: channel_max bounds how
// many channels a client opens, not their numbers (as in RabbitMQ), and
// one channel numbered 65535 must not cost a 512 KiB index.
type channelTable struct {
	byID []*channel // index = channel id; grown to the largest id opened up to directIDs
	open []*channel // for iteration, in opening order
}

const directIDs = 2048

func (t *channelTable) get(id uint16) *channel {
	if int(id) < len(t.byID) {
		return t.byID[id]
	}
	if id < directIDs {
		return nil
	}
	for _, ch := range t.open {
		if ch.id == id {
			return ch
		}
	}
	return nil
}

func (t *channelTable) add(ch *channel) {
	t.open = append(t.open, ch)
	if ch.id >= directIDs {
		return
	}
	for int(ch.id) >= len(t.byID) {
		t.byID = append(t.byID, nil)
	}
	t.byID[ch.id] = ch
}

func (t *channelTable) remove(id uint16) {
	ch := t.get(id)
	if ch == nil {
		return
	}
	if int(id) < len(t.byID) {
		t.byID[id] = nil
	}
	for i, x := range t.open {
		if x == ch {
			t.open = append(t.open[:i], t.open[i+1:]...)
			break
		}
	}
}
