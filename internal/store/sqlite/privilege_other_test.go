//go:build !linux

package sqlite_test

import (
	"os"
	"testing"
)

// unprivileged runs fn. Outside Linux a thread cannot shed root's rights,
// so as root the test is skipped: root ignores the permission bits it needs.
func unprivileged(t *testing.T, fn func(check func(path string))) {
	t.Helper()
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permission bits; run as another user")
	}
	fn(func(string) {})
}
