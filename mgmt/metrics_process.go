package mgmt

// processSample is what rabbitmq_process_* and the disk and memory
// families report about the process and its machine.
type processSample struct {
	rss, openFDs, maxFDs, diskFree, totalRAM uint64
}
