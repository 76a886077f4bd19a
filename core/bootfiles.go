package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"vmimages/core/boot"
	"vmimages/core/cache"
	"vmimages/core/manifest"
)

// Where PreparedImage.Kernel came from.
const (
	KernelUpstream  = "upstream"  // published by the distribution, verified against its checksums
	KernelExtracted = "extracted" // copied from /boot of the verified disk
)

// ErrKernelExtraction is matched (errors.Is) by every failure to take the
// kernel and initramfs from a disk; errors.As reaches the typed cause in
// package boot (*boot.UnsupportedError for btrfs, LVM and LUKS,
// *boot.DiskError, boot.ErrNoKernel, boot.ErrNoInitramfs, …).
var ErrKernelExtraction = errors.New("kernel extraction failed")

// kernelError marks err as a kernel extraction failure without repeating
// it in the message.
type kernelError struct{ err error }

func (e *kernelError) Error() string   { return e.err.Error() }
func (e *kernelError) Unwrap() []error { return []error{ErrKernelExtraction, e.err} }

func extractionError(key cache.Key, err error) error {
	return &kernelError{fmt.Errorf("%s: %w", key, err)}
}

// bootFilesNeeded says whether the committed build meta lacks what direct
// boot needs: kernel and initramfs when want, and on aarch64 an
// uncompressed Image for a compressed upstream kernel.
func (m *Manager) bootFilesNeeded(key cache.Key, meta *cache.Meta, want bool) bool {
	k, ir := meta.Asset(cache.RoleKernel), meta.Asset(cache.RoleInitramfs)
	if want && (k == nil || ir == nil) {
		return true
	}
	if key.Arch != "aarch64" || k == nil || k.Source == cache.SourceExtracted || meta.Asset(cache.RoleKernelImage) != nil {
		return false
	}
	f := kernelFormat(filepath.Join(m.cache.Dir(key), k.File))
	return f != boot.FormatArm64Image
}

// kernelFormat reads the head of a kernel file.
func kernelFormat(path string) boot.Format {
	f, err := os.Open(path)
	if err != nil {
		return boot.FormatUnknown
	}
	defer f.Close()
	head := make([]byte, 0x206)
	n, _ := io.ReadFull(f, head)
	return boot.Detect(head[:n])
}

