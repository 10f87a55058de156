package frame

import "fmt"

// Error is an AMQP exception: what goes into connection.close or
// channel.close. Every error this package returns for bad input is an
// *Error, so the caller can answer the peer without inspecting text.
type Error struct {
	Code     uint16 // reply code, e.g. SyntaxError
	Text     string // explanation, without the "SYNTAX_ERROR - " prefix
	ClassID  uint16 // the method that failed, when known
	MethodID uint16
}

// Errorf builds an *Error with a formatted explanation.
func Errorf(code uint16, format string, args ...any) *Error {
	return &Error{Code: code, Text: fmt.Sprintf(format, args...)}
}

// WithMethod records the method that caused e, for the class-id and
// method-id of the close it is sent in; it returns e.
func (e *Error) WithMethod(id uint32) *Error {
	e.ClassID, e.MethodID = uint16(id>>16), uint16(id)
	return e
}

// Error returns the text RabbitMQ would put in reply-text, e.g.
// "NOT_FOUND - no queue 'q' in vhost '/'", so callers can send it as is.
func (e *Error) Error() string {
	name := ReplyName(e.Code)
	if name == "" {
		name = fmt.Sprintf("REPLY_%d", e.Code)
	}
	return name + " - " + e.Text
}

// Hard reports whether the error must close the connection; a soft error
// closes only the channel. The split is the spec's: its soft-error codes
// are soft, everything else (including codes it does not know) is hard,
// because closing too much is safer than leaving a confused peer open.
func (e *Error) Hard() bool {
	return e.Code != ReplySuccess && !softError(e.Code)
}

// unknownMethod distinguishes a class we have never heard of (the peer
// wants something not implemented) from a bad method in a known class (an
// invalid command).
func unknownMethod(id uint32) *Error {
	class, method := uint16(id>>16), uint16(id)
	var e *Error
	if knownClass(class) {
		e = Errorf(CommandInvalid, "unknown method %d in class %d", method, class)
	} else {
		e = Errorf(NotImplemented, "unknown class %d (method %d)", class, method)
	}
	e.ClassID, e.MethodID = class, method
	return e
}
