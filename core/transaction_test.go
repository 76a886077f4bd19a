package core

import (
	"bytes"
	"context"
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/qemuimg"
	"vmimages/internal/mirrortest"
)

// imageFiles lists an image folder's names, sorted.
func imageFiles(t *testing.T, dir string) []string {
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

// TestFailedUpdateKeepsBuild: an update whose new build cannot be fetched
// (one file 404) leaves the old build as it was, ready, and nothing of the
// new one beside it; the whole Ubuntu build (disk, kernel, initramfs) stays
// one build, never a mix.
func TestFailedUpdateKeepsBuild(t *testing.T) {
	srv, m, signer, _ := signedUbuntu(t)
	ref := catalog.Ref{Distro: "ubuntu", Version: "noble", Arch: "x86_64"}
	first, err := wait(t, m.Pull(context.Background(), ref, PullOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	key := cache.Key{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"}
	dir := m.Cache().Dir(key)
	want := map[string][]byte{}
	for _, p := range []string{first.Disk, first.Kernel, first.Initramfs} {
		want[p], _ = os.ReadFile(p)
	}
	files := imageFiles(t, dir)

	// A new build whose disk and initramfs arrive but whose kernel is gone.
	nd := srv.AddUbuntu("/ubuntu", "24.04", "noble", "20261010", "amd64",
		mirrortest.Payload("disk-2", 500_000), mirrortest.Payload("kernel-2", 50_000), mirrortest.Payload("initrd-2", 80_000))
	srv.Put(nd+"SHA256SUMS.gpg", signer.Detach(t, srv.Get(nd+"SHA256SUMS")))
	srv.Put(nd+"unpacked/SHA256SUMS.gpg", signer.Detach(t, srv.Get(nd+"unpacked/SHA256SUMS")))
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		if strings.HasPrefix(r.URL.Path, nd) && strings.HasSuffix(r.URL.Path, "vmlinuz-generic") {
			http.NotFound(w, r)
			return true
		}
		return false
	})
	if _, err := wait(t, m.Pull(context.Background(), ref, PullOptions{Update: true})); err == nil {
		t.Fatal("an update without its kernel succeeded")
	}
	im, err := m.Cache().Image(key)
	if err != nil || im.State != cache.StateReady || im.Build != "20260926" {
		t.Fatalf("after a failed update: %+v, %v; want build 20260926 ready", im, err)
	}
	for p, b := range want {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, b) {
			t.Errorf("%s changed in a failed update", filepath.Base(p))
		}
	}
	// A plain pull keeps returning the old build.
	if img, err := wait(t, m.Pull(context.Background(), ref, PullOptions{})); err != nil || img.Build != "20260926" {
		t.Errorf("plain pull after a failed update: %+v, %v; want build 20260926", img, err)
	}
	// Only the verified downloads wait in .partial, for the next attempt.
	got := slices.DeleteFunc(imageFiles(t, dir), func(n string) bool { return n == ".partial" })
	if !slices.Equal(got, files) {
		t.Errorf("after a failed update the folder holds %v, before %v", got, files)
	}

	// Once the kernel is back, the update switches all three files.
	srv.SetFault(nil)
	img, err := wait(t, m.Pull(context.Background(), ref, PullOptions{Update: true}))
	if err != nil || img.Build != "20261010" {
		t.Fatalf("update: %+v, %v", img, err)
	}
	for p, seed := range map[string]string{img.Disk: "disk-2", img.Kernel: "kernel-2", img.Initramfs: "initrd-2"} {
		if got, _ := os.ReadFile(p); !bytes.Equal(got, mirrortest.Payload(seed, len(got))) || len(got) == 0 {
			t.Errorf("%s is not the new build's", filepath.Base(p))
		}
	}
	if img.Disk != first.Disk || img.Kernel != first.Kernel || img.Initramfs != first.Initramfs {
		t.Errorf("the update moved files: %+v, before %+v", img, first)
	}
	if got := imageFiles(t, dir); !slices.Equal(got, files) {
		t.Errorf("after the update the folder holds %v, want %v", got, files)
	}
}

// TestOneOfEach: the atomic write, the free-space question and the version
// order each have one implementation, used everywhere (issue 8, item 12).
func TestOneOfEach(t *testing.T) {
	type rule struct{ what, owner string }
	calls := map[string]rule{
		"os.CreateTemp":  {"an atomic write", "localfs"},
		"renameio.":      {"an atomic write", "localfs"},
		"unix.Statfs":    {"the free-space question", "localfs"},
		"syscall.Statfs": {"the free-space question", "localfs"},
	}
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		pkg := filepath.Base(filepath.Dir(path))
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok {
					name := x.Name + "." + n.Sel.Name
					for call, r := range calls {
						if (name == call || strings.HasSuffix(call, ".") && x.Name+"." == call) && pkg != r.owner {
							t.Errorf("%s: %s uses %s; %s belongs to core/%s", fset.Position(n.Pos()), pkg, name, r.what, r.owner)
						}
					}
				}
			case *ast.FuncDecl:
				if strings.Contains(strings.ToLower(n.Name.Name), "compareversion") && pkg != "version" {
					t.Errorf("%s: %s defines %s; versions are ordered by core/version.Compare", fset.Position(n.Pos()), pkg, n.Name.Name)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 40 {
		t.Fatalf("only %d files checked; the walk is broken", checked)
	}
}

// TestRawWithoutQemuImgKeepsDownload: when the conversion cannot run, the
// verified download is still committed: the image is ready without a raw
// disk, and the error says why.
func TestRawWithoutQemuImgKeepsDownload(t *testing.T) {
	srv, disk := debianMirror(t)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, func(o *Options) {
		o.QemuImg = filepath.Join(t.TempDir(), "no-qemu-img")
	})
	ref := catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}
	if _, err := wait(t, m.Pull(context.Background(), ref, PullOptions{Raw: true})); !errors.Is(err, qemuimg.ErrMissing) {
		t.Fatalf("pull --raw without qemu-img: %v, want ErrMissing", err)
	}
	im, err := m.Cache().Image(cache.Key{Distro: "debian", Version: "12", Arch: "x86_64"})
	if err != nil || im.State != cache.StateReady || im.Meta.DiskRaw != nil {
		t.Fatalf("image after the failed conversion: %+v, %v; want ready without a raw disk", im, err)
	}
	if got, _ := os.ReadFile(filepath.Join(im.Path, im.Meta.Asset(cache.RoleDisk).File)); !bytes.Equal(got, disk) {
		t.Error("the verified download is not in place")
	}
	if _, err := os.Stat(filepath.Join(im.Path, ".partial")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf(".partial left after the commit: %v", err)
	}
}
