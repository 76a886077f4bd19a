//go:build unix

package localfs

import (
	"io/fs"
	"os"
	"syscall"
)

// OwnFile reports whether fi (from os.Lstat) is a file this process may
// write into without changing anything else: a regular file with exactly
// one link, owned by the process's effective user.
func OwnFile(fi fs.FileInfo) bool {
	if !fi.Mode().IsRegular() {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	return st.Nlink == 1 && int(st.Uid) == os.Geteuid()
}
