package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/adrg/xdg"

	"vmimages/cli"
	"vmimages/internal/mirrortest"
)

// binDir holds the vmimages binary built for the subprocess tests.
var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vmimages-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// vmimagesBinary builds the real program (GUI linked in) once per test run.
func vmimagesBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not in PATH; cannot build the binary")
	}
	buildOnce.Do(func() {
		out := filepath.Join(binDir, "vmimages")
		cmd := exec.Command(goTool, "build", "-tags", "migrated_fynedo", "-o", out, "vmimages")
		b, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, b)
			return
		}
		binPath = out
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// sandbox is one isolated user: XDG folders, a settings file and a cache
// folder, all under a fresh temporary directory. The settings file and cache
// folder are passed explicitly (--config, --cache-dir); the XDG variables are
// set as well and adrg/xdg reloaded, so that nothing (catalog overlays in
// particular) is read from the real user's folders.
type sandbox struct {
	t      *testing.T
	home   string
	config string // settings file, $XDG_CONFIG_HOME/vmimages/config.toml
	cache  string // cache folder passed with --cache-dir
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	home := t.TempDir()
	// Registered first so it runs last, after t.Setenv restored the
	// environment.
	t.Cleanup(xdg.Reload)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "VMIMAGES_") {
			t.Setenv(k, "") // LoadOptions ignores empty values
		}
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "config"))
	t.Setenv("XDG_CACHE_HOME", filepath.Join(home, "xdg-cache"))
	xdg.Reload()
	return &sandbox{
		t:      t,
		home:   home,
		config: filepath.Join(home, "config", "vmimages", "config.toml"),
		cache:  filepath.Join(home, "cache"),
	}
}

// writeConfig writes the settings file.
func (s *sandbox) writeConfig(body string) {
	s.t.Helper()
	writeFile(s.t, s.config, body)
}

// overlay writes a catalog overlay into $XDG_CONFIG_HOME/vmimages/catalog.d.
func (s *sandbox) overlay(name, body string) {
	s.t.Helper()
	writeFile(s.t, filepath.Join(s.home, "config", "vmimages", "catalog.d", name), body)
}

// imageDir is where the cache keeps an image.
func (s *sandbox) imageDir(distro, version, arch string) string {
	return filepath.Join(s.cache, "images", distro, version, arch)
}

func writeFile(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// result is what one run of the command line left behind.
type result struct {
	code           int
	stdout, stderr string
	args           []string
}

func (r result) String() string {
	return fmt.Sprintf("vmimages %s → exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(r.args, " "), r.code, r.stdout, r.stderr)
}

// run runs the command line in-process with exactly args.
func run(t *testing.T, args ...string) result {
	t.Helper()
	return runEnv(t, cli.Env{}, args...)
}

// runEnv runs the command line in-process; env's writers are replaced by
// buffers.
func runEnv(t *testing.T, env cli.Env, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	env.Stdout, env.Stderr = &out, &errb
	if env.Version == "" {
		env.Version = "1.2.3-test"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	code := cli.Run(ctx, args, env)
	return result{code: code, stdout: out.String(), stderr: errb.String(), args: args}
}

// run runs the command line with the sandbox's settings file and cache.
func (s *sandbox) run(args ...string) result {
	s.t.Helper()
	return run(s.t, append(args, "--config", s.config, "--cache-dir", s.cache)...)
}

// runEnv is run with an explicit Env.
func (s *sandbox) runEnv(env cli.Env, args ...string) result {
	s.t.Helper()
	return runEnv(s.t, env, append(args, "--config", s.config, "--cache-dir", s.cache)...)
}

// ok fails the test unless the run exited 0.
func (r result) ok(t *testing.T) result {
	t.Helper()
	if r.code != cli.ExitOK {
		t.Fatalf("want exit 0\n%s", r)
	}
	return r
}

// object is a decoded JSON object.
type object = map[string]any

// jsonDoc decodes stdout, which must hold exactly one JSON document.
func (r result) jsonDoc(t *testing.T) object {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(r.stdout))
	var doc object
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("stdout is not a JSON object: %v\n%s", err, r)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("stdout holds more than one JSON document\n%s", r)
	}
	return doc
}

// hasKeys fails unless every key is present in m (null counts as present).
func hasKeys(t *testing.T, where string, m object, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := m[k]; !ok {
			t.Errorf("%s: key %q missing in %v", where, k, m)
		}
	}
}

