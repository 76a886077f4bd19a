package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmimages/cli"
	"vmimages/internal/mirrortest"
)

// These tests hold the cache to its transactions: what is on disk after a
// pull, an update or a conversion that failed, was killed or was fed a
// damaged or planted file.

// listJSON runs `vmimages list --json` as a subprocess and returns its images.
func listJSON(t *testing.T, env []string, cacheDir string) []object {
	t.Helper()
	p := startProc(t, env, "list", "--json", "--cache-dir", cacheDir)
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("list exited %d\nstderr:\n%s", code, p.stderr)
	}
	var doc struct {
		Images []object `json:"images"`
	}
	if err := json.Unmarshal(p.stdout.Bytes(), &doc); err != nil {
		t.Fatalf("list --json: %v\n%s", err, p.stdout)
	}
	return doc.Images
}

// dirNames lists the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// waitForPart waits until a part file in dir holds at least n bytes,
// failing if the process exits first.
func waitForPart(t *testing.T, p *proc, dir string, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		parts, _ := filepath.Glob(filepath.Join(dir, "*.part"))
		for _, part := range parts {
			if fi, err := os.Stat(part); err == nil && fi.Size() >= n {
				return
			}
		}
		select {
		case <-p.done:
			t.Fatalf("vmimages exited before a part file in %s reached %d bytes: %v\nstderr:\n%s", dir, n, p.err, p.stderr)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("no part file in %s reached %d bytes in time\nstderr:\n%s", dir, n, p.stderr)
}

// TestKilledUpdateKeepsPinnedBuild kills `pull --update` while the new
// build downloads: the old build stays ready and pinned (a plain pull
// returns it without asking the network), and the update, run again,
// resumes and switches builds leaving nothing of the old one behind.
func TestKilledUpdateKeepsPinnedBuild(t *testing.T) {
	t.Parallel()
	mirror := mirrortest.New(t)
	oldDisk := mirrortest.Payload("bookworm-old", 200_000)
	mirror.AddDebian("/debian", "12", "bookworm", debianOldBuild, "amd64", oldDisk)
	env := procEnv(t)
	cacheDir := t.TempDir()
	imgDir := filepath.Join(cacheDir, "images", "debian", "12", "x86_64")
	pull := func(base string, extra ...string) *proc {
		return startProc(t, env, append([]string{"pull", "debian", "12", "--arch", "amd64", "--json",
			"--cache-dir", cacheDir, "--mirror", "debian=" + base + "/debian/"}, extra...)...)
	}
	if p := pull(mirror.URL); p.wait(t, 60*time.Second) != 0 {
		t.Fatalf("first pull failed\nstderr:\n%s", p.stderr)
	}

	newDisk := mirrortest.Payload("bookworm-new-8MiB", 8<<20)
	mirror.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", newDisk)
	f := servePaced(t, mirror, debianDiskPath("12", "bookworm", debianBuild), newDisk, 15*time.Millisecond)
	p := pull(f.URL, "--update")
	waitForPart(t, p, filepath.Join(imgDir, ".partial"), 1<<20)
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)

	images := listJSON(t, env, cacheDir)
	if len(images) != 1 || images[0]["state"] != "ready" || images[0]["build"] != debianOldBuild {
		t.Fatalf("after a killed update, list = %v; want build %s ready", images, debianOldBuild)
	}

	// A plain pull pins the old build: nothing asked upstream.
	before := len(mirror.Requests()) + f.count()
	p = pull(f.URL)
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("plain pull exited %d\nstderr:\n%s", code, p.stderr)
	}
	var doc map[string]any
	if err := json.Unmarshal(p.stdout.Bytes(), &doc); err != nil || doc["build"] != debianOldBuild {
		t.Fatalf("plain pull after a killed update gave %s (%v); want build %s", p.stdout, err, debianOldBuild)
	}
	if got, _ := os.ReadFile(filepath.Join(imgDir, "disk.qcow2")); !bytes.Equal(got, oldDisk) {
		t.Error("the old build's disk changed")
	}
	if after := len(mirror.Requests()) + f.count(); after != before {
		t.Errorf("a plain pull of a pinned image made %d requests", after-before)
	}

	// The update, run again, resumes and switches in one step.
	f.setPause(0)
	p = pull(f.URL, "--update")
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("update exited %d\nstderr:\n%s", code, p.stderr)
	}
	if got, _ := os.ReadFile(filepath.Join(imgDir, "disk.qcow2")); !bytes.Equal(got, newDisk) {
		t.Error("after the update, disk.qcow2 is not the new build")
	}
	if names, want := dirNames(t, imgDir), []string{".lock", ".meta.lock", "disk.qcow2", "meta.json", "proof"}; !slices.Equal(names, want) {
		t.Errorf("image folder holds %v, want %v", names, want)
	}
	if images := listJSON(t, env, cacheDir); len(images) != 1 || images[0]["state"] != "ready" || images[0]["build"] != debianBuild {
		t.Errorf("after the update, list = %v", images)
	}
}

