//go:build !linux && !darwin

package cache

import "io/fs"

// noFollow is 0 where O_NOFOLLOW is unknown.
const noFollow = 0

// diskUsage falls back to the apparent size where st_blocks is unavailable.
func diskUsage(fi fs.FileInfo) int64 { return fi.Size() }
