package cli_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"vmimages/cli"
	"vmimages/internal/boottest"
	"vmimages/internal/mirrortest"
)

const biosBootType = "21686148-6294-6F6E-6964-6F7420746865"

func readBytes(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func str(t *testing.T, m object, key string) string {
	t.Helper()
	s, ok := m[key].(string)
	if !ok {
		t.Fatalf("%q is %T (%v), want a string", key, m[key], m[key])
	}
	return s
}

// debianBootDisk lays out a qcow2 disk like Debian's genericcloud image
// (GPT: BIOS boot, ESP, ext4 root) with Debian's real kernel, an older one,
// and a busybox initramfs in /boot.
func debianBootDisk(t *testing.T, k boottest.Kernels) (qcow, kernel, initrd []byte) {
	t.Helper()
	boottest.Need(t, "sfdisk", "mkfs.ext4", "mkfs.vfat", "mcopy", "qemu-img")
	kernel = readBytes(t, k.Vmlinuz("amd64"))
	initrd = boottest.Initramfs(t, k.Busybox("amd64"))
	v := k.Version + "-amd64"
	dir := t.TempDir()
	raw := boottest.Make(t, dir, boottest.Disk{Label: "gpt", Parts: []boottest.Part{
		{Type: biosBootType, SizeMiB: 1},
		{Type: "U", SizeMiB: 33, FS: "vfat", Files: map[string][]byte{"EFI/debian/grubx64.efi": []byte("efi")}},
		{Type: "L", SizeMiB: 64, FS: "ext4", Files: map[string][]byte{
			"etc/os-release":                 []byte("ID=debian\n"),
			"boot/vmlinuz-" + v:              kernel,
			"boot/initrd.img-" + v:           initrd,
			"boot/vmlinuz-6.1.0-9-amd64":     []byte("an older kernel"),
			"boot/initrd.img-6.1.0-9-amd64":  []byte("an older initramfs"),
			"boot/vmlinuz-0-rescue-0123abcd": []byte("a rescue kernel"),
		}},
	}})
	return readBytes(t, boottest.Qcow2(t, raw)), kernel, initrd
}

// TestPullKernelExtracted: Debian publishes no kernel, so `pull --kernel`
// takes kernel and initramfs from /boot of the verified disk, records their
// digests for `verify`, and they boot; `clone` then makes per-VM disks that
// leave the cache alone.
func TestPullKernelExtracted(t *testing.T) {
	k := boottest.Load(t)
	s := newSandbox(t)
	qcow, kernel, initrd := debianBootDisk(t, k)
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", qcow)
	mirror := "debian=" + srv.URL + "/debian/"

	doc := s.run("pull", "debian", "12", "--arch", "amd64", "--kernel", "--json", "--mirror", mirror).ok(t).jsonDoc(t)
	if got := str(t, doc, "kernel_source"); got != "extracted" {
		t.Fatalf("kernel_source %q, want extracted", got)
	}
	kpath, ipath := str(t, doc, "kernel"), str(t, doc, "initramfs")
	if gotK, gotI := readBytes(t, kpath), readBytes(t, ipath); !bytes.Equal(gotK, kernel) || !bytes.Equal(gotI, initrd) {
		t.Fatalf("the extracted kernel (%d bytes, want %d, first difference at %d) or initramfs (%d bytes, want %d, first difference at %d) differs from the newest pair in the disk's /boot",
			len(gotK), len(kernel), firstDiff(gotK, kernel), len(gotI), len(initrd), firstDiff(gotI, initrd))
	}
	s.run("verify", "debian", "12", "--arch", "amd64").ok(t)
	boottest.Boot(t, "amd64", kpath, ipath)

	// Pulled again: from the cache, the same files.
	again := s.run("pull", "debian", "12", "--arch", "amd64", "--kernel", "--json", "--mirror", mirror).ok(t).jsonDoc(t)
	if str(t, again, "kernel") != kpath || str(t, again, "kernel_source") != "extracted" {
		t.Fatalf("second pull: %v", again)
	}

	// verify re-hashes the extracted files against their recorded digests.
	if err := os.WriteFile(ipath, append(readBytes(t, ipath), 0), 0o644); err != nil {
		t.Fatal(err)
	}
	r := s.run("verify", "debian", "12", "--arch", "amd64")
	if r.code == cli.ExitOK || !strings.Contains(r.stdout, "initramfs") {
		t.Fatalf("verify missed a changed extracted initramfs\n%s", r)
	}
}

// TestClone makes per-VM disks from a cached image: a qcow2 overlay (or a
// reflink) and a grown raw copy; an existing destination is refused; a
// VM's writes never reach the cache.
func TestClone(t *testing.T) {
	boottest.Need(t, "qemu-img", "qemu-io")
	s := newSandbox(t)
	dir := t.TempDir()
	raw := filepath.Join(dir, "src.raw")
	if err := os.WriteFile(raw, bytes.Repeat([]byte("vmimages disk "), 300_000), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(raw, 64<<20); err != nil {
		t.Fatal(err)
	}
	qcow := filepath.Join(dir, "src.qcow2")
	if out, err := runTool("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", readBytes(t, qcow))
	s.run("pull", "-q", "debian", "12", "--arch", "amd64", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	cached := filepath.Join(s.imageDir("debian", "12", "x86_64"), "disk.qcow2")
	before := readBytes(t, cached)

	vm := filepath.Join(dir, "vm1.qcow2")
	doc := s.run("clone", "debian", "12", vm, "--arch", "amd64", "--json").ok(t).jsonDoc(t)
	hasKeys(t, "clone", doc, "path", "format", "method", "size_bytes", "backing")
	if m := str(t, doc, "method"); m != "overlay" && m != "reflink" {
		t.Fatalf("method %q for a .qcow2 destination", m)
	}
	if out, err := runTool("qemu-io", "-f", "qcow2", "-c", "write -P 0x5a 0 4M", vm); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !bytes.Equal(readBytes(t, cached), before) {
		t.Fatal("writing the clone changed the cached disk")
	}

	grown := filepath.Join(dir, "vm2.raw")
	doc = s.run("clone", "debian", "12", grown, "--arch", "amd64", "--size", "100M", "--json").ok(t).jsonDoc(t)
	if num(t, doc, "size_bytes") != 100<<20 || str(t, doc, "format") != "raw" {
		t.Fatalf("grown clone: %v", doc)
	}
	if fi, err := os.Stat(grown); err != nil || fi.Size() != 100<<20 {
		t.Fatalf("grown clone on disk: %v %v", fi, err)
	}
	if !bytes.Equal(readBytes(t, grown)[:64<<20], readBytes(t, raw)) {
		t.Fatal("the raw clone differs from the image")
	}

	r := s.run("clone", "debian", "12", grown, "--arch", "amd64")
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "already exists") {
		t.Fatalf("clone over an existing file:\n%s", r)
	}
	r = s.run("clone", "debian", "12", filepath.Join(dir, "small.raw"), "--arch", "amd64", "--size", "1M")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "smaller than the image") {
		t.Fatalf("clone with a shrinking size:\n%s", r)
	}
}

// TestPullKernelBtrfs: a disk whose /boot is on btrfs gives the plain
// sentence and nothing in the cache.
func TestPullKernelBtrfs(t *testing.T) {
	boottest.Need(t, "sfdisk", "mkfs.btrfs", "mkfs.vfat", "mcopy", "qemu-img")
	s := newSandbox(t)
	raw := boottest.Make(t, t.TempDir(), boottest.Disk{Label: "gpt", Parts: []boottest.Part{
		{Type: "U", SizeMiB: 33, FS: "vfat", Files: map[string][]byte{"EFI/fedora/shimx64.efi": []byte("efi")}},
		{Type: "L", SizeMiB: 130, FS: "btrfs", Files: map[string][]byte{
			"boot/vmlinuz-6.11.4-301.fc41.x86_64": []byte("k"), "boot/initramfs-6.11.4-301.fc41.x86_64.img": []byte("i")}},
	}})
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", readBytes(t, boottest.Qcow2(t, raw)))
	r := s.run("pull", "debian", "12", "--arch", "amd64", "--kernel", "--mirror", "debian="+srv.URL+"/debian/")
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "kernel extraction: btrfs is not supported; boot this disk with firmware") {
		t.Fatalf("want the btrfs sentence\n%s", r)
	}
	// The verified disk is in the cache, to boot with firmware; no kernel
	// file was left anywhere.
	if images := objects(t, s.run("list", "--json").ok(t).jsonDoc(t), "images"); len(images) != 1 || images[0]["state"] != "ready" {
		t.Fatalf("want the verified disk ready in the cache: %v", images)
	}
	_ = filepath.WalkDir(s.cache, func(p string, d os.DirEntry, err error) error {
		if err == nil && (strings.Contains(d.Name(), "vmlinuz") || strings.Contains(d.Name(), "initramfs")) {
			t.Errorf("left behind: %s", p)
		}
		return nil
	})
}

