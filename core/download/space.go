package download

import (
	"errors"

	"vmimages/core/localfs"
)

// freeSpace is localfs.FreeSpace, with -1 (unknown: the space check is
// skipped) where the system cannot tell.
func freeSpace(dir string) (int64, error) {
	n, err := localfs.FreeSpace(dir)
	if errors.Is(err, errors.ErrUnsupported) {
		return -1, nil
	}
	return n, err
}
