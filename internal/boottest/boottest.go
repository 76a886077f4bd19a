// Package boottest gives the direct-boot tests their real parts: Debian's
// cloud kernels and busybox (fetched by scripts/testkernels.sh into
// testdata/kernels), an initramfs built from that busybox whose init prints a
// marker and powers off, real disks laid out with sfdisk and filled with
// mkfs.ext4 -d, mkfs.xfs -p, mkfs.vfat + mcopy and mkfs.btrfs --rootdir, and
// QEMU to boot the result.
package boottest

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Marker is what the test initramfs's init prints before it powers off.
const Marker = "VMIMAGES-DIRECT-BOOT-OK"

// Kernels are the real kernels and busybox binaries of one Debian release.
type Kernels struct {
	Version string // e.g. "6.1.0-57-cloud" (append "-amd64" or "-arm64")
	Dir     string
}

// Vmlinuz is the path of the Debian kernel for arch ("amd64" or "arm64"):
// a bzImage for amd64, an uncompressed arm64 Image for arm64.
func (k Kernels) Vmlinuz(arch string) string { return filepath.Join(k.Dir, arch, "vmlinuz") }

// Busybox is the path of the static busybox for arch.
func (k Kernels) Busybox(arch string) string { return filepath.Join(k.Dir, arch, "busybox") }

// Need skips the test when tool is not in PATH, or fails it when CI is set:
// `make deps` installs every tool the tests use.
func Need(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is missing; `make deps` installs it", tool)
			}
			t.Skipf("%s is missing; `make deps` installs it", tool)
		}
	}
}

// Load finds the kernels fetched by scripts/testkernels.sh (`make
// testkernels`), skipping the test when they are absent (failing it in CI).
func Load(t testing.TB) Kernels {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "testdata", "kernels")
	v, err := os.ReadFile(filepath.Join(dir, "VERSION"))
	if err != nil {
		msg := "the Debian test kernels are missing; `make testkernels` (part of `make test`) fetches them"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return Kernels{Version: strings.TrimSpace(string(v)), Dir: dir}
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Initramfs returns a gzip-compressed newc cpio archive holding busybox
// (the static binary at busybox) as /bin/busybox and an /init that prints
// Marker and powers the machine off.
func Initramfs(t testing.TB, busybox string) []byte {
	t.Helper()
	bb, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatal(err)
	}
	init := "#!/bin/busybox sh\n/bin/busybox echo " + Marker + "\n/bin/busybox poweroff -f\n"
	var raw bytes.Buffer
	w := cpioWriter{w: &raw}
	w.dir("bin")
	w.dir("dev")
	w.dir("proc")
	w.file("bin/busybox", 0o755, bb)
	w.file("init", 0o755, []byte(init))
	w.trailer()
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	if _, err := zw.Write(raw.Bytes()); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return gz.Bytes()
}

// cpioWriter writes the "newc" cpio format the kernel unpacks as an
// initramfs.
type cpioWriter struct {
	w   *bytes.Buffer
	ino int
}

func (c *cpioWriter) entry(name string, mode uint32, data []byte) {
	c.ino++
	fmt.Fprintf(c.w, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, mode, 0, 0, 1, 0, len(data), 0, 0, 0, 0, len(name)+1, 0)
	c.w.WriteString(name)
	c.w.WriteByte(0)
	c.pad()
	c.w.Write(data)
	c.pad()
}

func (c *cpioWriter) pad() {
	for c.w.Len()%4 != 0 {
		c.w.WriteByte(0)
	}
}

func (c *cpioWriter) dir(name string)                            { c.entry(name, 0o040755, nil) }
func (c *cpioWriter) file(name string, perm uint32, data []byte) { c.entry(name, 0o100000|perm, data) }
func (c *cpioWriter) trailer()                                   { c.entry("TRAILER!!!", 0, nil) }

// Boot runs kernel and initrd under QEMU (TCG) — qemu-system-x86_64 for
// "amd64", qemu-system-aarch64 -M virt -cpu max for "arm64" — and fails the
// test unless the init prints Marker. A boot takes 5–15 s on an idle
// 2-core machine; the deadline is generous for a loaded one. It returns the
// console output.
func Boot(t testing.TB, arch, kernel, initrd string) string {
	t.Helper()
	var args []string
	var qemu string
	switch arch {
	case "amd64":
		qemu = "qemu-system-x86_64"
		args = []string{"-append", "console=ttyS0 panic=-1"}
	case "arm64":
		qemu = "qemu-system-aarch64"
		// pauth-impdef: the same CPU with a cheap pointer-authentication
		// hash; the architected one makes TCG several times slower.
		args = []string{"-M", "virt", "-cpu", "max,pauth-impdef=on", "-append", "console=ttyAMA0 panic=-1"}
	default:
		t.Fatalf("no QEMU for arch %q", arch)
	}
	Need(t, qemu)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	args = append(args, "-m", "512", "-nographic", "-no-reboot", "-nodefaults", "-serial", "stdio",
		"-kernel", kernel, "-initrd", initrd)
	cmd := exec.CommandContext(ctx, qemu, args...)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s booted in %s", qemu, time.Since(start).Round(100*time.Millisecond))
	if !bytes.Contains(out, []byte(Marker)) {
		tail := out[max(0, len(out)-3000):]
		t.Fatalf("%s did not boot to the marker (err %v, ctx %v); console tail:\n%s", qemu, err, ctx.Err(), tail)
	}
	return string(out)
}
