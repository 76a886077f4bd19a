package main

import (
	"bytes"
	"debug/elf"
	"debug/macho"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// needTool finds a program a test needs: missing, the test is skipped
// locally and fails in CI.
func needTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed ('make deps')", name)
		}
		t.Skipf("%s is not installed", name)
	}
}

// copySource copies the checkout's files (tracked and untracked, not
// ignored) to dir, so a build there has another path.
func copySource(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		fi, err := os.Lstat(f)
		if err != nil || !fi.Mode().IsRegular() {
			continue // deleted in the work tree
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, b, fi.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
}

// dist runs scripts/dist.sh in src for the headless archives.
func dist(t *testing.T, src, out string) {
	t.Helper()
	cmd := exec.Command("./scripts/dist.sh")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "VERSION=1.2.3", "COMMIT=0123456789abcdef", "SOURCE_DATE_EPOCH=1767225600",
		"DIST_DESKTOP=0", "DIST_TARGETS=linux/amd64 darwin/arm64", "DIST_DIR="+out, "CGO_ENABLED=1")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("dist.sh in %s: %v\n%s", src, err, b)
	}
}

// TestDistIsReproducible runs the release script twice, from two checkouts
// at different paths, and compares the files byte for byte; then looks into
// the archives.
func TestDistIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds release archives")
	}
	for _, tool := range []string{"git", "tar", "gzip", "sha256sum"} {
		needTool(t, tool)
	}
	tmp := t.TempDir()
	other := filepath.Join(tmp, "elsewhere", "vmimages")
	copySource(t, other)
	out1, out2 := filepath.Join(tmp, "out1"), filepath.Join(tmp, "out2")
	wd, _ := os.Getwd()
	dist(t, wd, out1)
	dist(t, other, out2)

	names := []string{"SHA256SUMS", "vmimages_1.2.3_darwin_arm64.tar.gz", "vmimages_1.2.3_linux_amd64.tar.gz"}
	for _, dir := range []string{out1, out2} {
		entries, _ := os.ReadDir(dir)
		var got []string
		for _, e := range entries {
			got = append(got, e.Name())
		}
		if strings.Join(got, " ") != strings.Join(names, " ") {
			t.Fatalf("%s holds %v, want %v", dir, got, names)
		}
	}
	for _, n := range names {
		a, _ := os.ReadFile(filepath.Join(out1, n))
		b, _ := os.ReadFile(filepath.Join(out2, n))
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s differs between the two runs (%d and %d bytes)", n, len(a), len(b))
		}
	}
	check := exec.Command("sha256sum", "-c", "SHA256SUMS")
	check.Dir = out1
	if b, err := check.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, b)
	}

	// What is in an archive.
	x := filepath.Join(tmp, "x")
	os.MkdirAll(x, 0o755)
	for _, n := range names[1:] {
		list, err := exec.Command("tar", "-tvzf", filepath.Join(out1, n)).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(strings.TrimSpace(string(list)), "\n") {
			if !strings.Contains(l, " 0/0 ") || !strings.Contains(l, "2026-01-01 00:00") {
				t.Errorf("%s: entry without fixed owner and time: %s", n, l)
			}
		}
		if b, err := exec.Command("tar", "-xzf", filepath.Join(out1, n), "-C", x).CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		dir := filepath.Join(x, strings.TrimSuffix(n, ".tar.gz"))
		for _, f := range []string{"vmimages", "vmimages.1", "README.md", "completions/vmimages.bash", "completions/_vmimages", "completions/vmimages.fish"} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Errorf("%s lacks %s", n, f)
			}
		}
	}
	linux := filepath.Join(x, "vmimages_1.2.3_linux_amd64", "vmimages")
	if f, err := elf.Open(linux); err != nil {
		t.Error(err)
	} else {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Error("the Linux binary is not static")
			}
		}
		f.Close()
	}
	if f, err := macho.Open(filepath.Join(x, "vmimages_1.2.3_darwin_arm64", "vmimages")); err != nil {
		t.Error(err)
	} else {
		if f.Cpu != macho.CpuArm64 {
			t.Errorf("darwin_arm64 binary is for %v", f.Cpu)
		}
		f.Close()
	}
	out, err := exec.Command(linux, "version").Output()
	if err != nil || !strings.Contains(string(out), "vmimages 1.2.3") || !strings.Contains(string(out), "0123456789abcdef") ||
		!strings.Contains(string(out), "not in this build") {
		t.Errorf("version of the released binary: %v\n%s", err, out)
	}
	man, _ := os.ReadFile(filepath.Join(x, "vmimages_1.2.3_linux_amd64", "vmimages.1"))
	checkManPage(t, man)
}

// checkManPage: the page names every command with the summary its help
// prints, and groff renders it without a warning.
func checkManPage(t *testing.T, page []byte) {
	t.Helper()
	for _, want := range []string{".TH VMIMAGES 1", "pull", `Download and verify an image into the cache.`,
		`completion \fIbash|zsh|fish\fR`, `\-\-cache\-dir`, "SSL_CERT_FILE", ".SH EXIT STATUS"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("man page lacks %q", want)
		}
	}
	if _, err := exec.LookPath("groff"); err != nil {
		return
	}
	cmd := exec.Command("groff", "-man", "-Tutf8", "-ww", "-z")
	cmd.Stdin = bytes.NewReader(page)
	if b, err := cmd.CombinedOutput(); err != nil || len(b) != 0 {
		t.Errorf("groff: %v\n%s", err, b)
	}
}

// TestMakeInstall installs into a temporary root and checks the binary, the
// man page and the completions are there.
func TestMakeInstall(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	needTool(t, "make")
	root := t.TempDir()
	bin := filepath.Join(t.TempDir(), "vmimages")
	cmd := exec.Command("make", "install", "DESTDIR="+root, "PREFIX=/usr", "BIN="+bin, "VERSION=9.9.9")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make install: %v\n%s", err, b)
	}
	for _, f := range []string{"bin/vmimages", "share/man/man1/vmimages.1", "share/bash-completion/completions/vmimages",
		"share/zsh/site-functions/_vmimages", "share/fish/vendor_completions.d/vmimages.fish"} {
		if fi, err := os.Stat(filepath.Join(root, "usr", f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s not installed: %v", f, err)
		}
	}
	page, _ := os.ReadFile(filepath.Join(root, "usr/share/man/man1/vmimages.1"))
	checkManPage(t, page)
	if !bytes.Contains(page, []byte("vmimages 9.9.9")) {
		t.Error("the installed man page does not carry the version")
	}
}
