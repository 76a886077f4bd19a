package boot_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmimages/core/boot"
	"vmimages/core/qemuimg"
	"vmimages/internal/boottest"
)

const biosBoot = "21686148-6294-6F6E-6964-6F7420746865"

// files builds a filesystem tree.
func files(kv ...any) map[string][]byte {
	m := map[string][]byte{}
	for i := 0; i < len(kv); i += 2 {
		switch v := kv[i+1].(type) {
		case string:
			m[kv[i].(string)] = []byte(v)
		case []byte:
			m[kv[i].(string)] = v
		}
	}
	return m
}

func extractFile(t *testing.T, img string) (boot.Found, []byte, []byte, error) {
	t.Helper()
	f, err := os.Open(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	var k, ir bytes.Buffer
	found, err := boot.Extract(context.Background(), f, fi.Size(), &k, &ir)
	return found, k.Bytes(), ir.Bytes(), err
}

// TestExtract lays out the disks distributions ship — Debian/Ubuntu (GPT,
// BIOS boot, ESP, ext4 root), Alma/Rocky (GPT, ESP, XFS /boot, XFS root),
// Alpine (MBR, one ext4), a FAT /boot, a bare filesystem — on real
// filesystems, and checks that the newest kernel and its own initramfs come
// out byte for byte.
func TestExtract(t *testing.T) {
	boottest.Need(t, "sfdisk", "mkfs.ext4", "mkfs.xfs", "mkfs.vfat", "mcopy")
	const (
		newK, newI = "kernel 6.10.2 bytes", "initramfs 6.10.2 bytes"
	)
	old := func(prefix string) []byte { return []byte(prefix + " of an older or rescue kernel") }
	esp := boottest.Part{Type: "U", SizeMiB: 33, FS: "vfat", Files: files("EFI/debian/grubx64.efi", "efi binary")}
	for _, tc := range []struct {
		name           string
		disk           boottest.Disk
		kernel, initrd string
		fsys, table    string
		partition      int
	}{
		{"debian ext4 root", boottest.Disk{Label: "gpt", Parts: []boottest.Part{
			{Type: biosBoot, SizeMiB: 1}, esp,
			{Type: "L", SizeMiB: 40, FS: "ext4", Files: files(
				"etc/os-release", "ID=debian\n",
				"boot/vmlinuz-6.10.2-cloud-amd64", newK, "boot/initrd.img-6.10.2-cloud-amd64", newI,
				"boot/vmlinuz-6.9.12-cloud-amd64", old("k"), "boot/initrd.img-6.9.12-cloud-amd64", old("i"),
				"boot/config-6.10.2-cloud-amd64", "CONFIG_X=y\n")},
		}}, "boot/vmlinuz-6.10.2-cloud-amd64", "boot/initrd.img-6.10.2-cloud-amd64", "ext4", "gpt", 3},
		{"rocky xfs /boot partition", boottest.Disk{Label: "gpt", Parts: []boottest.Part{
			esp,
			{Type: "L", SizeMiB: 300, FS: "xfs", Files: files(
				"vmlinuz-6.10.2-503.el9.x86_64", newK, "initramfs-6.10.2-503.el9.x86_64.img", newI,
				"vmlinuz-0-rescue-5f1c0e2a", old("k"), "initramfs-0-rescue-5f1c0e2a.img", old("i"),
				"initramfs-6.10.2-503.el9.x86_64kdump.img", old("i"),
				"loader/entries/x.conf", "title Rocky\n")},
			{Type: "L", SizeMiB: 300, FS: "xfs", Files: files("etc/os-release", "ID=rocky\n", "boot/.keep", "")},
		}}, "vmlinuz-6.10.2-503.el9.x86_64", "initramfs-6.10.2-503.el9.x86_64.img", "xfs", "gpt", 2},
		{"alpine mbr virt", boottest.Disk{Label: "dos", Parts: []boottest.Part{
			{Type: "83", SizeMiB: 40, FS: "ext4", Files: files(
				"boot/vmlinuz-virt", newK, "boot/initramfs-virt", newI,
				"boot/vmlinuz-lts", old("k"), "boot/initramfs-lts", old("i"))},
		}}, "boot/vmlinuz-virt", "boot/initramfs-virt", "ext4", "mbr", 1},
		{"fat /boot", boottest.Disk{Label: "dos", Parts: []boottest.Part{
			{Type: "c", SizeMiB: 40, FS: "vfat", Files: files(
				"vmlinuz-6.10.2-arm64", newK, "initrd.img-6.10.2-arm64", newI,
				"vmlinuz-6.10.1-arm64", old("k"), "initrd.img-6.10.1-arm64", old("i"))},
			{Type: "83", SizeMiB: 40, FS: "ext4", Files: files("etc/hostname", "pi\n")},
		}}, "vmlinuz-6.10.2-arm64", "initrd.img-6.10.2-arm64", "vfat", "mbr", 1},
		{"arch fallback ignored", boottest.Disk{Label: "gpt", Parts: []boottest.Part{
			{Type: "L", SizeMiB: 40, FS: "ext4", Files: files(
				"boot/vmlinuz-linux", newK, "boot/initramfs-linux.img", newI,
				"boot/initramfs-linux-fallback.img", old("i"))},
		}}, "boot/vmlinuz-linux", "boot/initramfs-linux.img", "ext4", "gpt", 1},
		{"no partition table", boottest.Disk{Parts: []boottest.Part{
			{SizeMiB: 40, FS: "ext4", Files: files(
				"boot/vmlinuz-6.10.2", newK, "boot/initrd.img-6.10.2", newI)},
		}}, "boot/vmlinuz-6.10.2", "boot/initrd.img-6.10.2", "ext4", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			img := boottest.Make(t, t.TempDir(), tc.disk)
			found, k, ir, err := extractFile(t, img)
			if err != nil {
				t.Fatal(err)
			}
			if found.Kernel != tc.kernel || found.Initramfs != tc.initrd || found.Filesystem != tc.fsys ||
				found.PartitionType != tc.table || found.Partition != tc.partition {
				t.Fatalf("found %+v", found)
			}
			if string(k) != newK || string(ir) != newI {
				t.Fatalf("kernel %q, initramfs %q", k, ir)
			}
			if found.KernelSize != int64(len(newK)) || found.InitramfsSize != int64(len(newI)) {
				t.Fatalf("sizes %d %d", found.KernelSize, found.InitramfsSize)
			}
		})
	}
}

