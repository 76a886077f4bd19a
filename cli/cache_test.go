package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmimages/cli"
	"vmimages/internal/mirrortest"
)

// pullDocKeys are the keys of pull --json in the contract.
var pullDocKeys = []string{"distro", "version", "arch", "build", "kernel", "initramfs", "disk", "disk_raw"}

func TestPullJSONDebian(t *testing.T) {
	s := newSandbox(t)
	srv, disk := debianMirror(t)
	doc := s.run("pull", "debian", "12", "--arch", "amd64", "--json", "--mirror", "debian="+srv.URL+"/debian/").ok(t).jsonDoc(t)
	hasKeys(t, "pull", doc, pullDocKeys...)
	want := object{"distro": "debian", "version": "12", "arch": "x86_64", "build": debianBuild,
		"kernel": nil, "initramfs": nil, "disk_raw": nil,
		"disk": filepath.Join(s.imageDir("debian", "12", "x86_64"), "disk.qcow2")}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	got, err := os.ReadFile(filepath.Join(s.imageDir("debian", "12", "x86_64"), "disk.qcow2"))
	if err != nil || !bytes.Equal(got, disk) {
		t.Fatalf("cached disk differs from the mirror's (err %v)", err)
	}
	sig, _ := doc["signature"].(object)
	hasKeys(t, "signature", sig, "status", "signer", "signed_at")

	// Pulling again moves no image bytes.
	before := srv.Count(".qcow2")
	again := s.run("pull", "debian", "12", "--arch", "x86_64", "--json", "--mirror", "debian="+srv.URL+"/debian/").ok(t).jsonDoc(t)
	if again["disk"] != want["disk"] || srv.Count(".qcow2") != before {
		t.Errorf("second pull: %v, %d disk requests (was %d)", again, srv.Count(".qcow2"), before)
	}
}

func TestPullJSONSignedUbuntu(t *testing.T) {
	s := newSandbox(t)
	u := signedUbuntu(t, s)
	doc := s.run("pull", "ubuntu", "noble", "--arch", "amd64", "--json", "--mirror", "ubuntu="+u.srv.URL+"/ubuntu/").ok(t).jsonDoc(t)
	hasKeys(t, "pull", doc, pullDocKeys...)
	if doc["disk_raw"] != nil || doc["version"] != "24.04" || doc["build"] != "20260926" {
		t.Errorf("pull = %v", doc)
	}
	dir := s.imageDir("ubuntu", "24.04", "x86_64")
	for key, want := range map[string][]byte{"kernel": u.kernel, "initramfs": u.initrd, "disk": u.disk} {
		p, _ := doc[key].(string)
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			t.Errorf("%s = %v, want a path in %s", key, doc[key], dir)
			continue
		}
		if got, err := os.ReadFile(p); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s: bytes differ from the mirror's (err %v)", key, err)
		}
	}
	if sig, _ := doc["signature"].(object); sig["status"] != "verified" || sig["signer"] != u.fingerprint {
		t.Errorf("signature = %v", doc["signature"])
	}
}

func TestPullWrongBytesIsIntegrityError(t *testing.T) {
	s := newSandbox(t)
	srv, disk := debianMirror(t)
	srv.Put(debianDiskPath("12", "bookworm", debianBuild), mirrortest.Payload("evil", len(disk)))
	r := s.run("pull", "debian", "12", "--arch", "amd64", "--json", "--mirror", "debian="+srv.URL+"/debian/")
	if r.code != cli.ExitIntegrity {
		t.Fatalf("want exit 3\n%s", r)
	}
	if !strings.Contains(r.stderr, "digest mismatch") || !strings.Contains(r.stderr, "sha512:"+mirrortest.SHA512(disk)) {
		t.Errorf("stderr should name the mismatch and the expected digest\n%s", r)
	}
	// --json still prints the document: no paths, and the error.
	if doc := r.jsonDoc(t); doc["disk"] != nil || !strings.Contains(fmt.Sprint(doc["error"]), "digest mismatch") {
		t.Errorf("a failed pull printed a result, or no error in its document\n%s", r)
	}
	if _, err := os.Stat(filepath.Join(s.imageDir("debian", "12", "x86_64"), "disk.qcow2")); err == nil {
		t.Error("wrong bytes were put in place")
	}
	// Nothing half-done is listed as ready.
	for _, im := range objects(t, s.run("list", "--json").ok(t).jsonDoc(t), "images") {
		if im["state"] == "ready" {
			t.Errorf("after a mismatch, list shows %v", im)
		}
	}
}