// objects returns m[key] as a list of objects.
func objects(t *testing.T, m object, key string) []object {
	t.Helper()
	raw, ok := m[key].([]any)
	if !ok {
		t.Fatalf("%q is %T, want a list: %v", key, m[key], m)
	}
	out := make([]object, len(raw))
	for i, v := range raw {
		o, ok := v.(object)
		if !ok {
			t.Fatalf("%q[%d] is %T, want an object", key, i, v)
		}
		out[i] = o
	}
	return out
}

// num returns m[key] as a number.
func num(t *testing.T, m object, key string) float64 {
	t.Helper()
	f, ok := m[key].(float64)
	if !ok {
		t.Fatalf("%q is %T (%v), want a number", key, m[key], m[key])
	}
	return f
}

// Mirrors.

const (
	debianBuild    = "20260810-2566"
	debianOldBuild = "20260712-2537"
)

// debianDiskPath is where mirrortest.AddDebian puts a bookworm amd64 disk.
func debianDiskPath(version, codename, build string) string {
	return fmt.Sprintf("/debian/%s/%s/debian-%s-genericcloud-amd64-%s.qcow2", codename, build, version, build)
}

// debianMirror serves Debian 12 (an older and a newer build) and 13 in
// cloud.debian.org's layout; it returns the newest 12 disk.
func debianMirror(t *testing.T) (*mirrortest.Server, []byte) {
	t.Helper()
	srv := mirrortest.New(t)
	disk := mirrortest.Payload("bookworm-new", 300_000)
	srv.AddDebian("/debian", "12", "bookworm", debianOldBuild, "amd64", mirrortest.Payload("bookworm-old", 100_000))
	srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", disk)
	srv.AddDebian("/debian", "13", "trixie", "20260901-2600", "amd64", mirrortest.Payload("trixie", 200_000))
	return srv, disk
}

// ubuntuRelease is a signed Ubuntu release on a mirror, with an overlay
// entry and a settings file that pin its fresh signing key.
type ubuntuRelease struct {
	srv                  *mirrortest.Server
	dir                  string // on the mirror
	fingerprint          string
	disk, kernel, initrd []byte
}

// signedUbuntu publishes Ubuntu 24.04 amd64 signed by a new key, and writes
// an "ubuntu" overlay and a settings file [[keys]] entry pinning that key
// into the sandbox.
func signedUbuntu(t *testing.T, s *sandbox) *ubuntuRelease {
	t.Helper()
	signer := mirrortest.NewSigner(t)
	fp := signer.Fingerprint
	writeFile(t, filepath.Join(filepath.Dir(s.config), "test-signer.asc"), string(signer.PublicKey))
	s.overlay("ubuntu.toml", mirrortest.UbuntuOverlay(fp))
	// A relative key file is relative to the settings file's folder.
	s.writeConfig(`
[[keys]]
distro = "ubuntu"
fingerprint = "` + fp + `"
file = "test-signer.asc"
`)
	u := &ubuntuRelease{
		srv:         mirrortest.New(t),
		fingerprint: fp,
		disk:        mirrortest.Payload("noble-disk", 200_000),
		kernel:      mirrortest.Payload("noble-kernel", 30_000),
		initrd:      mirrortest.Payload("noble-initrd", 50_000),
	}
	u.dir = u.srv.AddUbuntu("/ubuntu", "24.04", "noble", "20260926", "amd64", u.disk, u.kernel, u.initrd)
	u.srv.Put(u.dir+"SHA256SUMS.gpg", signer.Detach(t, u.srv.Get(u.dir+"SHA256SUMS")))
	u.srv.Put(u.dir+"unpacked/SHA256SUMS.gpg", signer.Detach(t, u.srv.Get(u.dir+"unpacked/SHA256SUMS")))
	return u
}
