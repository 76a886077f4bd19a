//go:build !unix

package localfs

import (
	"errors"
	"fmt"
)

// FreeSpace returns the bytes available on the file system holding path. It
// is only implemented where statfs exists; elsewhere it returns an error
// wrapping errors.ErrUnsupported.
func FreeSpace(path string) (int64, error) {
	return 0, fmt.Errorf("free space of %s: %w", path, errors.ErrUnsupported)
}