// TestCacheLifecycle walks pull → list → verify → corrupt → verify → prune
// (dry run, then for real) → rm → dir.
func TestCacheLifecycle(t *testing.T) {
	s := newSandbox(t)
	srv, _ := debianMirror(t)
	mirror := []string{"--mirror", "debian=" + srv.URL + "/debian/"}
	s.run(append([]string{"pull", "debian", "12", "--arch", "amd64", "-q"}, mirror...)...).ok(t)
	s.run(append([]string{"pull", "debian", "13", "--arch", "amd64", "-q"}, mirror...)...).ok(t)
	dir12, dir13 := s.imageDir("debian", "12", "x86_64"), s.imageDir("debian", "13", "x86_64")

	// list
	list := s.run("list", "--json").ok(t).jsonDoc(t)
	hasKeys(t, "list", list, "images", "total_bytes")
	images := objects(t, list, "images")
	if len(images) != 2 {
		t.Fatalf("list = %v, want two images", list)
	}
	var sum float64
	for i, im := range images {
		hasKeys(t, "list image", im, "distro", "version", "arch", "build", "state", "size_bytes", "path")
		if im["state"] != "ready" || num(t, im, "size_bytes") <= 0 {
			t.Errorf("image %v: want state ready and size_bytes > 0", im)
		}
		if want := []string{dir12, dir13}[i]; im["path"] != want {
			t.Errorf("image %d path %v, want %s", i, im["path"], want)
		}
		sum += num(t, im, "size_bytes")
	}
	if images[0]["build"] != debianBuild {
		t.Errorf("debian 12 build %v, want %s", images[0]["build"], debianBuild)
	}
	if total := num(t, list, "total_bytes"); total != sum {
		t.Errorf("total_bytes %v, want the sum %v", total, sum)
	}
	if text := s.run("list").ok(t).stdout; !strings.Contains(text, "2 image(s)") || !strings.Contains(text, debianBuild) {
		t.Errorf("list text:\n%s", text)
	}

	// verify: intact
	v := s.run("verify", "--json").ok(t).jsonDoc(t)
	for _, im := range objects(t, v, "images") {
		hasKeys(t, "verify image", im, "distro", "version", "arch", "ok", "problems")
		if im["ok"] != true || len(im["problems"].([]any)) != 0 {
			t.Errorf("verify: %v", im)
		}
	}
	if n := len(objects(t, v, "images")); n != 2 {
		t.Errorf("verify checked %d images, want 2", n)
	}

	// verify: one byte flipped in the middle of debian 12's disk
	flipByte(t, filepath.Join(dir12, "disk.qcow2"))
	r := s.run("verify", "--json")
	if r.code != cli.ExitIntegrity {
		t.Fatalf("verify after corruption: want exit 3\n%s", r)
	}
	for _, im := range objects(t, r.jsonDoc(t), "images") {
		probs, _ := im["problems"].([]any)
		switch im["version"] {
		case "12":
			if im["ok"] != false || len(probs) == 0 || !strings.Contains(probs[0].(string), "disk.qcow2: sha512 mismatch") {
				t.Errorf("corrupt image: %v", im)
			}
		case "13":
			if im["ok"] != true {
				t.Errorf("intact image: %v", im)
			}
		}
	}
	r = s.run("verify", "debian", "12", "--arch", "amd64")
	if r.code != cli.ExitIntegrity || !strings.Contains(r.stdout, "FAILED  debian 12 x86_64") {
		t.Errorf("verify debian 12 (text): want exit 3 and FAILED\n%s", r)
	}
	s.run("verify", "debian", "13", "--arch", "amd64").ok(t)

	// prune --keep 1 --dry-run: debian 12 (the older pull) would go, nothing goes.
	p := s.run("prune", "--keep", "1", "--dry-run", "--json").ok(t).jsonDoc(t)
	hasKeys(t, "prune", p, "removed", "freed_bytes", "dry_run")
	removed := objects(t, p, "removed")
	if p["dry_run"] != true || len(removed) != 1 || removed[0]["version"] != "12" || num(t, p, "freed_bytes") != num(t, images[0], "size_bytes") {
		t.Errorf("prune --dry-run = %v, want debian 12 (%v bytes)", p, images[0]["size_bytes"])
	}
	for _, im := range removed {
		hasKeys(t, "prune removed", im, "distro", "version", "arch", "size_bytes")
	}
	if _, err := os.Stat(filepath.Join(dir12, "disk.qcow2")); err != nil {
		t.Errorf("dry run removed files: %v", err)
	}
	if n := len(objects(t, s.run("list", "--json").ok(t).jsonDoc(t), "images")); n != 2 {
		t.Errorf("after a dry run, %d images listed, want 2", n)
	}

	// prune for real
	p = s.run("prune", "--keep", "1", "--json").ok(t).jsonDoc(t)
	if p["dry_run"] != false || len(objects(t, p, "removed")) != 1 {
		t.Errorf("prune = %v", p)
	}
	if _, err := os.Stat(dir12); !os.IsNotExist(err) {
		t.Errorf("debian 12 still on disk after prune (%v)", err)
	}
	left := objects(t, s.run("list", "--json").ok(t).jsonDoc(t), "images")
	if len(left) != 1 || left[0]["version"] != "13" {
		t.Errorf("after prune, list = %v", left)
	}

	// rm
	s.run("rm", "debian", "13", "--arch", "amd64").ok(t)
	if left := objects(t, s.run("list", "--json").ok(t).jsonDoc(t), "images"); len(left) != 0 {
		t.Errorf("after rm, list = %v", left)
	}
	if _, err := os.Stat(dir13); !os.IsNotExist(err) {
		t.Errorf("debian 13 still on disk after rm (%v)", err)
	}
	if text := s.run("list").ok(t).stdout; !strings.Contains(text, "is empty") {
		t.Errorf("empty list text:\n%s", text)
	}
	if r := s.run("rm", "debian", "13", "--arch", "amd64"); r.code != cli.ExitFailure || !strings.Contains(r.stderr, "not in cache") {
		t.Errorf("rm of an image not cached: want exit 1 saying so\n%s", r)
	}
}

