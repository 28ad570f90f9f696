//go:build !linux

package host

import "os/exec"

// setDeathSignal does nothing outside Linux: a module outlives a host that
// dies without stopping it.
func setDeathSignal(*exec.Cmd) {}
