//go:build !windows

package localfs

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/renameio/v2"
)

// WriteFile replaces path with data atomically and durably: the bytes go to a
// temporary file beside path, which is synced and renamed over path, and the
// directory is synced so that the rename itself survives a power loss. A
// reader sees the old contents or the new, never a mix, and a crash leaves
// one of the two. The temporary file's name starts with "." + the base name
// of path; a crash may leave it behind.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	if err := renameio.WriteFile(path, data, perm, renameio.WithTempDir(dir)); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return SyncDir(dir)
}

// SyncDir flushes a directory's entries (renames, new and removed names) to
// its disk. File systems that cannot sync a directory are not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	defer d.Close()
	_ = d.Sync() // best effort: some file systems refuse to sync a directory
	return nil
}
