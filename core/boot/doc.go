// Package boot owns the files a VM needs to boot directly, without firmware:
// a kernel a hypervisor can load and its initramfs.
//
// Two jobs live here. DecompressArm64 turns whatever an upstream publishes as
// an arm64 kernel — a gzip-compressed Image, an EFI zboot container holding a
// gzip or zstd payload, or an Image already — into the uncompressed arm64
// Image (magic "ARM\x64" at offset 0x38) that Apple Virtualization and Cloud
// Hypervisor need. Extract finds the newest kernel and its matching
// initramfs in /boot of a raw disk image, reading the partition table (GPT
// or MBR) and the filesystem (ext4, XFS, FAT) without mounting anything.
//
// Both read untrusted bytes, so both are bounded: output sizes are capped,
// structures pointing outside their container are refused, and a fault in a
// filesystem reader becomes an error, never a crash or a partial file. Both
// write to io.Writers the caller provides; on an error the caller throws
// those bytes away.
package boot
