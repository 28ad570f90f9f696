//go:build linux

package server

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// holdDuringStart: CoreDNS listens with SO_REUSEPORT on Linux, so the
// reserving sockets (which set it too) can stay open while CoreDNS binds
// the same port, and no other process can take the port in between.
const holdDuringStart = true

func reusePort(_, _ string, c syscall.RawConn) error {
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	})
	if err != nil {
		return err
	}
	return serr
}
