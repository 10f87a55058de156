package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"

	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4"

	"github.com/warrenmq/warren/broker"
	"github.com/warrenmq/warren/cmd/warren/config"
	"github.com/warrenmq/warren/netio/streamproto"
)

// streamPortFlag applies -stream-port: 0 disables the stream listener,
// another port moves the first one (or adds it on host).
func streamPortFlag(ls []config.NamedListener, host string, port int) []config.NamedListener {
	if port == 0 {
		return nil
	}
	if len(ls) == 0 {
		return []config.NamedListener{{Name: "default", Listener: config.Listener{Host: host, Port: port}}}
	}
	ls[0].Port = port
	return ls
}

// startStream starts the stream protocol listener if one is configured.
// A listener that cannot bind is logged and skipped: the AMQP broker runs
// without the stream protocol rather than not at all. stop is never nil.
func startStream(cfg *config.Config, b *broker.Broker) (stop func(), addr string) {
	if len(cfg.Stream) == 0 || cfg.Stream[0].Port == 0 {
		return func() {}, ""
	}
	a := cfg.Stream[0].Addr()
	ln, err := net.Listen("tcp", a)
	if err != nil {
		slog.Error("stream listener: not serving the stream protocol", "addr", a, "err", err)
		return func() {}, ""
	}
	srv := streamproto.NewServer(streamproto.Config{
		AdvertisedHost:   cfg.StreamAdvertisedHost,
		AdvertisedPort:   cfg.StreamAdvertisedPort,
		FrameMax:         1 << 20,
		HandshakeTimeout: cfg.HandshakeTimeout,
	}, b)
	go func() {
		if err := srv.Serve(ln); err != nil && err != streamproto.ErrServerClosed {
			slog.Error("stream listener stopped", "err", err)
		}
	}()
	slog.Info("stream protocol listening", "stream", ln.Addr().String())
	return func() { _ = srv.Close() }, ln.Addr().String()
}

func init() {
	streamproto.RegisterDecompressor(streamproto.CompressionZstd, func(dst, src []byte, size int) ([]byte, error) {
		return zstdDecoder.DecodeAll(src, dst)
	})
	// The stream clients write snappy's framing format, and lz4's frame
	// format (the Go client with pierrec/lz4, the Java one with
	// lz4-java's framed stream).
	streamproto.RegisterDecompressor(streamproto.CompressionSnappy, func(dst, src []byte, size int) ([]byte, error) {
		return inflate("snappy", snappy.NewReader(bytes.NewReader(src)), dst, size)
	})
	streamproto.RegisterDecompressor(streamproto.CompressionLz4, func(dst, src []byte, size int) ([]byte, error) {
		return inflate("lz4", lz4.NewReader(bytes.NewReader(src)), dst, size)
	})
}

// inflate appends the size bytes r decompresses to dst.
func inflate(codec string, r io.Reader, dst []byte, size int) ([]byte, error) {
	at := len(dst)
	dst = append(dst, make([]byte, size)...)
	n, err := io.ReadFull(r, dst[at:])
	if err != nil {
		return dst[:at+n], fmt.Errorf("%s: %w (after %s bytes)", codec, err, strconv.Itoa(n))
	}
	return dst[:at+n], nil
}

var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
