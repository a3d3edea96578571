package sqlite_test

import (
	"errors"
	"os"
	"runtime"
	"syscall"
	"testing"
	"unsafe"
)

// unprivileged runs fn on an OS thread that obeys file permission bits even
// when the test runs as root, as it does in many containers and CI images:
// the thread drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from its
// effective capabilities. Linux capabilities belong to threads, so the rest
// of the process keeps its rights; the goroutine stays locked to the thread,
// which the runtime then discards instead of reusing.
//
// fn receives check, which fails the test unless creating the file at path
// is refused on this thread: a test that meant to hit a permission error but
// had the rights anyway would prove nothing.
func unprivileged(t *testing.T, fn func(check func(path string))) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // never unlocked, on purpose
		if os.Geteuid() == 0 {
			if err := dropFileCapabilities(); err != nil {
				t.Errorf("drop file capabilities: %v", err)
				return
			}
		}
		fn(func(path string) {
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
			if err == nil {
				f.Close()
				os.Remove(path)
				t.Errorf("precondition: %s could be created; the test cannot provoke a permission error", path)
				return
			}
			if !errors.Is(err, os.ErrPermission) {
				t.Errorf("precondition: creating %s: %v; want a permission error", path, err)
			}
		})
	}()
	<-done
	if t.Failed() {
		t.FailNow()
	}
}

// capUserHeader and capUserData are the kernel's structures for capget(2)
// and capset(2), version 3.
type capUserHeader struct {
	version uint32
	pid     int32 // 0: the calling thread
}

type capUserData struct {
	effective, permitted, inheritable uint32
}

const (
	linuxCapabilityVersion3 = 0x20080522
	capDACOverride          = 1
	capDACReadSearch        = 2
)

func dropFileCapabilities() error {
	hdr := capUserHeader{version: linuxCapabilityVersion3}
	var data [2]capUserData
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CAPGET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); errno != 0 {
		return errno
	}
	data[0].effective &^= 1<<capDACOverride | 1<<capDACReadSearch
	if _, _, errno := syscall.RawSyscall(syscall.SYS_CAPSET, uintptr(unsafe.Pointer(&hdr)), uintptr(unsafe.Pointer(&data[0])), 0); errno != 0 {
		return errno
	}
	return nil
}
