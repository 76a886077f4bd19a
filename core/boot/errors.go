package boot

import (
	"errors"
	"fmt"
)

// Errors of kernel extraction that callers branch on with errors.Is.
var (
	// ErrNoFilesystem: no partition holds a filesystem Extract can read.
	ErrNoFilesystem = errors.New("kernel extraction: no ext4, XFS or FAT filesystem on the disk")
	// ErrNoKernel: the filesystems have no /boot with a kernel in it.
	ErrNoKernel = errors.New("kernel extraction: no kernel in /boot")
	// ErrNoInitramfs: the newest kernel has no matching initramfs.
	ErrNoInitramfs = errors.New("kernel extraction: no initramfs matches the kernel")
)

// UnsupportedError says /boot may be on a filesystem or volume Extract
// cannot read (btrfs, LVM, LUKS) and no readable one had a kernel. The disk
// still boots with firmware; only direct boot is out of reach.
type UnsupportedError struct {
	Filesystem string // "btrfs", "LVM", "LUKS"
}

func (e *UnsupportedError) Error() string {
	return "kernel extraction: " + e.Filesystem + " is not supported"
}

// DiskError says the partition table or a filesystem is damaged or hostile.
type DiskError struct {
	Where  string // "partition 3 (ext4)"; "" for the partition table
	Reason string
	Err    error
}

func (e *DiskError) Error() string {
	msg := "kernel extraction: "
	if e.Where != "" {
		msg += e.Where + ": "
	}
	msg += e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *DiskError) Unwrap() error { return e.Err }

// safely runs a third-party reader of untrusted bytes and turns a panic in
// it into an error: a hostile disk must not bring the program down.
func safely[T any](f func() (T, error)) (v T, err error) {
	defer func() {
		if r := recover(); r != nil {
			var zero T
			v, err = zero, fmt.Errorf("reader fault: %v", r)
		}
	}()
	return f()
}
