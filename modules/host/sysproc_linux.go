package host

import (
	"os/exec"
	"syscall"
)

// setDeathSignal makes the kernel kill the module if the host dies without
// stopping it, so no module outlives its host (and, say, keeps a port).
// The signal follows the OS thread that started the process; the host
// starts modules from ordinary goroutines, which never end their thread.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
