//go:build !unix

package localfs

import "io/fs"

// OwnFile reports whether fi (from os.Lstat) is a file this process may
// write into without changing anything else. Where link counts and owners
// are not known, that is any regular file.
func OwnFile(fi fs.FileInfo) bool { return fi.Mode().IsRegular() }
