package cli_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"vmimages/cli"
	"vmimages/core/registry"
	"vmimages/internal/mirrortest"
	"vmimages/internal/registrytest"
)

// These tests publish to and pull from a real registry (Debian's
// docker-registry, started on 127.0.0.1 by registrytest), through the
// command line.

// strs returns doc[key] as a list of strings.
func strs(t *testing.T, doc object, key string) []string {
	t.Helper()
	raw, ok := doc[key].([]any)
	if !ok {
		t.Fatalf("%q is %T, want a list: %v", key, doc[key], doc)
	}
	var out []string
	for _, v := range raw {
		out = append(out, fmt.Sprint(v))
	}
	return out
}

// deadURL is a base URL on which nothing listens.
func deadURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "http://" + addr
}

// pushedDebian pulls Debian 12 from a mirror into one sandbox and pushes it
// to reg under lab/vm; it returns the disk's bytes.
func pushedDebian(t *testing.T, reg *registrytest.Registry) []byte {
	t.Helper()
	s := newSandbox(t)
	srv, disk := debianMirror(t)
	s.run("pull", "debian", "12", "--arch", "amd64", "-q", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	doc := s.run("push", "debian", "12", "--arch", "amd64", reg.Ref("lab/vm"), "--json").ok(t).jsonDoc(t)
	if !slices.Contains(strs(t, doc, "sent"), "disk") {
		t.Fatalf("first push did not send the disk: %v", doc)
	}
	return disk
}

// freshPull pulls Debian 12 into a new, empty cache from the registry, with
// the upstream mirror unreachable.
func freshPull(t *testing.T, reg string, extra ...string) (*sandbox, result) {
	t.Helper()
	s := newSandbox(t)
	args := append([]string{"pull", "debian", "12", "--arch", "amd64", "--json", "--registry", reg,
		"--mirror", "debian=" + deadURL(t) + "/debian/"}, extra...)
	return s, s.run(args...)
}

// nothingCached fails unless the image left no disk and no metadata.
func nothingCached(t *testing.T, s *sandbox, distro, version, arch string) {
	t.Helper()
	dir := s.imageDir(distro, version, arch)
	for _, name := range []string{"meta.json", "disk.qcow2", "disk.img", ".next-disk.qcow2", ".next-disk.img"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			t.Errorf("%s is in the cache after a failed pull", name)
		}
	}
}

