//go:build linux || darwin

package qemuimg

import (
	"os"
	"syscall"
	"testing"
)

// allocated returns the bytes a file occupies on disk and its apparent size.
func allocated(t *testing.T, path string) (onDisk, apparent int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return int64(fi.Sys().(*syscall.Stat_t).Blocks) * 512, fi.Size()
}
