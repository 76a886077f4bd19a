//go:build !linux && !darwin

package disk

import "os"

// dataRange treats the rest of the file as data where holes cannot be
// found; zero blocks are still skipped on write.
func dataRange(_ *os.File, pos, size int64) (int64, int64) { return pos, size }