// TestFailedFirstPullLeavesNothing: a pull whose disk is missing upstream
// (404) fails and leaves no image folder, so nothing lists as "partial".
func TestFailedFirstPullLeavesNothing(t *testing.T) {
	s := newSandbox(t)
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", mirrortest.Payload("gone", 100_000))
	srv.Fault = func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasSuffix(r.URL.Path, ".qcow2") {
			http.NotFound(w, r)
			return true
		}
		return false
	}
	r := s.run("pull", "debian", "12", "--arch", "amd64", "--mirror", "debian="+srv.URL+"/debian/")
	if r.code != cli.ExitFailure {
		t.Fatalf("pull of a missing disk: want exit 1\n%s", r)
	}
	if _, err := os.Lstat(s.imageDir("debian", "12", "x86_64")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed first pull left the image folder: %v", err)
	}
	if images := objects(t, s.run("list", "--json").ok(t).jsonDoc(t), "images"); len(images) != 0 {
		t.Errorf("list after a failed pull: %v", images)
	}
}

// TestPlantedSymlinksRefused: a .partial folder or a lock file planted as a
// symbolic link makes a pull fail without creating anything where it points.
func TestPlantedSymlinksRefused(t *testing.T) {
	for _, name := range []string{".partial", ".lock"} {
		t.Run(name, func(t *testing.T) {
			s := newSandbox(t)
			srv, _ := debianMirror(t)
			dir := s.imageDir("debian", "12", "x86_64")
			outside := t.TempDir()
			target := outside
			if name == ".lock" {
				target = filepath.Join(outside, "victim")
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
				t.Fatal(err)
			}
			r := s.run("pull", "debian", "12", "--arch", "amd64", "--mirror", "debian="+srv.URL+"/debian/")
			if r.code == cli.ExitOK || !strings.Contains(r.stderr, "symbolic link") {
				t.Errorf("pull through a planted %s: want a failure naming the link\n%s", name, r)
			}
			if names := dirNames(t, outside); len(names) != 0 {
				t.Errorf("the pull created %v outside the cache", names)
			}
		})
	}
}

// TestCommandsWithoutCache: catalog, resolve and dir need no cache folder,
// so they work where it cannot be made.
func TestCommandsWithoutCache(t *testing.T) {
	s := newSandbox(t)
	file := filepath.Join(t.TempDir(), "a-file")
	writeFile(t, file, "")
	s.cache = filepath.Join(file, "cache") // below a file: cannot be made
	srv, _ := debianMirror(t)
	s.run("catalog").ok(t)
	s.run("resolve", "debian", "12", "--arch", "amd64", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	if got := strings.TrimSpace(s.run("dir").ok(t).stdout); got != s.cache {
		t.Errorf("dir printed %q, want %q", got, s.cache)
	}
}

// TestNoHome: without HOME (and XDG_CACHE_HOME) there is no cache folder to
// guess; dir says so instead of answering "/.cache/vmimages", and catalog,
// which needs no cache, still works.
func TestNoHome(t *testing.T) {
	t.Parallel()
	var env []string
	for _, kv := range procEnv(t) {
		if k, _, _ := strings.Cut(kv, "="); k != "HOME" && k != "XDG_CACHE_HOME" {
			env = append(env, kv)
		}
	}
	p := startProc(t, env, "dir")
	if code := p.wait(t, 30*time.Second); code != cli.ExitFailure || !strings.Contains(p.stderr.String(), "HOME") {
		t.Errorf("dir without HOME: exit %d, stdout %q, stderr %q; want exit 1 naming HOME", code, p.stdout, p.stderr)
	}
	p = startProc(t, env, "list")
	if code := p.wait(t, 30*time.Second); code != cli.ExitFailure || !strings.Contains(p.stderr.String(), "HOME") {
		t.Errorf("list without HOME: exit %d, stderr %q; want exit 1 naming HOME", code, p.stderr)
	}
	p = startProc(t, env, "catalog")
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("catalog without HOME: exit %d\n%s", code, p.stderr)
	}
	srv, _ := debianMirror(t)
	p = startProc(t, env, "resolve", "debian", "12", "--arch", "amd64", "--mirror", "debian="+srv.URL+"/debian/")
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Errorf("resolve without HOME: exit %d\n%s", code, p.stderr)
	}
}

