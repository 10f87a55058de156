package router

import "errors"

// Errors returned by the writer side of the Router. The broker maps them to
// AMQP replies: ErrNoExchange to 404 NOT_FOUND, ErrKindMismatch and
// ErrInvalidArgs to 406 PRECONDITION_FAILED.
var (
	ErrNoExchange   = errors.New("router: no such exchange")
	ErrKindMismatch = errors.New("router: exchange exists with a different kind")
	ErrInvalidArgs  = errors.New("router: invalid binding arguments")
)

// NoExchangeError names the exchange that was missing, so the broker can
// build RabbitMQ's "no exchange 'x' in vhost 'v'" text for either end of an
// exchange-to-exchange binding. It matches ErrNoExchange with errors.Is.
type NoExchangeError struct{ Name string }

func (e *NoExchangeError) Error() string        { return "router: no exchange '" + e.Name + "'" }
func (e *NoExchangeError) Is(target error) bool { return target == ErrNoExchange }