// TestPullArm64Kernel: Ubuntu publishes its arm64 kernel compressed; the
// kernel handed out is the uncompressed Image (Debian's real arm64 kernel
// here), with its own digest that verify checks, while the published file
// stays as verified.
func TestPullArm64Kernel(t *testing.T) {
	k := boottest.Load(t)
	s := newSandbox(t)
	image := readBytes(t, k.Vmlinuz("arm64"))
	gz := boottest.Gzip(t, image)
	signer := mirrortest.NewSigner(t)
	writeFile(t, filepath.Join(filepath.Dir(s.config), "test-signer.asc"), string(signer.PublicKey))
	s.overlay("ubuntu.toml", mirrortest.UbuntuOverlay(signer.Fingerprint))
	s.writeConfig("[[keys]]\ndistro = \"ubuntu\"\nfingerprint = \"" + signer.Fingerprint + "\"\nfile = \"test-signer.asc\"\n")
	srv := mirrortest.New(t)
	dir := srv.AddUbuntu("/ubuntu", "24.04", "noble", "20260926", "arm64", mirrortest.Payload("noble-arm64", 100_000), gz, []byte("initrd"))
	srv.Put(dir+"SHA256SUMS.gpg", signer.Detach(t, srv.Get(dir+"SHA256SUMS")))
	srv.Put(dir+"unpacked/SHA256SUMS.gpg", signer.Detach(t, srv.Get(dir+"unpacked/SHA256SUMS")))

	doc := s.run("pull", "ubuntu", "24.04", "--arch", "arm64", "--kernel", "--json", "--mirror", "ubuntu="+srv.URL+"/ubuntu/").ok(t).jsonDoc(t)
	if str(t, doc, "kernel_source") != "upstream" {
		t.Fatalf("kernel_source: %v", doc)
	}
	kpath := str(t, doc, "kernel")
	if !bytes.Equal(readBytes(t, kpath), image) {
		t.Fatal("the kernel handed out is not the uncompressed arm64 Image")
	}
	imgDir := s.imageDir("ubuntu", "24.04", "aarch64")
	if !bytes.Equal(readBytes(t, filepath.Join(imgDir, "vmlinuz")), gz) {
		t.Fatal("the published kernel is not kept as published")
	}
	s.run("verify", "ubuntu", "24.04", "--arch", "arm64").ok(t)
	f, err := os.OpenFile(kpath, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("XX"), 4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	r := s.run("verify", "ubuntu", "24.04", "--arch", "arm64")
	if r.code == cli.ExitOK || !strings.Contains(r.stdout, filepath.Base(kpath)) {
		t.Fatalf("verify missed a changed decompressed Image\n%s", r)
	}
}

func runTool(name string, args ...string) ([]byte, error) {
	return exec.Command(name, args...).CombinedOutput()
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

// TestPullKernelExtractedArm64: an aarch64 disk whose /boot holds a
// gzip-compressed kernel (as Ubuntu's do) gives the uncompressed Image.
func TestPullKernelExtractedArm64(t *testing.T) {
	k := boottest.Load(t)
	boottest.Need(t, "sfdisk", "mkfs.ext4", "qemu-img")
	s := newSandbox(t)
	image := readBytes(t, k.Vmlinuz("arm64"))
	v := k.Version + "-arm64"
	raw := boottest.Make(t, t.TempDir(), boottest.Disk{Label: "gpt", Parts: []boottest.Part{
		{Type: "L", SizeMiB: 64, FS: "ext4", Files: map[string][]byte{
			"boot/vmlinuz-" + v: boottest.Gzip(t, image), "boot/initrd.img-" + v: []byte("initramfs")}},
	}})
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "arm64", readBytes(t, boottest.Qcow2(t, raw)))
	doc := s.run("pull", "debian", "12", "--arch", "arm64", "--kernel", "--json", "--mirror", "debian="+srv.URL+"/debian/").ok(t).jsonDoc(t)
	if str(t, doc, "kernel_source") != "extracted" || !bytes.Equal(readBytes(t, str(t, doc, "kernel")), image) {
		t.Fatalf("the extracted arm64 kernel is not the uncompressed Image: %v", doc)
	}
	s.run("verify", "debian", "12", "--arch", "arm64").ok(t)
}