// qcow2Disk makes a real qcow2 with qemu-img: 8 MiB virtual, the first MiB
// written with 0xab. It skips (fails in CI) without qemu-img and qemu-io.
func qcow2Disk(t *testing.T) []byte {
	t.Helper()
	for _, tool := range []string{"qemu-img", "qemu-io"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s not installed; make deps installs qemu-utils", tool)
			}
			t.Skipf("%s not installed", tool)
		}
	}
	src := filepath.Join(t.TempDir(), "src.qcow2")
	for _, c := range [][]string{
		{"qemu-img", "create", "-q", "-f", "qcow2", src, "8M"},
		{"qemu-io", "-f", "qcow2", "-c", "write -P 0xab 0 1M", src},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRawDiskIsVerified: the raw disk's SHA-256 is recorded when it is
// converted; verify finds it changed in place, and a pull converts again
// and says so.
func TestRawDiskIsVerified(t *testing.T) {
	qcow := qcow2Disk(t)
	s := newSandbox(t)
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", qcow)
	mirror := "debian=" + srv.URL + "/debian/"
	raw := filepath.Join(s.imageDir("debian", "12", "x86_64"), "disk.raw")
	s.run("pull", "debian", "12", "--arch", "amd64", "--raw", "--mirror", mirror).ok(t)
	good, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	s.run("verify", "debian", "12", "--arch", "amd64").ok(t)

	flipByte(t, raw) // what a VM booted from the cache's copy does
	r := s.run("verify", "debian", "12", "--arch", "amd64")
	if r.code != cli.ExitIntegrity || !strings.Contains(r.stdout+r.stderr, "disk.raw: sha256 mismatch") {
		t.Errorf("verify of a changed disk.raw: want exit 3 and a sha256 mismatch\n%s", r)
	}

	r = s.run("pull", "debian", "12", "--arch", "amd64", "--raw", "--mirror", mirror).ok(t)
	if !strings.Contains(r.stderr, "disk.raw changed since it was converted") || !strings.Contains(r.stderr, "converting again") {
		t.Errorf("pull --raw of a changed disk.raw did not say it converts again\n%s", r)
	}
	if got, _ := os.ReadFile(raw); !bytes.Equal(got, good) {
		t.Error("disk.raw is not the conversion of the verified disk after the pull")
	}
	s.run("verify", "debian", "12", "--arch", "amd64").ok(t)

	// With -q, stderr carries errors only: the same notice is not printed.
	flipByte(t, raw)
	r = s.run("-q", "pull", "debian", "12", "--arch", "amd64", "--raw", "--mirror", mirror).ok(t)
	if r.stderr != "" {
		t.Errorf("pull -q printed a notice on stderr\n%s", r)
	}
	if got, _ := os.ReadFile(raw); !bytes.Equal(got, good) {
		t.Error("disk.raw is not the conversion of the verified disk after the quiet pull")
	}
}

// TestConvertProvesItsSource: convert refuses a disk.qcow2 that is not the
// verified one, damaged in place or swapped for a symbolic link to another
// image, and gives nothing the name disk.raw.
func TestConvertProvesItsSource(t *testing.T) {
	qcow := qcow2Disk(t)
	s := newSandbox(t)
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", qcow)
	s.run("pull", "debian", "12", "--arch", "amd64", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	dir := s.imageDir("debian", "12", "x86_64")
	disk := filepath.Join(dir, "disk.qcow2")

	flipByte(t, disk)
	r := s.run("convert", "debian", "12", "--arch", "amd64")
	if r.code != cli.ExitIntegrity {
		t.Errorf("convert of a damaged disk: want exit 3\n%s", r)
	}
	if _, err := os.Lstat(filepath.Join(dir, "disk.raw")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a damaged disk was converted to disk.raw: %v", err)
	}

	other := filepath.Join(t.TempDir(), "other.qcow2")
	if err := os.WriteFile(other, qcow, 0o644); err != nil { // a valid image, not this cache's file
		t.Fatal(err)
	}
	os.Remove(disk)
	if err := os.Symlink(other, disk); err != nil {
		t.Fatal(err)
	}
	r = s.run("convert", "debian", "12", "--arch", "amd64")
	if r.code != cli.ExitIntegrity {
		t.Errorf("convert through a symbolic link: want exit 3\n%s", r)
	}
	if _, err := os.Lstat(filepath.Join(dir, "disk.raw")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a linked disk was converted to disk.raw: %v", err)
	}
}

// TestKilledRawConversion kills a `pull --raw` of a cached image while
// qemu-img converts: qemu-img dies with it, the image is ready (not left
// "converting"), and the next pull converts.
func TestKilledRawConversion(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("qemu-img dies with its caller only where there is a parent-death signal (Linux)")
	}
	t.Parallel()
	qcow := qcow2Disk(t)
	realQemu, _ := exec.LookPath("qemu-img")
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", qcow)
	// A qemu-img in front of the real one that, for convert, creates its
	// output, writes its pid to $MARK and waits for $GO before running.
	bin := t.TempDir()
	mark, goFile := filepath.Join(bin, "started"), filepath.Join(bin, "go")
	writeFile(t, filepath.Join(bin, "qemu-img"), `#!/bin/sh
if [ "$1" = convert ]; then
	for out; do :; done
	: > "$out"
	echo $$ > "$MARK.tmp" && mv "$MARK.tmp" "$MARK"
	while [ ! -e "$GO" ]; do sleep 0.05; done
fi
exec `+realQemu+` "$@"
`)
	if err := os.Chmod(filepath.Join(bin, "qemu-img"), 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range procEnv(t) {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" {
			kv = "PATH=" + bin + string(os.PathListSeparator) + v
		}
		env = append(env, kv)
	}
	env = append(env, "MARK="+mark, "GO="+goFile)
	cacheDir := t.TempDir()
	args := []string{"pull", "debian", "12", "--arch", "amd64", "--cache-dir", cacheDir, "--mirror", "debian=" + srv.URL + "/debian/"}
	if p := startProc(t, env, args...); p.wait(t, 60*time.Second) != 0 {
		t.Fatalf("pull failed\nstderr:\n%s", p.stderr)
	}
	args = append(args, "--raw")

	p := startProc(t, env, args...)
	var pid int
	deadline := time.Now().Add(30 * time.Second)
	for pid == 0 {
		if b, err := os.ReadFile(mark); err == nil {
			pid, _ = strconv.Atoi(strings.TrimSpace(string(b)))
			break
		}
		select {
		case <-p.done:
			t.Fatalf("pull --raw exited before converting\nstderr:\n%s", p.stderr)
		case <-time.After(5 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("qemu-img convert never started")
		}
	}
	t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
	if err := p.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	p.wait(t, 10*time.Second)
	for deadline := time.Now().Add(10 * time.Second); processAlive(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("qemu-img (pid %d) still runs after its pull was killed", pid)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if images := listJSON(t, env, cacheDir); len(images) != 1 || images[0]["state"] != "ready" {
		t.Errorf("after the killed conversion, list = %v; want the image ready (not converting)", images)
	}

	writeFile(t, goFile, "")
	p = startProc(t, env, append(args, "--json")...)
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("second pull --raw exited %d\nstderr:\n%s", code, p.stderr)
	}
	raw := filepath.Join(cacheDir, "images", "debian", "12", "x86_64", "disk.raw")
	if fi, err := os.Stat(raw); err != nil || fi.Size() != 8<<20 {
		t.Errorf("disk.raw after the second pull: %v, %v", fi, err)
	}
}

// processAlive reports whether pid runs (a zombie does not count).
func processAlive(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return syscall.Kill(pid, 0) == nil
	}
	// "pid (comm) S …": the state follows the last ')'.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// TestConvertSourceChangedWhileRead: a disk that changes while qemu-img
// reads it (here a qemu-img in front of the real one touches it first) is
// refused, and its conversion never gets the name disk.raw.
func TestConvertSourceChangedWhileRead(t *testing.T) {
	t.Parallel()
	qcow := qcow2Disk(t)
	realQemu, _ := exec.LookPath("qemu-img")
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", qcow)
	bin := t.TempDir()
	writeFile(t, filepath.Join(bin, "qemu-img"), `#!/bin/sh
if [ "$1" = convert ]; then
	n=$#
	i=0
	for a; do
		i=$((i+1))
		[ $i -eq $((n-1)) ] && touch -d "2001-01-01" "$a"
	done
fi
exec `+realQemu+` "$@"
`)
	if err := os.Chmod(filepath.Join(bin, "qemu-img"), 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range procEnv(t) {
		if k, v, _ := strings.Cut(kv, "="); k == "PATH" {
			kv = "PATH=" + bin + string(os.PathListSeparator) + v
		}
		env = append(env, kv)
	}
	cacheDir := t.TempDir()
	args := []string{"debian", "12", "--arch", "amd64", "--cache-dir", cacheDir}
	if p := startProc(t, env, append([]string{"pull", "--mirror", "debian=" + srv.URL + "/debian/"}, args...)...); p.wait(t, 60*time.Second) != 0 {
		t.Fatalf("pull failed\nstderr:\n%s", p.stderr)
	}
	p := startProc(t, env, append([]string{"convert"}, args...)...)
	if code := p.wait(t, 60*time.Second); code != cli.ExitIntegrity || !strings.Contains(p.stderr.String(), "changed while it was converted") {
		t.Errorf("convert of a disk changed while read: exit %d, want 3 saying so\nstderr:\n%s", code, p.stderr)
	}
	if _, err := os.Lstat(filepath.Join(cacheDir, "images", "debian", "12", "x86_64", "disk.raw")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the conversion of a changing disk got the name disk.raw: %v", err)
	}
}
