package broker

// AuthenticateExternal admits name without a password: the caller has
// established who it is some other way (a verified TLS client
// certificate, for EXTERNAL). The user must exist, and loopback-only
// users still need a loopback peer, as in RabbitMQ.
func (u *Users) AuthenticateExternal(name string, loopback bool) (*Principal, error) {
	u.mu.RLock()
	e, ok := u.users[name]
	loopbackOnly := u.loopback[name]
	u.mu.RUnlock()
	if !ok {
		return nil, ErrBadCredentials
	}
	if loopbackOnly && !loopback {
		return nil, ErrLoopbackOnly
	}
	return &Principal{User: name, Tags: e.tags}, nil
}
