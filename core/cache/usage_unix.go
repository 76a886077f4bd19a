//go:build linux || darwin

package cache

import (
	"io/fs"
	"syscall"
)

// noFollow makes an open fail on a symbolic link.
const noFollow = syscall.O_NOFOLLOW

// diskUsage is the space a file really occupies (st_blocks × 512), so a
// sparse raw disk counts for its written blocks, not its apparent size.
func diskUsage(fi fs.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return int64(st.Blocks) * 512
	}
	return fi.Size()
}
