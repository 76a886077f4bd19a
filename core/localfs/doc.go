// Package localfs owns the few operations on the local file system that
// several packages need and must do the same way: replacing a small file
// atomically and durably (WriteFile), asking how much space is free
// (FreeSpace), and telling a file of its own from a link planted where it
// writes (OwnFile, DiscardForeign).
package localfs
