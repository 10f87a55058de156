// Package wire is a minimal, self-contained AMQP 0-9-1 frame encoder and
// in-place parser for the warren-perf load tool. It encodes only the methods
// a load client sends and parses only what it reads. It deliberately does not
// depend on the broker's frame package.
package wire

// Frame types and framing constants.
const (
	FrameMethod    = 1
	FrameHeader    = 2
	FrameBody      = 3
	FrameHeartbeat = 8
	FrameEnd       = 0xCE

	// HeaderSize is the frame header: type(1) channel(2) size(4).
	HeaderSize = 7
	// Overhead is the per-frame overhead: header plus frame-end octet.
	Overhead = HeaderSize + 1
	// MinFrameMax is the smallest frame_max a peer may negotiate.
	MinFrameMax = 4096
)

// ProtocolHeader opens every AMQP 0-9-1 connection.
var ProtocolHeader = []byte{'A', 'M', 'Q', 'P', 0, 0, 9, 1}

// Class ids.
const (
	ClassConnection = 10
	ClassChannel    = 20
	ClassExchange   = 40
	ClassQueue      = 50
	ClassBasic      = 60
	ClassConfirm    = 85
)

// MethodID packs class and method ids as class<<16 | method.
func MethodID(class, method uint16) uint32 { return uint32(class)<<16 | uint32(method) }

// Method ids used by the load tool.
var (
	ConnectionStart    = MethodID(10, 10)
	ConnectionStartOk  = MethodID(10, 11)
	ConnectionTune     = MethodID(10, 30)
	ConnectionTuneOk   = MethodID(10, 31)
	ConnectionOpen     = MethodID(10, 40)
	ConnectionOpenOk   = MethodID(10, 41)
	ConnectionClose    = MethodID(10, 50)
	ConnectionCloseOk  = MethodID(10, 51)
	ConnectionBlocked  = MethodID(10, 60)
	ChannelOpen        = MethodID(20, 10)
	ChannelOpenOk      = MethodID(20, 11)
	ChannelFlow        = MethodID(20, 20)
	ChannelClose       = MethodID(20, 40)
	ChannelCloseOk     = MethodID(20, 41)
	ExchangeDeclare    = MethodID(40, 10)
	ExchangeDeclareOk  = MethodID(40, 11)
	ExchangeDelete     = MethodID(40, 20)
	ExchangeDeleteOk   = MethodID(40, 21)
	QueueDeclare       = MethodID(50, 10)
	QueueDeclareOk     = MethodID(50, 11)
	QueueBind          = MethodID(50, 20)
	QueueBindOk        = MethodID(50, 21)
	QueuePurge         = MethodID(50, 30)
	QueuePurgeOk       = MethodID(50, 31)
	QueueDelete        = MethodID(50, 40)
	QueueDeleteOk      = MethodID(50, 41)
	BasicQos           = MethodID(60, 10)
	BasicQosOk         = MethodID(60, 11)
	BasicConsume       = MethodID(60, 20)
	BasicConsumeOk     = MethodID(60, 21)
	BasicCancel        = MethodID(60, 30)
	BasicCancelOk      = MethodID(60, 31)
	BasicPublish       = MethodID(60, 40)
	BasicReturn        = MethodID(60, 50)
	BasicDeliver       = MethodID(60, 60)
	BasicAck           = MethodID(60, 80)
	BasicNack          = MethodID(60, 120)
	ConfirmSelect      = MethodID(85, 10)
	ConfirmSelectOk    = MethodID(85, 11)
	DeliveryModeFlag   = uint16(1 << 12) // basic property flag bit for delivery-mode
	DeliveryPersistent = uint8(2)
)
