// Package frame is AMQP 0-9-1 on the wire: frames, every method of the
// spec and of RabbitMQ's extensions, content headers and their properties,
// and field tables. It does no I/O and starts no goroutines; it decodes
// from byte slices and appends to caller-owned ones.
//
// # Lifetimes
//
// Views are never copied: Frame.Payload from Parse, rawProps from
// ParseContentHeader and the names from DecodePublishView point into the
// caller's buffer and are valid only while it is (for gnet, until Discard
// or the end of OnTraffic). What outlives the buffer must be copied, once.
// Method.Decode, DecodeMethod, DecodeTable, DecodeProperties and
// PropsHeaders copy instead: their results may be kept.
//
// # Errors
//
// Peer input never panics. Every decoding error is an *Error carrying the
// reply code to close with (501 for framing and for undecodable arguments,
// properties and tables, as RabbitMQ; 503/540 for unknown methods) and Hard
// says whether it closes the connection or only the channel. A shortstr
// argument of a method without content that is not UTF-8 is 501 "Malformed
// UTF-8 in shortstr", as in RabbitMQ.
//
// # Encoding
//
// Encoders append to dst and return it; with enough capacity they do not
// allocate. Encoders that cannot return an error never emit a malformed
// frame: over-long shortstrs are truncated and unencodable tables sent
// empty. Method.Validate and Properties.Validate report those cases first.
//
// # Zero allocation
//
// Parse, MethodID, ParseContentHeader, DecodePublishView, ValidateProperties,
// PropsDeliveryMode, PropsShortstr, BasicAck/BasicNack/BasicReject.Decode
// and the Append functions (with a pre-sized dst) allocate nothing;
// frame_alloc_test.go holds them to it.
//
// # Generated code
//
// methods_gen.go is written by internal/gen from the vendored
// amqp0-9-1.stripped.extended.xml (BSD-licensed, as shipped by RabbitMQ and
// amqp091-go). Run `go generate ./frame` after changing either.
package frame
