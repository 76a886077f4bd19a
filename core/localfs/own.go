package localfs

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotOwnFile means a name where a program writes holds something it
// must not write into: a directory or other non-file that cannot be
// discarded by unlinking its name.
var ErrNotOwnFile = errors.New("not a file of our own")

// DiscardForeign makes sure that writing to path cannot change a file
// elsewhere: when path names a symbolic link, a hard link (a file with more
// than one name), something not a regular file, or a file another user owns,
// it removes that name (only the name: what it points to is untouched) and
// reports discarded true. A missing path, or a regular file of ours with one
// link, is left as it is. A directory at path is an error wrapping
// ErrNotOwnFile.
func DiscardForeign(path string) (discarded bool, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check %s: %w", path, err)
	}
	if OwnFile(fi) {
		return false, nil
	}
	if fi.IsDir() {
		return false, fmt.Errorf("%w: %s is a directory", ErrNotOwnFile, path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("discard %s: %w", path, err)
	}
	return true, nil
}
