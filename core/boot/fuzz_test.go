package boot_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"vmimages/core/boot"
	"vmimages/internal/boottest"
)

// sparseDisk is a fuzz input read as a disk: a 1 GiB image of zeros with
// records laid over it, each a little-endian u32 byte offset, a u16 length
// and that many bytes. Real disks are mostly zeros, so a seed made from a
// real disk stays small and the fuzzer mutates the structures that matter.
type sparseDisk struct {
	recs []sparseRec
}

type sparseRec struct {
	off  int64
	data []byte
}

const sparseSize = 1 << 30

func parseSparse(in []byte) sparseDisk {
	var d sparseDisk
	for len(in) >= 6 {
		off := int64(binary.LittleEndian.Uint32(in))
		n := int(binary.LittleEndian.Uint16(in[4:]))
		in = in[6:]
		n = min(n, len(in))
		d.recs = append(d.recs, sparseRec{off, in[:n]})
		in = in[n:]
	}
	return d
}

func (d sparseDisk) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	end := off + int64(len(p))
	for _, r := range d.recs {
		rEnd := r.off + int64(len(r.data))
		if rEnd <= off || r.off >= end {
			continue
		}
		lo, hi := max(off, r.off), min(end, rEnd)
		copy(p[lo-off:hi-off], r.data[lo-r.off:hi-r.off])
	}
	return len(p), nil
}

// encodeSparse turns a raw disk image into the fuzz input format, keeping
// only its non-zero sectors.
func encodeSparse(raw []byte) []byte {
	var out bytes.Buffer
	zero := make([]byte, 512)
	for i := 0; i < len(raw); {
		if bytes.Equal(raw[i:min(i+512, len(raw))], zero[:min(512, len(raw)-i)]) {
			i += 512
			continue
		}
		j := i
		for j < len(raw) && j-i < 65024 && !bytes.Equal(raw[j:min(j+512, len(raw))], zero[:min(512, len(raw)-j)]) {
			j += 512
		}
		j = min(j, len(raw))
		var h [6]byte
		binary.LittleEndian.PutUint32(h[:], uint32(i))
		binary.LittleEndian.PutUint16(h[4:], uint16(j-i))
		out.Write(h[:])
		out.Write(raw[i:j])
		i = j
	}
	return out.Bytes()
}

// capWriter fails the fuzz run if Extract writes more than it may.
type capWriter struct {
	n, max int64
	t      *testing.T
}

func (w *capWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	if w.n > w.max {
		w.t.Fatalf("wrote %d bytes, over the %d cap", w.n, w.max)
	}
	return len(p), nil
}

// FuzzExtract feeds hostile partition tables and filesystems to Extract:
// an error is fine, a panic, a hang, a huge allocation or an oversized file
// is not. Seeds in testdata/fuzz/FuzzExtract are real disks made by
// TestWriteExtractSeeds.
func FuzzExtract(f *testing.F) {
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		d := parseSparse(in)
		// A hang is a bug too: crash the worker so the fuzzer keeps the input.
		watchdog := time.AfterFunc(20*time.Second, func() {
			if dir := os.Getenv("VMIMAGES_FUZZ_HANGS"); dir != "" {
				_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("hang-%x", sha256.Sum256(in))), in, 0o644)
				buf := make([]byte, 1<<20)
				_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("stack-%x", sha256.Sum256(in))), buf[:runtime.Stack(buf, true)], 0o644)
			}
			panic("Extract hung for 20 s")
		})
		defer watchdog.Stop()
		k := &capWriter{max: boot.MaxKernelSize, t: t}
		ir := &capWriter{max: boot.MaxInitramfsSize, t: t}
		found, err := boot.Extract(context.Background(), d, sparseSize, k, ir)
		if err == nil && (found.KernelSize != k.n || found.InitramfsSize != ir.n) {
			t.Fatalf("found %+v but wrote %d and %d bytes", found, k.n, ir.n)
		}
	})
}

// TestWriteExtractSeeds writes FuzzExtract's seed corpus from real disks
// when VMIMAGES_WRITE_SEEDS is set.
func TestWriteExtractSeeds(t *testing.T) {
	if os.Getenv("VMIMAGES_WRITE_SEEDS") == "" {
		t.Skip("set VMIMAGES_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzExtract")
	}
	dir := t.TempDir()
	disks := map[string]boottest.Disk{
		"gpt-vfat-ext4": {Label: "gpt", Parts: []boottest.Part{
			{Type: "U", SizeMiB: 33, FS: "vfat", Files: files("EFI/BOOT/BOOTX64.EFI", "efi")},
			{Type: "L", SizeMiB: 8, FS: "ext4", Files: files("boot/vmlinuz-6.1.0-9-amd64", "kernel", "boot/initrd.img-6.1.0-9-amd64", "initrd")}}},
		"gpt-xfs-boot": {Label: "gpt", Parts: []boottest.Part{
			{Type: "L", SizeMiB: 300, FS: "xfs", Files: files("vmlinuz-5.14.0-503.el9.x86_64", "kernel", "initramfs-5.14.0-503.el9.x86_64.img", "initrd")}}},
		"mbr-ext4-alpine": {Label: "dos", Parts: []boottest.Part{
			{Type: "83", SizeMiB: 8, FS: "ext4", Files: files("boot/vmlinuz-virt", "kernel", "boot/initramfs-virt", "initrd")}}},
		"mbr-fat16": {Label: "dos", Parts: []boottest.Part{
			{Type: "c", SizeMiB: 20, FS: "vfat", Files: files("vmlinuz-6.1", "kernel", "initrd.img-6.1", "initrd")}}},
	}
	out := filepath.Join("testdata", "fuzz", "FuzzExtract")
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, d := range disks {
		raw, err := os.ReadFile(boottest.Make(t, dir, d))
		if err != nil {
			t.Fatal(err)
		}
		enc := encodeSparse(raw)
		if _, _, _, err := extractFile(t, boottest.Make(t, dir, d)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got, gotI bytes.Buffer
		if _, err := boot.Extract(context.Background(), parseSparse(enc), sparseSize, &got, &gotI); err != nil {
			t.Fatalf("%s as a seed: %v", name, err)
		}
		body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", enc)
		if err := os.WriteFile(filepath.Join(out, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", name, len(enc))
	}
}
