package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent has Linux kill an eventsd child if the test binary dies
// without running its cleanups (go test's -timeout panics, for one), so that
// no stray eventsd keeps a port or a Redis queue busy.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
