package localfs

import (
	"fmt"
	"os"

	"github.com/google/renameio/v2/maybe"
)

// WriteFile writes data to path. Windows cannot replace a file atomically
// the way renameio needs, so this is renameio's fallback, os.WriteFile: a
// crash may leave a truncated file.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	if err := maybe.WriteFile(path, data, perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// SyncDir does nothing on Windows, where directories cannot be synced.
func SyncDir(string) error { return nil }