func TestRegistryPushThenPullWithUpstreamDown(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	disk := pushedDebian(t, reg)

	// A second push from another machine's cache sends no disk blob.
	s2 := newSandbox(t)
	srv, _ := debianMirror(t)
	s2.run("pull", "debian", "12", "--arch", "amd64", "-q", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	doc := s2.run("push", "debian", "12", "--arch", "amd64", reg.Ref("lab/vm"), "--json").ok(t).jsonDoc(t)
	if slices.Contains(strs(t, doc, "sent"), "disk") || !slices.Contains(strs(t, doc, "skipped"), "disk") {
		t.Errorf("second push sent the disk again: %v", doc)
	}
	if got := strs(t, doc, "tags"); !slices.Equal(got, []string{"12-x86_64", "12-x86_64-" + debianBuild}) {
		t.Errorf("tags = %v", got)
	}
	if ex, ok := readmeJSONExamples(t)["push"]; !ok {
		t.Error("no README example for push --json")
	} else {
		sameKeys(t, "push", ex, doc)
	}

	s, r := freshPull(t, reg.Ref("lab/vm"))
	r.ok(t)
	pulled := r.jsonDoc(t)
	if pulled["build"] != debianBuild {
		t.Errorf("build = %v", pulled["build"])
	}
	if sig, _ := pulled["signature"].(object); sig["status"] != "unsigned" {
		t.Errorf("Debian from a registry: signature %v, want unsigned", sig)
	}
	got, err := os.ReadFile(filepath.Join(s.imageDir("debian", "12", "x86_64"), "disk.qcow2"))
	if err != nil || !bytes.Equal(got, disk) {
		t.Fatalf("pulled disk differs from the pushed one (%v)", err)
	}
	if strings.Contains(r.stderr, "from upstream instead") {
		t.Errorf("a registry pull should need no fallback note:\n%s", r)
	}
	// The registry-pulled image keeps its proof: it can be pushed on.
	s.run("push", "debian", "12", "--arch", "amd64", reg.Ref("lab/other")).ok(t)
	s.run("verify", "debian", "12", "--arch", "amd64").ok(t)
}

func TestRegistryTamperedBlobIsRefused(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	disk := pushedDebian(t, reg)
	blob := reg.BlobPath("sha256:" + mirrortest.SHA256(disk))
	b, err := os.ReadFile(blob)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(blob, b, 0o644); err != nil {
		t.Fatal(err)
	}
	s, r := freshPull(t, reg.Ref("lab/vm"))
	if r.code != cli.ExitIntegrity {
		t.Fatalf("want exit 3 for a tampered registry blob\n%s", r)
	}
	nothingCached(t, s, "debian", "12", "x86_64")
}

func TestRegistryEditedAnnotationDigestIsRefused(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	pushedDebian(t, reg)
	evil := mirrortest.Payload("evil", 300_000)
	reg.EditManifest(t, "lab/vm/debian", "12-x86_64", func(m *ocispec.Manifest, upload func(string, []byte) ocispec.Descriptor) {
		for i, l := range m.Layers {
			if l.Annotations[registry.AnnotationRole] == registry.RoleDisk {
				// Other bytes, a consistent OCI digest, and an upstream
				// digest that matches them: only the distribution's
				// checksum file can tell.
				d := upload(l.MediaType, evil)
				d.Annotations = l.Annotations
				d.Annotations[registry.AnnotationUpstreamDigest] = "sha512:" + mirrortest.SHA512(evil)
				m.Layers[i] = d
			}
		}
	})
	s, r := freshPull(t, reg.Ref("lab/vm"))
	if r.code != cli.ExitIntegrity || !strings.Contains(r.stderr, "not in the distribution's checksum file") {
		t.Fatalf("want exit 3 naming the checksum file\n%s", r)
	}
	nothingCached(t, s, "debian", "12", "x86_64")
}

func TestRegistrySignedUbuntuAndReplacedSignature(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	s := newSandbox(t)
	u := signedUbuntu(t, s)
	mirror := "ubuntu=" + u.srv.URL + "/ubuntu/"
	s.run("pull", "ubuntu", "24.04", "--arch", "amd64", "-q", "--mirror", mirror).ok(t)
	s.run("push", "ubuntu", "24.04", "--arch", "amd64", reg.Ref("lab")).ok(t)

	// Same user (same pinned key), fresh cache, upstream unreachable.
	pull := func() result {
		cache := filepath.Join(t.TempDir(), "cache")
		return run(t, "pull", "ubuntu", "24.04", "--arch", "amd64", "--json", "--registry", reg.Ref("lab"),
			"--mirror", "ubuntu="+deadURL(t)+"/ubuntu/", "--config", s.config, "--cache-dir", cache)
	}
	r := pull().ok(t)
	doc := r.jsonDoc(t)
	sig, _ := doc["signature"].(object)
	if sig["status"] != "verified" || sig["signer"] != u.fingerprint {
		t.Errorf("signature from the registry = %v, want verified by %s", sig, u.fingerprint)
	}
	if doc["kernel"] == nil || doc["initramfs"] == nil {
		t.Errorf("kernel and initramfs should come from the registry too: %v", doc)
	}

	// A real Ubuntu signature (by Canonical's key, over another release's
	// SHA256SUMS) in place of the stored one.
	real, err := os.ReadFile("../core/trust/testdata/ubuntu/noble-current-20260926/SHA256SUMS.gpg")
	if err != nil {
		t.Fatal(err)
	}
	reg.EditManifest(t, "lab/ubuntu", "24.04-x86_64", func(m *ocispec.Manifest, upload func(string, []byte) ocispec.Descriptor) {
		for i, l := range m.Layers {
			if l.MediaType == registry.MediaTypeSignature {
				d := upload(l.MediaType, real)
				d.Annotations = l.Annotations
				m.Layers[i] = d
			}
		}
	})
	r = pull()
	if r.code != cli.ExitIntegrity || !strings.Contains(r.stderr, "signature") {
		t.Fatalf("want exit 3 for a replaced signature\n%s", r)
	}
}

func TestRegistryDroppedConnectionResumes(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	disk := pushedDebian(t, reg)
	proxy := registrytest.NewProxy(t, reg.Host, int64(len(disk))/2)
	s, r := freshPull(t, "oci://"+proxy.Host+"/lab/vm")
	r.ok(t)
	if !proxy.Cut() {
		t.Fatal("the proxy never cut the connection")
	}
	resumed := false
	for _, rg := range proxy.Ranges() {
		var from int64
		if _, err := fmt.Sscanf(rg, "bytes=%d-", &from); err == nil && from > 0 {
			resumed = true
		}
	}
	if !resumed {
		t.Errorf("no request resumed with a Range from a non-zero offset: %v", proxy.Ranges())
	}
	got, err := os.ReadFile(filepath.Join(s.imageDir("debian", "12", "x86_64"), "disk.qcow2"))
	if err != nil || !bytes.Equal(got, disk) {
		t.Fatalf("resumed disk differs (%v)", err)
	}
}

func TestRegistryDownFallsBackToUpstream(t *testing.T) {
	s := newSandbox(t)
	srv, _ := debianMirror(t)
	dead := "oci://" + strings.TrimPrefix(deadURL(t), "http://") + "/lab"
	s.writeConfig(`registry = "` + dead + `"` + "\n")
	r := s.run("pull", "debian", "12", "--arch", "amd64", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	if !strings.Contains(r.stderr, "registry "+dead) || !strings.Contains(r.stderr, "pulled from upstream instead") {
		t.Errorf("stderr should say the registry was skipped and why\n%s", r)
	}
	// A registry address that is not one is a usage error.
	if r := s.run("pull", "debian", "12", "--registry", "https://registry.lab/x"); r.code != cli.ExitUsage || !strings.Contains(r.stderr, "oci://") {
		t.Errorf("want exit 2 for a bad --registry\n%s", r)
	}
	// --registry none: the settings' registry is not tried at all.
	s.run("rm", "debian", "12", "--arch", "amd64").ok(t)
	r = s.run("pull", "debian", "12", "--arch", "amd64", "--registry", "none", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	if strings.Contains(r.stderr, "registry") {
		t.Errorf("--registry none still tried the registry\n%s", r)
	}
}

func TestRegistryPushRefusesADamagedCache(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	s := newSandbox(t)
	srv, disk := debianMirror(t)
	s.run("pull", "debian", "12", "--arch", "amd64", "-q", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	bad := append([]byte(nil), disk...)
	bad[100] ^= 1
	writeFile(t, filepath.Join(s.imageDir("debian", "12", "x86_64"), "disk.qcow2"), string(bad))
	r := s.run("push", "debian", "12", "--arch", "amd64", reg.Ref("lab/vm"))
	if r.code != cli.ExitIntegrity {
		t.Fatalf("want exit 3 for a cached disk that no longer matches\n%s", r)
	}
	resp, err := reg.HTTPClient().Get(reg.BaseURL() + "/v2/lab/vm/debian/tags/list")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("the registry has the repository after a refused push (status %d)", resp.StatusCode)
	}
}

func TestRegistryTLSBasicAuthThroughTheBinary(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{Auth: true})
	s := newSandbox(t)
	srv, disk := debianMirror(t)
	s.run("pull", "debian", "12", "--arch", "amd64", "-q", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	docker := t.TempDir()
	env := append(procEnv(t), "SSL_CERT_FILE="+reg.CAFile, "DOCKER_CONFIG="+docker, "XDG_RUNTIME_DIR="+t.TempDir())
	common := []string{"--config", s.config, "--cache-dir", s.cache}

	p := startProc(t, env, append([]string{"push", "debian", "12", "--arch", "amd64", reg.Ref("lab/vm")}, common...)...)
	if code := p.wait(t, time.Minute); code != cli.ExitFailure || !strings.Contains(p.stderr.String(), "vmimages login") {
		t.Fatalf("push without credentials: exit %d, want 1 with a hint to log in\n%s", code, p.stderr)
	}
	login := func(password string) (int, string) {
		cmd := exec.Command(vmimagesBinary(t), "login", reg.Host, "--username", registrytest.User, "--password-stdin")
		cmd.Env, cmd.Stdin = env, strings.NewReader(password+"\n")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), stderr.String()
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, stderr.String()
	}
	if code, stderr := login("wrong"); code == cli.ExitOK {
		t.Fatalf("login with a wrong password succeeded\n%s", stderr)
	}
	if code, stderr := login(registrytest.Password); code != cli.ExitOK {
		t.Fatalf("login: exit %d\n%s", code, stderr)
	}
	cfg, err := os.ReadFile(filepath.Join(docker, "config.json"))
	if err != nil || !strings.Contains(string(cfg), reg.Host) {
		t.Fatalf("login did not save to the Docker config: %s %v", cfg, err)
	}
	p = startProc(t, env, append([]string{"push", "debian", "12", "--arch", "amd64", reg.Ref("lab/vm")}, common...)...)
	if code := p.wait(t, time.Minute); code != cli.ExitOK {
		t.Fatalf("push after login: exit %d\n%s", code, p.stderr)
	}

	// Another machine with only Podman's auth file.
	var auths struct {
		Auths map[string]json.RawMessage `json:"auths"`
	}
	if err := json.Unmarshal(cfg, &auths); err != nil || auths.Auths[reg.Host] == nil {
		t.Fatalf("no auths entry for %s in %s (%v)", reg.Host, cfg, err)
	}
	runtime := t.TempDir()
	writeFile(t, filepath.Join(runtime, "containers", "auth.json"), string(cfg))
	env2 := append(procEnv(t), "SSL_CERT_FILE="+reg.CAFile, "DOCKER_CONFIG="+t.TempDir(), "XDG_RUNTIME_DIR="+runtime)
	cache := filepath.Join(t.TempDir(), "cache")
	p = startProc(t, env2, "pull", "debian", "12", "--arch", "amd64", "--registry", reg.Ref("lab/vm"),
		"--mirror", "debian="+deadURL(t)+"/debian/", "--cache-dir", cache, "--config", s.config)
	if code := p.wait(t, time.Minute); code != cli.ExitOK {
		t.Fatalf("pull with Podman's credentials: exit %d\n%s", code, p.stderr)
	}
	got, err := os.ReadFile(filepath.Join(cache, "images", "debian", "12", "x86_64", "disk.qcow2"))
	if err != nil || !bytes.Equal(got, disk) {
		t.Fatalf("pulled disk differs (%v)", err)
	}
}

func TestRegistryAnotherReleaseUnderTheTagIsRefused(t *testing.T) {
	reg := registrytest.Start(t, registrytest.Options{})
	pushedDebian(t, reg)
	// The registry answers for Debian 13 with Debian 12's artifact, its
	// annotations edited to say 13: every digest and checksum still holds.
	rewrite := func(m *ocispec.Manifest, _ func(string, []byte) ocispec.Descriptor) {
		m.Annotations[registry.AnnotationVersion] = "13"
	}
	reg.EditManifest(t, "lab/vm/debian", "12-x86_64", rewrite)
	ref := reg.Ref("lab/vm")
	reg.CopyTag(t, "lab/vm/debian", "12-x86_64", "13-x86_64")
	s := newSandbox(t)
	r := s.run("pull", "debian", "13", "--arch", "amd64", "--registry", ref, "--mirror", "debian="+deadURL(t)+"/debian/")
	if r.code != cli.ExitIntegrity || !strings.Contains(r.stderr, "is not a disk file of debian/13/x86_64") {
		t.Fatalf("want exit 3 for another release under the tag\n%s", r)
	}
	nothingCached(t, s, "debian", "13", "x86_64")
}
