// Package localfs owns the few operations on the local file system that
// several packages need and must do the same way: replacing a small file
// atomically and durably (WriteFile), and asking how much space is free
// (FreeSpace).
package localfs
