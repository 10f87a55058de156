// Package segment stores a queue's messages as an append-only log: a
// directory of segment files (seg.NNNNNNNNNN, 8 MiB by default), each
// record framed with its length and a CRC32C. It knows bytes and positions,
// not AMQP; package index says which records are done.
//
// # Files
//
// A segment is a 16-byte header ("WSEG", version), records from DataStart
// on, and, once sealed, a 32-byte footer (record counts, persistent body
// bytes, end of data, CRC) with the file cut to end right after it.
// Records are 8-byte aligned (layout in record.go): a 24-byte header
// (length, crc32c, version, flags, name lengths, timestamp), then exchange,
// routing key, raw properties and body. A record larger than a segment
// gets a segment sized to fit it.
//
// # Writing
//
// New segments are ftruncated to their size and fallocated ahead of the
// writer (64 KiB at first, doubling up to 1 MiB a step), so a full disk is
// an error from Append, never a SIGBUS, and a near-empty queue costs little
// disk.
// Appends are staged in a small per-log buffer (4-32 KiB) and written with
// pwrite; wbuf.go explains why (page faults on our VMs), with figures.
// Reading is through read-only mappings, so a delivery takes the body
// straight from the page cache.
//
// # Mappings
//
// A segment is mapped only while being read: the head (written) segment
// plus at most two others per log, least recently used unmapped first, so
// mapped memory stays bounded whatever the backlog (vm.max_map_count is
// 65530 by default). Read mappings get MADV_SEQUENTIAL and MADV_HUGEPAGE.
//
// # Descriptors
//
// Only a head being written holds a descriptor, and those are bounded
// across all logs by a FileCache (filecache.go): past its budget (a quarter
// of RLIMIT_NOFILE by default) the least recently used head is closed, its
// staged records written first, and reopened by its next append. A sealed
// segment holds none (a read maps it and closes the descriptor), nor do
// ack files and the delivered hint (package index). So neither a backlog
// nor the number of queues with one grows the fd count.
//
// # Durability
//
// One Syncer per broker does group commit: an Append of a persistent record
// in a durable log returns a generation; a round closes the open
// generation, flushes the staged records of each dirty file, fdatasyncs it
// once, and publishes the generation as done. Rounds run back to back while
// there is work, never on a timer. Transient records and non-durable logs
// never wait for disk. Non-durable logs keep real files (so that they can
// be closed and reopened like any other) and delete what they find at
// Open; the broker keeps them under transient/, cleared at start.
//
// A head whose write or fdatasync failed is retired at the next append
// (retire.go): cut in memory to what was written, left unsealed, and
// appends go on in a fresh segment once the disk takes them.
//
// # Recovery
//
// Open reads the footer of each sealed segment (a few bytes per 8 MiB) and
// scans only unsealed ones with their checksums: a corrupt record followed
// by good ones is covered with padding and logged; a bad record with
// nothing good after it is a torn tail and is cut off. Transient records
// in a durable log do not survive a restart. Damage inside a sealed
// segment shows up when a reader reaches it (every read checks the CRC)
// and Rescan repairs it the same way. Measured: a store holding 10 million
// persistent 100 B messages (1.3 GB) opens in 6-15 ms, ~40 ms with a cold
// page cache, and 5-8 MB RSS.
//
// # Compression: not done, on purpose
//
// We measured s2 (klauspost/compress) on sealed 8 MiB segments, one core of
// this machine:
//
//	bodies           s2 size   compress   decompress
//	100 B random       74%     760 MB/s     590 MB/s
//	1 KiB random       96%     980 MB/s     990 MB/s
//	100 B JSON         37%     540 MB/s     370 MB/s
//	1 KiB JSON         40%     645 MB/s     760 MB/s
//
// It saves disk only for compressible payloads that sit long in a queue,
// and it costs on every path that matters: a compressed segment cannot be
// read in place, so each delivery from it needs a decompression into heap
// memory (breaking zero-copy reads and the bounded-memory rule), positions
// would need translating, and the compress pass spends ~1.5-2 ms of CPU
// per 8 MiB on data that a consumer keeping up deletes seconds later. The
// backlog target (10M x 100 B = 1.3 GB) fits disks easily. If long-lived
// archives of compressible data become a use case, compress sealed
// segments in 64 KiB s2 blocks with an offset table, behind a per-queue
// policy, off the queue goroutine.
package segment
