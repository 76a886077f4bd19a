package disk_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"vmimages/core/disk"
	"vmimages/core/qemuimg"
	"vmimages/internal/boottest"
)

const mib = 1 << 20

// rawDisk writes a sparse 64 MiB raw disk with data at a few places.
func rawDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "disk.raw")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(64 * mib); err != nil {
		t.Fatal(err)
	}
	for _, off := range []int64{0, 5*mib + 17, 63 * mib} {
		if _, err := f.WriteAt(bytes.Repeat([]byte("vmimages"), 4096), off); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func sum(t *testing.T, p string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

func allocated(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Blocks * 512
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

// TestCloneCopy: without reflink a raw clone is a sparse copy with the
// same bytes, grown on request, and writing it leaves the source alone.
func TestCloneCopy(t *testing.T) {
	dir := t.TempDir()
	src := rawDisk(t, dir)
	before := sum(t, src)
	dst := filepath.Join(dir, "vm1.raw")
	res, err := disk.Clone(context.Background(), disk.Source{Path: src, Format: "raw"}, dst, disk.Options{NoReflink: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != disk.MethodCopy || res.Format != "raw" || res.Size != 64*mib {
		t.Fatalf("result %+v", res)
	}
	if sum(t, dst) != before {
		t.Fatal("the clone differs from the source")
	}
	if a := allocated(t, dst); a > 4*mib {
		t.Fatalf("the clone allocates %d bytes; a sparse copy of ~100 KiB of data should not", a)
	}
	if err := os.WriteFile(dst, []byte("the VM wrote here"), 0o644); err != nil {
		t.Fatal(err)
	}
	if sum(t, src) != before {
		t.Fatal("writing the clone changed the source")
	}

	grown := filepath.Join(dir, "vm2.img")
	res, err = disk.Clone(context.Background(), disk.Source{Path: src, Format: "raw"}, grown, disk.Options{NoReflink: true, Size: 100 * mib})
	if err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(grown); fi.Size() != 100*mib || res.Size != 100*mib {
		t.Fatalf("grown clone is %d bytes, result %+v", fi.Size(), res)
	}
}

// TestCloneRefuses: an existing destination is never overwritten, and a
// size below the image's is refused before anything is written.
func TestCloneRefuses(t *testing.T) {
	dir := t.TempDir()
	src := rawDisk(t, dir)
	dst := filepath.Join(dir, "vm.raw")
	if err := os.WriteFile(dst, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := disk.Clone(context.Background(), disk.Source{Path: src, Format: "raw"}, dst, disk.Options{})
	if !errors.Is(err, disk.ErrExists) {
		t.Fatalf("err = %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(dst); string(b) != "precious" {
		t.Fatalf("destination changed to %q", b)
	}
	small := filepath.Join(dir, "small.raw")
	_, err = disk.Clone(context.Background(), disk.Source{Path: src, Format: "raw"}, small, disk.Options{Size: mib})
	if !errors.Is(err, disk.ErrShrink) {
		t.Fatalf("err = %v, want ErrShrink", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*tmp*")); len(leftovers) != 0 {
		t.Fatalf("left behind: %v", leftovers)
	}
	if _, err := os.Stat(small); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("refused clone exists: %v", err)
	}
}

// TestCloneOverlay: a .qcow2 destination of a qcow2 image is an overlay
// backed by it, grown on request; a guest's writes land in the overlay and
// leave the backing image as verified.
func TestCloneOverlay(t *testing.T) {
	boottest.Need(t, "qemu-img", "qemu-io")
	dir := t.TempDir()
	raw := rawDisk(t, dir)
	qcow := filepath.Join(dir, "disk.qcow2")
	run(t, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow)
	before := sum(t, qcow)
	dst := filepath.Join(dir, "vm.qcow2")
	q := qemuimg.Tool{}
	res, err := disk.Clone(context.Background(), disk.Source{Path: qcow, Format: "qcow2"}, dst, disk.Options{NoReflink: true, Size: 128 * mib, QemuImg: q})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != disk.MethodOverlay || res.Format != "qcow2" || res.Size != 128*mib {
		t.Fatalf("result %+v", res)
	}
	info, err := q.Info(context.Background(), dst)
	if err != nil {
		t.Fatal(err)
	}
	// The overlay is backed by a hard link to the cached file, so the
	// cache replacing or removing its copy cannot change what it reads.
	if info.BackingFile != disk.BackingName(dst) || res.Backing != info.BackingFile || info.VirtualSize != 128*mib {
		t.Fatalf("overlay info %+v, result %+v", info, res)
	}
	if a, b := statIno(t, qcow), statIno(t, info.BackingFile); a != b {
		t.Fatal("the backing file is not a hard link to the cached qcow2")
	}
	run(t, "qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 1M", dst)
	if sum(t, qcow) != before {
		t.Fatal("writing the overlay changed the cached qcow2")
	}
	// The first MiB reads back the guest's write, the rest the image.
	out := run(t, "qemu-io", "-f", "qcow2", "-c", "read -P 0xab 0 1M", "-c", "read -P 0 10M 1M", dst)
	if strings.Contains(out, "Pattern verification failed") {
		t.Fatalf("overlay reads wrong data:\n%s", out)
	}
	// A raw destination of a qcow2 image is a conversion.
	rawDst := filepath.Join(dir, "vm.raw")
	res, err = disk.Clone(context.Background(), disk.Source{Path: qcow, Format: "qcow2"}, rawDst, disk.Options{QemuImg: q})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != disk.MethodCopy || sum(t, rawDst) != sum(t, raw) {
		t.Fatalf("raw clone of the qcow2: %+v, same bytes: %v", res, sum(t, rawDst) == sum(t, raw))
	}
}

// TestCloneReflink clones on a real XFS (reflink=1) mounted from a loop
// device: the clone shares the source's extents and diverges on write.
func TestCloneReflink(t *testing.T) {
	boottest.Need(t, "mkfs.xfs", "mount", "umount")
	if os.Geteuid() != 0 {
		t.Skip("mounting a loop device needs root")
	}
	dir := t.TempDir()
	img := filepath.Join(dir, "xfs.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 320*mib); err != nil {
		t.Fatal(err)
	}
	run(t, "mkfs.xfs", "-q", "-m", "reflink=1", img)
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Skipf("cannot loop-mount XFS here (%v: %s); reflink untested", err, out)
	}
	t.Cleanup(func() { run(t, "umount", mnt) })
	src := rawDisk(t, mnt)
	before := sum(t, src)
	dst := filepath.Join(mnt, "vm.raw")
	res, err := disk.Clone(context.Background(), disk.Source{Path: src, Format: "raw"}, dst, disk.Options{Size: 96 * mib})
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != disk.MethodReflink || res.Size != 96*mib {
		t.Fatalf("result %+v, want a reflink", res)
	}
	// fiemap flags the clone's extents shared (FIEMAP_EXTENT_SHARED, 0x2000).
	if !sharedExtents(t, dst) {
		t.Fatal("the clone's extents are not shared with the source")
	}
	b, _ := os.ReadFile(dst)
	if !bytes.Equal(b[:64*mib], mustRead(t, src)) {
		t.Fatal("the reflinked clone differs from the source")
	}
	f, err := os.OpenFile(dst, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("guest data"), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if sum(t, src) != before {
		t.Fatal("writing the reflinked clone changed the source")
	}
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sharedExtents reports whether xfs_io's fiemap shows a shared extent in p.
func sharedExtents(t *testing.T, p string) bool {
	t.Helper()
	boottest.Need(t, "xfs_io")
	for _, line := range strings.Split(run(t, "xfs_io", "-r", "-c", "fiemap -v", p), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 5 || !strings.HasPrefix(fields[len(fields)-1], "0x") {
			continue
		}
		if flags, err := strconv.ParseUint(fields[len(fields)-1][2:], 16, 32); err == nil && flags&0x2000 != 0 {
			return true
		}
	}
	return false
}

func statIno(t *testing.T, p string) uint64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Sys().(*syscall.Stat_t).Ino
}