// flipByte inverts the middle byte of path.
func flipByte(t *testing.T, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	off := fi.Size() / 2
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func TestCacheDirPrecedence(t *testing.T) {
	cases := []struct {
		name              string
		config, env, flag bool
		want              string // "config", "env", "flag" or "xdg"
	}{
		{name: "xdg default", want: "xdg"},
		{name: "config", config: true, want: "config"},
		{name: "env beats config", config: true, env: true, want: "env"},
		{name: "flag beats env", config: true, env: true, flag: true, want: "flag"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			dirs := map[string]string{
				"config": filepath.Join(s.home, "from-config"),
				"env":    filepath.Join(s.home, "from-env"),
				"flag":   filepath.Join(s.home, "from-flag"),
				"xdg":    filepath.Join(s.home, "xdg-cache", "vmimages"),
			}
			if tc.config {
				s.writeConfig("cache_dir = \"" + dirs["config"] + "\"\n")
			}
			if tc.env {
				t.Setenv("VMIMAGES_CACHE_DIR", dirs["env"])
			}
			args := []string{"dir", "--config", s.config}
			if tc.flag {
				args = append(args, "--cache-dir", dirs["flag"])
			}
			r := run(t, args...).ok(t)
			if got := strings.TrimSpace(r.stdout); got != dirs[tc.want] {
				t.Errorf("dir printed %q, want %q", got, dirs[tc.want])
			}
			if _, err := os.Stat(filepath.Join(dirs[tc.want], "CACHEDIR.TAG")); err != nil {
				t.Errorf("no CACHEDIR.TAG in the cache folder: %v", err)
			}
		})
	}
	// A relative --cache-dir is made absolute.
	s := newSandbox(t)
	t.Chdir(s.home)
	if got := strings.TrimSpace(run(t, "dir", "--config", s.config, "--cache-dir", "rel").ok(t).stdout); got != filepath.Join(s.home, "rel") {
		t.Errorf("dir with a relative --cache-dir printed %q", got)
	}
}

func TestPlainProgressLines(t *testing.T) {
	s := newSandbox(t)
	srv := mirrortest.New(t)
	disk := mirrortest.Payload("bookworm-1MiB", 1<<20)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", disk)
	// About half a second of transfer, so that progress lines appear.
	f := servePaced(t, srv, debianDiskPath("12", "bookworm", debianBuild), disk, 15*time.Millisecond)
	// And a slow listing, so that a line without numbers appears too.
	f.delay("/debian/bookworm/", 400*time.Millisecond)
	mirror := "debian=" + f.URL + "/debian/"
	r := s.runEnv(cli.Env{StderrIsTerminal: false}, "pull", "debian", "12", "--arch", "amd64", "--mirror", mirror).ok(t)
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if last := lines[len(lines)-1]; last != "Debian 12 x86_64: done, 1.0 MiB" {
		t.Errorf("last progress line %q, want \"Debian 12 x86_64: done, 1.0 MiB\"\n%s", last, r)
	}
	resolving, downloading := false, false
	for _, l := range lines {
		if !strings.HasPrefix(l, "Debian 12 x86_64: ") || strings.HasSuffix(l, " ") {
			t.Errorf("progress line %q: want it to start with the title and not end in a space", l)
		}
		resolving = resolving || l == "Debian 12 x86_64: resolving"
		downloading = downloading || strings.HasPrefix(l, "Debian 12 x86_64: downloading ")
	}
	if !resolving || !downloading {
		t.Errorf("want a \"resolving\" and a \"downloading\" line\n%s", r)
	}
	if strings.ContainsAny(r.stderr, "\r\x1b") {
		t.Errorf("plain progress contains terminal control characters: %q", r.stderr)
	}
	for _, want := range []string{"debian 12 x86_64 build " + debianBuild, "disk.qcow2", "signature: checksum over plain HTTP (allowed for this mirror); not signed upstream"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("pull result lacks %q\n%s", want, r)
		}
	}
	// -q keeps stderr for errors only.
	f.setPause(0)
	f.delay("/debian/bookworm/", 0)
	s.run("rm", "debian", "12", "--arch", "amd64").ok(t)
	if r := s.run("pull", "debian", "12", "--arch", "amd64", "--mirror", mirror, "-q").ok(t); r.stderr != "" {
		t.Errorf("-q printed progress: %q", r.stderr)
	}
}

