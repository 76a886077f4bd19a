//go:build linux || darwin

package disk

import (
	"os"

	"golang.org/x/sys/unix"
)

// dataRange returns the next stretch [data, hole) of f at or after pos
// that may hold data, using SEEK_DATA/SEEK_HOLE; where the filesystem
// cannot tell, the rest of the file.
func dataRange(f *os.File, pos, size int64) (int64, int64) {
	data, err := unix.Seek(int(f.Fd()), pos, unix.SEEK_DATA)
	if err != nil {
		if err == unix.ENXIO { // only a hole remains
			return size, size
		}
		return pos, size
	}
	hole, err := unix.Seek(int(f.Fd()), data, unix.SEEK_HOLE)
	if err != nil || hole > size {
		hole = size
	}
	return data, hole
}