// bootFiles completes tx's new build for direct boot. With want (or when
// the committed build had extracted ones), a build without upstream kernel
// and initramfs gets both from /boot of its verified disk — kept from the
// committed build when the disk is the same. On aarch64 a compressed
// upstream kernel gets its uncompressed Image beside it. Each file made
// here is staged with the SHA-256 computed as it was written.
func (m *Manager) bootFiles(ctx context.Context, tx *cache.Tx, j *Job, want bool) error {
	key := tx.Key()
	old := tx.Committed()
	if old != nil {
		if k := old.Asset(cache.RoleKernel); k != nil && k.Source == cache.SourceExtracted {
			want = true // extracted once: keep them with every build
		}
	}
	_, _, hasK := tx.Asset(cache.RoleKernel)
	_, _, hasI := tx.Asset(cache.RoleInitramfs)
	if want && !(hasK && hasI) {
		if err := m.extractedBootFiles(ctx, tx, j, old); err != nil {
			return err
		}
	}
	if key.Arch != "aarch64" {
		return nil
	}
	k, kept, ok := tx.Asset(cache.RoleKernel)
	if !ok || k.Source == cache.SourceExtracted {
		return nil
	}
	src := tx.StagedPath(cache.RoleKernel)
	if kernelFormat(src) == boot.FormatArm64Image {
		return nil
	}
	if kept && old != nil && old.Asset(cache.RoleKernelImage) != nil {
		if _, err := tx.Keep(cache.RoleKernelImage, nil); err == nil {
			return nil
		}
	}
	if j != nil {
		j.update(func(s *Snapshot) { s.Phase = PhaseConverting })
	}
	pf, err := tx.PartFile(cache.RoleKernelImage, "")
	if err != nil {
		return err
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	d, err := writeHashed(pf.Dest, func(w io.Writer) error {
		_, _, err := boot.DecompressArm64(ctx, w, in, fi.Size(), boot.MaxImageSize)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: the kernel cannot be made an uncompressed arm64 Image: %w", key, err)
	}
	return m.stageLocal(tx, cache.RoleKernelImage, pf.Dest, d, cache.SourceDecompressed, k.File)
}

// extractedBootFiles stages kernel and initramfs from /boot of the new
// build's disk, or keeps the committed ones when they came from the same
// disk.
func (m *Manager) extractedBootFiles(ctx context.Context, tx *cache.Tx, j *Job, old *cache.Meta) error {
	key := tx.Key()
	disk, diskKept, ok := tx.Asset(cache.RoleDisk)
	if !ok {
		return extractionError(key, errors.New("kernel extraction: the image has no disk"))
	}
	if diskKept && old != nil {
		k, ir := old.Asset(cache.RoleKernel), old.Asset(cache.RoleInitramfs)
		if k != nil && ir != nil && k.Source == cache.SourceExtracted && ir.Source == cache.SourceExtracted {
			_, errK := tx.Keep(cache.RoleKernel, nil)
			_, errI := tx.Keep(cache.RoleInitramfs, nil)
			if errK == nil && errI == nil {
				return nil
			}
		}
	}
	if j != nil {
		j.update(func(s *Snapshot) { s.Phase = PhaseConverting })
		j.notice("extracting kernel and initramfs from the disk's /boot")
	}
	src, check, err := tx.Source(ctx, cache.RoleDisk, nil)
	if err != nil {
		return extractionError(key, err)
	}
	kpf, err := tx.PartFile(cache.RoleKernel, "")
	if err != nil {
		return err
	}
	ipf, err := tx.PartFile(cache.RoleInitramfs, "")
	if err != nil {
		return err
	}
	// On aarch64 the extracted kernel (Ubuntu's is gzip) is decompressed
	// into its final file; elsewhere it is copied as it is.
	kernelOut := kpf.Dest
	if key.Arch == "aarch64" {
		kernelOut = kpf.Dest + ".extracted"
		defer os.Remove(kernelOut)
	}
	kf, err := os.OpenFile(kernelOut, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer kf.Close()
	ih := sha256.New()
	kh := sha256.New()
	var found boot.Found
	di, err := writeHashedWith(ipf.Dest, ih, func(iw io.Writer) error {
		var err error
		found, err = boot.ExtractFile(ctx, m.qemu, src, filepath.Dir(kpf.Dest), io.MultiWriter(kf, kh), iw)
		if err == nil {
			err = check()
		}
		if err == nil {
			err = kf.Sync()
		}
		return err
	})
	if err != nil {
		os.Remove(kpf.Dest)
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		return extractionError(key, err)
	}
	if err := kf.Close(); err != nil {
		return err
	}
	dk := sha256Digest(kh.Sum(nil))
	if key.Arch == "aarch64" {
		in, err := os.Open(kernelOut)
		if err != nil {
			return err
		}
		defer in.Close()
		dk, err = writeHashed(kpf.Dest, func(w io.Writer) error {
			_, _, err := boot.DecompressArm64(ctx, w, in, found.KernelSize, boot.MaxImageSize)
			return err
		})
		if err != nil {
			os.Remove(ipf.Dest)
			return extractionError(key, fmt.Errorf("%s: %w", found.Kernel, err))
		}
	}
	where := fmt.Sprintf("%s:partition %d (%s):", disk.File, found.Partition, found.Filesystem)
	if err := m.stageLocal(tx, cache.RoleKernel, kpf.Dest, dk, cache.SourceExtracted, where+found.Kernel); err != nil {
		return err
	}
	return m.stageLocal(tx, cache.RoleInitramfs, ipf.Dest, di, cache.SourceExtracted, where+found.Initramfs)
}

// stageLocal stages a file made here, recording its digest and origin.
func (m *Manager) stageLocal(tx *cache.Tx, role, path string, d manifest.Digest, source, from string) error {
	if err := tx.Stage(role, path, cache.AssetMeta{Digest: d, Source: source, From: from}); err != nil {
		os.Remove(path)
		return err
	}
	return nil
}

// writeHashed creates path, lets write fill it, syncs it and returns its
// SHA-256. On an error the file is removed.
func writeHashed(path string, write func(io.Writer) error) (manifest.Digest, error) {
	return writeHashedWith(path, sha256.New(), write)
}

func writeHashedWith(path string, h interface {
	io.Writer
	Sum([]byte) []byte
}, write func(io.Writer) error) (d manifest.Digest, err error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return d, err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(path)
		}
	}()
	if err = write(io.MultiWriter(f, h)); err != nil {
		return d, err
	}
	if err = f.Sync(); err != nil {
		return d, err
	}
	if err = f.Close(); err != nil {
		return d, err
	}
	return sha256Digest(h.Sum(nil)), nil
}

func sha256Digest(sum []byte) manifest.Digest {
	return manifest.Digest{Algorithm: manifest.SHA256, Hex: hex.EncodeToString(sum)}
}

// kernelSource says where a build's kernel came from, "" when it has none.
func kernelSource(meta *cache.Meta) string {
	k := meta.Asset(cache.RoleKernel)
	switch {
	case k == nil:
		return ""
	case k.Source == cache.SourceExtracted:
		return KernelExtracted
	}
	return KernelUpstream
}

// completeCached adds what direct boot needs to the committed build of a
// cached image (see bootFiles), keeping everything it has, without the
// network. It returns the new committed metadata, or nil when the image
// was removed meanwhile.
func (m *Manager) completeCached(ctx context.Context, j *Job, key cache.Key) (*cache.Meta, error) {
	j.update(func(s *Snapshot) { s.Phase = PhaseWaiting })
	tx, err := m.cache.Begin(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("locking %s in the cache: %w", key, err)
	}
	defer tx.Abort()
	meta := tx.Committed()
	if meta == nil {
		return nil, nil
	}
	for _, a := range meta.Assets {
		if _, err := tx.Keep(a.Role, nil); err != nil {
			return nil, err
		}
	}
	if meta.DiskRaw != nil {
		if err := tx.KeepRaw(); err != nil {
			return nil, err
		}
	}
	if err := m.bootFiles(ctx, tx, j, j.opts.Kernel); err != nil {
		return nil, err
	}
	meta.LastUsed = m.now()
	return tx.Commit(meta)
}
