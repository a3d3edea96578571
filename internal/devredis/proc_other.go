//go:build !linux

package devredis

import (
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// dieWithParent puts redis-server in a process group of its own, so that a
// Ctrl-C in the terminal reaches only eventsd, which stops it last. Only
// Linux can have the kernel stop it when eventsd is killed; elsewhere the
// next start stops a server left behind (stopStale).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}

// isRedisServer reports whether process pid runs redis-server.
func isRedisServer(pid int) bool {
	out, err := exec.Command("ps", "-p", strconv.Itoa(pid), "-o", "command=").Output()
	return err == nil && strings.Contains(string(out), "redis-server")
}

func isZombie(pid int) bool {
	out, err := exec.Command("ps", "-p", strconv.Itoa(pid), "-o", "stat=").Output()
	return err == nil && strings.HasPrefix(strings.TrimSpace(string(out)), "Z")
}

// parentPID returns the parent of process pid, or 0.
func parentPID(pid int) int {
	out, err := exec.Command("ps", "-p", strconv.Itoa(pid), "-o", "ppid=").Output()
	if err != nil {
		return 0
	}
	ppid, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return ppid
}
