package frame_test

import (
	"fmt"

	"github.com/warrenmq/warren/frame"
)

// A connection's read loop: decode every whole frame in the buffer as
// views, act on each, then drop the consumed bytes once.
func ExampleParse() {
	var in []byte
	in = frame.AppendMethodFrame(in, 1, &frame.BasicPublish{Exchange: "amq.direct", RoutingKey: "jobs"})
	props := frame.Properties{DeliveryMode: 2}
	in = frame.AppendContentHeader(in, 1, frame.ClassBasic, 5, frame.AppendProperties(nil, &props))
	in = frame.AppendBody(in, 1, []byte("hello"), frame.FrameMinSize)

	consumed := 0
	for {
		f, n, err := frame.Parse(in[consumed:], frame.FrameMinSize)
		if err != nil {
			fmt.Println("close connection:", err)
			return
		}
		if n == 0 {
			break // need more bytes
		}
		consumed += n
		switch f.Type {
		case frame.FrameMethod:
			id, _ := frame.MethodID(f.Payload)
			if id == frame.IDBasicPublish {
				ex, rk, _, _, _ := frame.DecodePublishView(f.Payload[4:])
				fmt.Printf("publish to %s/%s\n", ex, rk)
			}
		case frame.FrameHeader:
			_, size, raw, _ := frame.ParseContentHeader(f.Payload)
			fmt.Println("body size", size, "delivery mode", frame.PropsDeliveryMode(raw))
		case frame.FrameBody:
			fmt.Printf("body %q\n", f.Payload)
		}
	}
	fmt.Println("consumed", consumed, "of", len(in))
	// Output:
	// publish to amq.direct/jobs
	// body size 5 delivery mode 2
	// body "hello"
	// consumed 67 of 67
}

// Errors carry the reply code and whether to close the connection or
// only the channel.
func ExampleError() {
	_, err := frame.DecodeMethod([]byte{0, 60, 0, 80, 0})
	e := err.(*frame.Error)
	fmt.Println(e.Code, e.Hard())
	fmt.Println(e)
	// Output:
	// 501 true
	// FRAME_ERROR - cannot decode basic.ack: arguments end early (1 bytes)
}
