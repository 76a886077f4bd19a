package qemuimg

import (
	"os/exec"
	"syscall"
)

// dieWithParent has the kernel kill qemu-img when the process that started
// it dies, even by SIGKILL, so no conversion outlives its caller (and its
// caller's lock on the cache).
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
