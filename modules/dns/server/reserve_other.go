//go:build !linux

package server

import "syscall"

// holdDuringStart: without SO_REUSEPORT the reserving sockets are closed
// just before CoreDNS binds the port.
const holdDuringStart = false

func reusePort(_, _ string, _ syscall.RawConn) error { return nil }
