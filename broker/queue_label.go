package broker

import (
	"os"
	"path/filepath"
)

// Directories are named by hashes (names may hold any byte), so each says
// what it holds in a small file, in RabbitMQ 3.10's names and format so an
// operator's habits carry over:
//
//	data/vhosts/<hash>/.vhost                   "/"
//	data/vhosts/<hash>/queues/<hash>/.queue_name "VHOST: /\nQUEUE: orders\n"
//
// grep -rl 'QUEUE: orders$' data/vhosts/*/queues/*/.queue_name finds a queue.
const (
	queueLabelFile = ".queue_name"
	vhostLabelFile = ".vhost"
)

// writeQueueLabel writes the label when the queue's directory is made (an
// empty queue has none). It is not fsynced: the definitions are the record
// of what exists, and a label lost in a crash comes back with the queue's
// next segment.
func writeQueueLabel(dir, vhost, queue string) error {
	return os.WriteFile(filepath.Join(dir, queueLabelFile), []byte("VHOST: "+vhost+"\nQUEUE: "+queue+"\n"), 0o644)
}

// writeVHostLabel writes a vhost directory's label if it is missing.
func writeVHostLabel(dir, vhost string) error {
	path := filepath.Join(dir, vhostLabelFile)
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	return os.WriteFile(path, []byte(vhost), 0o644)
}
