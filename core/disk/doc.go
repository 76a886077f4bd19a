// Package disk makes per-VM disks from cached images, so that no VM ever
// boots from — and writes to — the cache's verified copy.
//
// Clone picks the cheapest honest copy the filesystem allows: a reflink
// (FICLONE on Linux: btrfs, XFS), clonefile(2) on macOS (APFS), a qcow2
// overlay backed by the cached qcow2 when the destination is a .qcow2
// file, and otherwise a sparse copy. Each shares no writable block with
// the source. A destination that exists is never overwritten.
package disk
