package broker

import (
	"encoding/json"
	"os"
	"path/filepath"
)

// queueLabelFile names, inside a durable queue's directory (whose own name
// is a hash), the vhost and queue it holds, so an operator can find a
// queue on disk: grep -l '"queue":"orders"' data/vhosts/*/queues/*/queue.json
const queueLabelFile = "queue.json"

type queueLabel struct {
	VHost string `json:"vhost"`
	Queue string `json:"queue"`
}

// writeQueueLabel writes the label when the queue's directory is made. It
// is not fsynced: the definitions are the record of what exists, and a
// label lost in a crash comes back with the next segment.
func writeQueueLabel(dir, vhost, queue string) error {
	data, err := json.Marshal(queueLabel{vhost, queue})
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, queueLabelFile), append(data, '\n'), 0o644)
}