// TestExtractBoots extracts Debian's real kernel and a busybox initramfs
// from a qcow2 disk laid out like Debian's cloud image, and boots them
// under qemu-system-x86_64 -kernel -initrd.
func TestExtractBoots(t *testing.T) {
	k := boottest.Load(t)
	boottest.Need(t, "sfdisk", "mkfs.ext4", "mkfs.vfat", "mcopy", "qemu-img", "qemu-system-x86_64")
	kernel, err := os.ReadFile(k.Vmlinuz("amd64"))
	if err != nil {
		t.Fatal(err)
	}
	initrd := boottest.Initramfs(t, k.Busybox("amd64"))
	v := k.Version + "-amd64"
	dir := t.TempDir()
	raw := boottest.Make(t, dir, boottest.Disk{Label: "gpt", Parts: []boottest.Part{
		{Type: biosBoot, SizeMiB: 1},
		{Type: "U", SizeMiB: 33, FS: "vfat", Files: files("EFI/debian/grubx64.efi", "efi")},
		{Type: "L", SizeMiB: 64, FS: "ext4", Files: files(
			"boot/vmlinuz-"+v, kernel, "boot/initrd.img-"+v, initrd, "boot/System.map-"+v, "map")},
	}})
	qcow := boottest.Qcow2(t, raw)
	if err := os.Remove(raw); err != nil {
		t.Fatal(err)
	}
	kf, err := os.Create(filepath.Join(dir, "vmlinuz"))
	if err != nil {
		t.Fatal(err)
	}
	irf, err := os.Create(filepath.Join(dir, "initramfs"))
	if err != nil {
		t.Fatal(err)
	}
	found, err := boot.ExtractFile(context.Background(), qemuimg.Tool{}, qcow, dir, kf, irf)
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(kf.Close(), irf.Close()); err != nil {
		t.Fatal(err)
	}
	if found.Version != v || found.KernelSize != int64(len(kernel)) {
		t.Fatalf("found %+v", found)
	}
	// mkfs.ext4 -d stores the kernel's zero blocks as holes: they must read
	// back as zeros, byte for byte.
	for _, f := range []struct {
		path string
		want []byte
	}{{kf.Name(), kernel}, {irf.Name(), initrd}} {
		got, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, f.want) {
			t.Fatalf("%s differs from the file in /boot", f.path)
		}
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".extract-*")); len(leftovers) != 0 {
		t.Fatalf("temporary raw disk left behind: %v", leftovers)
	}
	boottest.Boot(t, "amd64", kf.Name(), irf.Name())
}

