package broker

import "fmt"

// What a change of the user table does to open connections, as in
// RabbitMQ 3.10 (checked against 3.10.8): deleting a user closes each of
// its connections with 320 CONNECTION_FORCED "user '<name>' is deleted";
// a changed password, changed tags or cleared permissions close nothing
// (the permission checks see the new table at the next operation, as
// Users.gen tells every channel's cache).

// closeUserConns closes every connection logged in as name.
func (b *Broker) closeUserConns(name string) {
	reason := fmt.Sprintf("user '%s' is deleted", name)
	for _, e := range b.reg.Conns() {
		if e.Info.User == name {
			e.Close(reason)
		}
	}
}
