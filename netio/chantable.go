package netio

// channelTable finds a connection's channels by id with a slice index: the
// lookup runs for every frame, where a map's hashing showed in profiles.
type channelTable struct {
	byID []*channel // index = channel id; grown to the largest id opened
	open []*channel // for iteration, in opening order
}

func (t *channelTable) get(id uint16) *channel {
	if int(id) < len(t.byID) {
		return t.byID[id]
	}
	return nil
}

func (t *channelTable) add(ch *channel) {
	for int(ch.id) >= len(t.byID) {
		t.byID = append(t.byID, nil)
	}
	t.byID[ch.id] = ch
	t.open = append(t.open, ch)
}

func (t *channelTable) remove(id uint16) {
	ch := t.get(id)
	if ch == nil {
		return
	}
	t.byID[id] = nil
	for i, x := range t.open {
		if x == ch {
			t.open = append(t.open[:i], t.open[i+1:]...)
			break
		}
	}
}