// TestExtractRefuses: disks without what direct boot needs, or with
// damaged or hostile structures, give a clear error and no file.
func TestExtractRefuses(t *testing.T) {
	boottest.Need(t, "sfdisk", "mkfs.ext4", "mkfs.btrfs", "mkfs.vfat", "mcopy")
	dir := t.TempDir()
	kernelOnly := files("boot/vmlinuz-6.1.0-9-amd64", "k")
	good := boottest.Make(t, dir, boottest.Disk{Label: "gpt", Parts: []boottest.Part{
		{Type: "L", SizeMiB: 40, FS: "ext4", Files: files("boot/vmlinuz-6.1", strings.Repeat("k", 3<<20), "boot/initrd.img-6.1", "i")},
	}})
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	// A GPT whose header promises 2^32-1 entries (CRC fixed up so only the
	// count is wrong).
	hostileGPT := append([]byte{}, goodBytes[:64<<10]...)
	binary.LittleEndian.PutUint32(hostileGPT[512+80:], 0xffffffff)
	fixGPTCRC(hostileGPT[512:])
	badCRC := append([]byte{}, goodBytes[:64<<10]...)
	badCRC[512+40]++
	for _, tc := range []struct {
		name string
		disk func() string
		is   error
		want string
	}{
		{"btrfs root", func() string {
			return boottest.Make(t, dir, boottest.Disk{Label: "gpt", Parts: []boottest.Part{
				{Type: "U", SizeMiB: 33, FS: "vfat", Files: files("EFI/fedora/shimx64.efi", "efi")},
				{Type: "L", SizeMiB: 130, FS: "btrfs", Files: files("boot/vmlinuz-6.11.4-301.fc41.x86_64", "k", "boot/initramfs-6.11.4-301.fc41.x86_64.img", "i")},
			}})
		}, nil, "kernel extraction: btrfs is not supported"},
		{"no /boot", func() string {
			return boottest.Make(t, dir, boottest.Disk{Label: "gpt", Parts: []boottest.Part{
				{Type: "L", SizeMiB: 40, FS: "ext4", Files: files("etc/os-release", "ID=x\n")}}})
		}, boot.ErrNoKernel, "partition 1 (ext4)"},
		{"/boot without a kernel", func() string {
			return boottest.Make(t, dir, boottest.Disk{Label: "dos", Parts: []boottest.Part{
				{Type: "83", SizeMiB: 40, FS: "ext4", Files: files("boot/grub/grub.cfg", "x", "boot/vmlinuz-0-rescue-abc", "k", "boot/initramfs-0-rescue-abc.img", "i")}}})
		}, boot.ErrNoKernel, "no kernel in /boot"},
		{"kernel without an initramfs", func() string {
			return boottest.Make(t, dir, boottest.Disk{Label: "gpt", Parts: []boottest.Part{
				{Type: "L", SizeMiB: 40, FS: "ext4", Files: kernelOnly}}})
		}, boot.ErrNoInitramfs, "6.1.0-9-amd64"},
		{"unknown filesystem", func() string {
			p := filepath.Join(dir, "unknown.raw")
			b := make([]byte, 8<<20)
			for i := range b {
				b[i] = byte(i * 31)
			}
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, boot.ErrNoFilesystem, "no ext4, XFS or FAT"},
		{"empty disk", func() string {
			p := filepath.Join(dir, "empty.raw")
			if err := os.WriteFile(p, nil, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, nil, "too small for a disk"},
		{"truncated disk", func() string {
			p := filepath.Join(dir, "truncated.raw")
			if err := os.WriteFile(p, goodBytes[:3<<20], 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, nil, "partition 1 (ext4): damaged filesystem"},
		{"GPT with 2^32 entries", func() string {
			p := filepath.Join(dir, "hostile-gpt.raw")
			if err := os.WriteFile(p, hostileGPT, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, nil, "GPT entry array (4294967295 entries"},
		{"GPT header checksum", func() string {
			p := filepath.Join(dir, "bad-crc.raw")
			if err := os.WriteFile(p, badCRC, 0o644); err != nil {
				t.Fatal(err)
			}
			return p
		}, nil, "GPT header checksum mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, k, ir, err := extractFile(t, tc.disk())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("err = %v, want errors.Is %v", err, tc.is)
			}
			if tc.name == "btrfs root" {
				var ue *boot.UnsupportedError
				if !errors.As(err, &ue) || ue.Filesystem != "btrfs" {
					t.Fatalf("err = %#v, want *UnsupportedError for btrfs", err)
				}
			}
			if len(k) != 0 || len(ir) != 0 {
				t.Logf("partial output: %d, %d bytes (callers discard it)", len(k), len(ir))
			}
		})
	}
}

func fixGPTCRC(h []byte) {
	n := binary.LittleEndian.Uint32(h[12:])
	clear(h[16:20])
	binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(h[:n]))
}

func TestNewestKernelOrder(t *testing.T) {
	boottest.Need(t, "sfdisk", "mkfs.ext4")
	// 6.10 is newer than 6.9 and 57 newer than 9: numbers, not text.
	img := boottest.Make(t, t.TempDir(), boottest.Disk{Label: "gpt", Parts: []boottest.Part{
		{Type: "L", SizeMiB: 40, FS: "ext4", Files: files(
			"boot/vmlinuz-6.9.0-9-amd64", "a", "boot/initrd.img-6.9.0-9-amd64", "a",
			"boot/vmlinuz-6.10.0-9-amd64", "b", "boot/initrd.img-6.10.0-9-amd64", "b",
			"boot/vmlinuz-6.10.0-57-amd64", "c", "boot/initrd.img-6.10.0-57-amd64", "c",
			"boot/vmlinuz-virt", "d", "boot/initramfs-virt", "d")},
	}})
	found, k, _, err := extractFile(t, img)
	if err != nil {
		t.Fatal(err)
	}
	if found.Version != "6.10.0-57-amd64" || string(k) != "c" {
		t.Fatalf("picked %+v (%q)", found, k)
	}
}
