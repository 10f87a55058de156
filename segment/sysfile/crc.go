package sysfile

import "hash/crc32"

// Castagnoli is the CRC-32C table every checksum in the data directory uses
// (records, segment headers and footers, ack entries, the delivered hint).
// Changing it would make every existing file unreadable: never change it,
// and never modify the table.
var Castagnoli = crc32.MakeTable(crc32.Castagnoli)
