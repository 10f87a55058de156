package main

import (
	"net"
	"os"
)

// sdNotify sends state (READY=1, STOPPING=1) to systemd's notification
// socket when systemd started Warren with Type=notify; without
// NOTIFY_SOCKET it does nothing. This is the whole of sd_notify(3) Warren
// needs, so no library.
func sdNotify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' {
		path = "\x00" + path[1:] // an abstract socket
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer c.Close()
	_, err = c.Write([]byte(state))
	return err
}
