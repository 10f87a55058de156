package broker

import (
	"errors"
	"sync/atomic"
)

var errStreamNotImplemented = errors.New("streams: not implemented yet")

var amqp10Decoder atomic.Pointer[AMQP10ChunkDecoder]

type streamStore struct{}

type streamReader struct {
	notify        chan struct{}
	nextOffset    uint64
	read, skipped uint64
}

func streamConfigFromArguments(map[string]string) (StreamConfig, error) {
	return StreamConfig{}, errStreamNotImplemented
}
func (v *VHost) lookupStream(string) (*Stream, error) { return nil, errStreamNotImplemented }
func (v *VHost) declareStream(*Principal, string, StreamConfig) (*Stream, bool, error) {
	return nil, false, errStreamNotImplemented
}
func (v *VHost) deleteStream(*Principal, string) error { return errStreamNotImplemented }
func (s *streamStore) configSnapshot() StreamConfig    { return StreamConfig{} }
func (s *streamStore) appendChunkShared(*Queue, *ChunkIn) (uint64, uint64, error) {
	return 0, 0, errStreamNotImplemented
}
func (f *FilterSummary) add([]byte)             {}
func (f *FilterSummary) mayContain([]byte) bool { return true }
func (s *streamStore) newReader(*Queue, OffsetSpec, ReaderOptions) (*StreamReader, error) {
	return nil, errStreamNotImplemented
}
func (r *streamReader) next() (Chunk, bool, error)      { return Chunk{}, false, errStreamNotImplemented }
func (r *streamReader) close()                          {}
func (s *streamStore) storeOffset(string, uint64) error { return errStreamNotImplemented }
func (s *streamStore) queryOffset(string) (uint64, bool, error) {
	return 0, false, errStreamNotImplemented
}
func (s *streamStore) stats() StreamStats                            { return StreamStats{} }
func (q *Queue) streamStore() (*streamStore, bool)                   { return nil, false }
func decodeWarrenChunk([]byte, func(int, *StreamMessage) bool) error { return errStreamNotImplemented }
