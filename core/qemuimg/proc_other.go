//go:build !linux

package qemuimg

import "os/exec"

// dieWithParent does nothing where the system has no parent-death signal; a
// killed caller's conversion then runs to its end, writing only to the
// temporary name the caller chose, which the cache removes later.
func dieWithParent(*exec.Cmd) {}
