//go:build !linux

package main

import "os/exec"

// dieWithParent does nothing outside Linux; the tests' cleanups stop every
// process they started.
func dieWithParent(*exec.Cmd) {}

const dieWithParentWorks = false

func processGone(int) bool { return true }
