package mgmt

import (
	"net/http"

	"github.com/warrenmq/warren/broker"
)

// streamView is what the queue views add for a stream: its offsets and
// storage (Warren's; RabbitMQ 3.10 shows only members, online and readers).
type streamView struct {
	FirstOffset     uint64 `json:"first_offset"`
	LastChunkOffset uint64 `json:"last_chunk_offset"`
	CommittedOffset uint64 `json:"committed_offset"` // one past the last committed message
	FirstTimestamp  int64  `json:"first_timestamp"`  // unix ms of the first chunk kept
	Segments        int    `json:"segments"`
	Bytes           int64  `json:"bytes"`
	ChunksRead      uint64 `json:"chunks_read"`
	ChunksSkipped   uint64 `json:"chunks_skipped"` // by filters, on their summaries alone
}

// addStreamView fills a stream queue's row as RabbitMQ's: every stored
// message is "ready", none unacknowledged (acks give credit only), the
// readers by node.
func (a *api) addStreamView(row *queueRow, st broker.StreamStats) {
	n := int64(st.Messages)
	row.Messages, row.MessagesReady, row.MessagesUnacknowledged = n, n, 0
	row.Members, row.Online = []string{a.cfg.Node}, []string{a.cfg.Node}
	row.Readers = map[string]int{a.cfg.Node: st.Readers}
	row.Stream = &streamView{
		FirstOffset: st.FirstOffset, LastChunkOffset: st.LastOffset, CommittedOffset: st.CommittedNext,
		FirstTimestamp: st.FirstTimestamp, Segments: st.Segments, Bytes: st.Bytes,
		ChunksRead: st.ChunksRead, ChunksSkipped: st.ChunksSkipped,
	}
}

// streamRefused answers RabbitMQ 3.10's 400 for an operation streams do not
// support (get, purge), with its reason text (the get's carries the AMQP
// code in front); false for other queues.
func streamRefused(w http.ResponseWriter, v *broker.VHost, q *broker.Queue, prefix, op string) bool {
	if !q.IsStream() {
		return false
	}
	writeError(w, http.StatusBadRequest, "bad_request", prefix+op+" not supported by stream queues queue '"+q.Name+"' in vhost '"+v.Name+"'")
	return true
}
