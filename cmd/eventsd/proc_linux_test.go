package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// dieWithParent has Linux kill an eventsd child if the test binary dies
// without running its cleanups (go test's -timeout panics, for one), so that
// no stray eventsd keeps a port or a Redis queue busy.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// dieWithParentWorks says whether the kernel stops dev's redis-server when
// eventsd is killed.
const dieWithParentWorks = true

// processGone reports whether pid has exited (a zombie not yet reaped by
// whoever inherited it counts as gone).
func processGone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
}
