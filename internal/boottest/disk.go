package boottest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// Part is one partition of a test disk.
type Part struct {
	// Type is the sfdisk partition type: "U" (EFI system), "L" (Linux),
	// "21686148-6294-6F6E-6964-6F7420746865" (BIOS boot) on GPT; "83", "c",
	// "ef" on MBR.
	Type    string
	SizeMiB int64
	// FS is "", "ext4", "xfs", "vfat" or "btrfs". XFS needs 300 MiB and
	// btrfs 128 MiB at least.
	FS string
	// Files maps slash-separated paths inside the filesystem to contents;
	// directories are implied.
	Files map[string][]byte
	// Symlinks maps paths to link targets (ext4 and btrfs only).
	Symlinks map[string]string
}

// Disk is a test disk: a partition table (Label "gpt" or "dos") or, with
// Label "", one filesystem over the whole disk (Parts[0]).
type Disk struct {
	Label string
	Parts []Part
}

// Make builds d as a sparse raw image in dir and returns its path. Tools
// come from `make deps`: sfdisk, mkfs.ext4, mkfs.xfs, mkfs.vfat, mcopy,
// mkfs.btrfs.
func Make(t testing.TB, dir string, d Disk) string {
	t.Helper()
	img := filepath.Join(dir, fmt.Sprintf("disk-%d.raw", len(mustGlob(t, filepath.Join(dir, "disk-*.raw")))))
	if d.Label == "" {
		p := d.Parts[0]
		makeFS(t, dir, img, p)
		return img
	}
	Need(t, "sfdisk")
	const mib = 1 << 20
	total := int64(2) // 1 MiB before the first partition, 1 after the last (GPT backup)
	for _, p := range d.Parts {
		total += p.SizeMiB
	}
	f, err := os.Create(img)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(total * mib); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	fmt.Fprintf(&script, "label: %s\n", d.Label)
	start := int64(1)
	for _, p := range d.Parts {
		fmt.Fprintf(&script, "start=%d, size=%d, type=%s\n", start*mib/512, p.SizeMiB*mib/512, p.Type)
		start += p.SizeMiB
	}
	run(t, script.String(), "sfdisk", "--quiet", "--no-reread", "--no-tell-kernel", img)
	start = 1
	for i, p := range d.Parts {
		if p.FS != "" {
			fsImg := filepath.Join(dir, fmt.Sprintf("part-%d.fs", i))
			makeFS(t, dir, fsImg, p)
			copySparse(t, f, start*mib, fsImg)
			_ = os.Remove(fsImg)
		}
		start += p.SizeMiB
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return img
}

// Qcow2 converts the raw image to qcow2 beside it and returns its path.
func Qcow2(t testing.TB, raw string) string {
	t.Helper()
	Need(t, "qemu-img")
	out := strings.TrimSuffix(raw, ".raw") + ".qcow2"
	run(t, "", "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, out)
	return out
}

func mustGlob(t testing.TB, pattern string) []string {
	m, err := filepath.Glob(pattern)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// makeFS builds p's filesystem of p.SizeMiB in the file img.
func makeFS(t testing.TB, dir, img string, p Part) {
	t.Helper()
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, p.SizeMiB<<20); err != nil {
		t.Fatal(err)
	}
	tree, err := os.MkdirTemp(dir, "tree-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tree)
	for name, data := range p.Files {
		dst := filepath.Join(tree, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, target := range p.Symlinks {
		dst := filepath.Join(tree, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, dst); err != nil {
			t.Fatal(err)
		}
	}
	switch p.FS {
	case "ext4":
		Need(t, "mkfs.ext4")
		run(t, "", "mkfs.ext4", "-q", "-F", "-L", "root", "-d", tree, img)
	case "btrfs":
		Need(t, "mkfs.btrfs")
		run(t, "", "mkfs.btrfs", "-q", "-f", "-L", "root", "--rootdir", tree, img)
	case "vfat":
		Need(t, "mkfs.vfat", "mcopy")
		run(t, "", "mkfs.vfat", "-n", "BOOT", img)
		entries, err := os.ReadDir(tree)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			run(t, "", "mcopy", "-i", img, "-s", "-Q", filepath.Join(tree, e.Name()), "::/")
		}
	case "xfs":
		Need(t, "mkfs.xfs")
		proto := filepath.Join(dir, "xfs.proto")
		if err := os.WriteFile(proto, []byte(xfsProto(tree, p.Files)), 0o644); err != nil {
			t.Fatal(err)
		}
		run(t, "", "mkfs.xfs", "-q", "-f", "-L", "root", "-p", proto, img)
	default:
		t.Fatalf("no filesystem %q", p.FS)
	}
}

// xfsProto writes an mkfs.xfs prototype file for files, whose contents
// are under tree.
func xfsProto(tree string, files map[string][]byte) string {
	type node struct {
		dirs  map[string]*node
		files []string
	}
	newNode := func() *node { return &node{dirs: map[string]*node{}} }
	root := newNode()
	for name := range files {
		n := root
		parts := strings.Split(name, "/")
		for _, d := range parts[:len(parts)-1] {
			if n.dirs[d] == nil {
				n.dirs[d] = newNode()
			}
			n = n.dirs[d]
		}
		n.files = append(n.files, name)
	}
	var b strings.Builder
	b.WriteString("/dev/null\n0 0\nd--755 0 0\n")
	var walk func(n *node)
	walk = func(n *node) {
		sort.Strings(n.files)
		for _, f := range n.files {
			fmt.Fprintf(&b, "%s ---644 0 0 %s\n", path.Base(f), filepath.Join(tree, filepath.FromSlash(f)))
		}
		names := make([]string, 0, len(n.dirs))
		for d := range n.dirs {
			names = append(names, d)
		}
		sort.Strings(names)
		for _, d := range names {
			fmt.Fprintf(&b, "%s d--755 0 0\n", d)
			walk(n.dirs[d])
			b.WriteString("$\n")
		}
	}
	walk(root)
	b.WriteString("$\n")
	return b.String()
}

// copySparse writes the file src into dst at off, skipping zero blocks so
// the disk stays sparse.
func copySparse(t testing.TB, dst *os.File, off int64, src string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	buf := make([]byte, 1<<20)
	zero := make([]byte, len(buf))
	for pos := int64(0); ; {
		n, err := in.ReadAt(buf, pos)
		if n > 0 && !bytes.Equal(buf[:n], zero[:n]) {
			if _, werr := dst.WriteAt(buf[:n], off+pos); werr != nil {
				t.Fatal(werr)
			}
		}
		pos += int64(n)
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

func run(t testing.TB, stdin, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}
