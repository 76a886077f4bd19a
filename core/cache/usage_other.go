//go:build !linux && !darwin

package cache

import (
	"errors"
	"fmt"
	"io/fs"
)

// diskUsage falls back to the apparent size where st_blocks is unavailable.
func diskUsage(fi fs.FileInfo) int64 { return fi.Size() }

// FreeSpace returns the bytes available on the file system holding path. It
// is only implemented on Linux and macOS.
func FreeSpace(path string) (int64, error) {
	return 0, fmt.Errorf("free space of %s: %w", path, errors.ErrUnsupported)
}