func TestConvertWithQemuImg(t *testing.T) {
	qemuImg, err := exec.LookPath("qemu-img")
	if err != nil {
		t.Skip("qemu-img not installed")
	}
	qemuIO, err := exec.LookPath("qemu-io")
	if err != nil {
		t.Skip("qemu-io not installed")
	}
	s := newSandbox(t)
	// A real qcow2: 8 MiB virtual, the first MiB written with 0xab.
	src := filepath.Join(t.TempDir(), "src.qcow2")
	for _, c := range [][]string{
		{qemuImg, "create", "-q", "-f", "qcow2", src, "8M"},
		{qemuIO, "-f", "qcow2", "-c", "write -P 0xab 0 1M", src},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v\n%s", c, err, out)
		}
	}
	qcow, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	srv := mirrortest.New(t)
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", qcow)
	mirror := "debian=" + srv.URL + "/debian/"
	dir := s.imageDir("debian", "12", "x86_64")
	raw := filepath.Join(dir, "disk.raw")

	// Converting what is not cached says so (and creates nothing).
	r := s.run("convert", "debian", "12", "--arch", "amd64")
	if r.code != cli.ExitFailure || !strings.Contains(r.stderr, "vmimages list") {
		t.Errorf("convert before pull: want exit 1 and a hint\n%s", r)
	}
	if left := objects(t, s.run("list", "--json").ok(t).jsonDoc(t), "images"); len(left) != 0 {
		t.Errorf("a failed convert left an image behind: %v", left)
	}

	if doc := s.run("pull", "debian", "12", "--arch", "amd64", "--json", "--mirror", mirror).ok(t).jsonDoc(t); doc["disk_raw"] != nil {
		t.Errorf("pull without --raw converted: %v", doc)
	}
	before := num(t, objects(t, s.run("list", "--json").ok(t).jsonDoc(t), "images")[0], "size_bytes")

	r = s.run("convert", "debian", "12", "--arch", "amd64").ok(t)
	if got := strings.TrimSpace(r.stdout); got != raw {
		t.Errorf("convert printed %q, want %s", got, raw)
	}
	b, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 8<<20 || !bytes.Equal(b[:1<<20], bytes.Repeat([]byte{0xab}, 1<<20)) || !bytes.Equal(b[1<<20:], make([]byte, 7<<20)) {
		t.Errorf("disk.raw: %d bytes, not the qcow2's contents", len(b))
	}
	doc := s.run("pull", "debian", "12", "--arch", "amd64", "--json", "--mirror", mirror).ok(t).jsonDoc(t)
	if doc["disk_raw"] != raw {
		t.Errorf("pull --json after convert: disk_raw = %v, want %s", doc["disk_raw"], raw)
	}
	im := objects(t, s.run("list", "--json").ok(t).jsonDoc(t), "images")[0]
	if im["state"] != "ready" || num(t, im, "size_bytes") < before+(1<<20) {
		t.Errorf("list after convert: %v; want ready and at least 1 MiB more than %v", im, before)
	}
	s.run("verify", "debian", "12", "--arch", "amd64").ok(t)

	// pull --raw converts in one go.
	s.run("rm", "debian", "12", "--arch", "amd64").ok(t)
	doc = s.run("pull", "debian", "12", "--arch", "amd64", "--raw", "--json", "--mirror", mirror).ok(t).jsonDoc(t)
	if doc["disk_raw"] != raw {
		t.Errorf("pull --raw: disk_raw = %v, want %s", doc["disk_raw"], raw)
	}
	if fi, err := os.Stat(raw); err != nil || fi.Size() != 8<<20 {
		t.Errorf("pull --raw: disk.raw %v, %v", fi, err)
	}
}
