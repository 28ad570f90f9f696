//go:build !unix

package health

import "os/exec"

func setGroup(*exec.Cmd) {}

// killGroup kills the check's process (no process groups here).
func killGroup(cmd *exec.Cmd) error {
	if cmd.Process == nil {
		return nil
	}
	return cmd.Process.Kill()
}
