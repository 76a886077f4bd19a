package cli_test

import (
	"slices"
	"strings"
	"testing"

	"vmimages/cli"
	"vmimages/internal/mirrortest"
)

var shippedDistros = []string{"ubuntu", "debian", "fedora", "almalinux", "rocky", "centos-stream", "alpine", "arch", "opensuse"}

func TestCatalogJSONListsEveryShippedDistro(t *testing.T) {
	s := newSandbox(t)
	doc := s.run("catalog", "--json").ok(t).jsonDoc(t)
	distros := objects(t, doc, "distros")
	seen := map[string]object{}
	for _, d := range distros {
		id, _ := d["id"].(string)
		hasKeys(t, "distro "+id, d, "id", "name", "base", "versions")
		if base, _ := d["base"].(string); !strings.HasPrefix(base, "https://") || !strings.HasSuffix(base, "/") {
			t.Errorf("%s: base %q, want an https:// URL ending in /", id, base)
		}
		versions := objects(t, d, "versions")
		if len(versions) == 0 {
			t.Errorf("%s: no versions", id)
		}
		for _, v := range versions {
			where := "distro " + id + " version " + v["version"].(string)
			hasKeys(t, where, v, "version", "codename", "arches", "assets")
			if arches, _ := v["arches"].([]any); len(arches) == 0 {
				t.Errorf("%s: no arches", where)
			}
			if assets, _ := v["assets"].([]any); !slices.Contains(assets, any("disk")) {
				t.Errorf("%s: assets %v lack disk", where, v["assets"])
			}
		}
		seen[id] = d
	}
	for _, id := range shippedDistros {
		if seen[id] == nil {
			t.Errorf("catalog --json lacks %s", id)
		}
	}
	// Ubuntu publishes a kernel and an initramfs beside the disk.
	if u := seen["ubuntu"]; u != nil {
		v := objects(t, u, "versions")[0]
		for _, role := range []string{"kernel", "initramfs", "disk"} {
			if !slices.Contains(v["assets"].([]any), any(role)) {
				t.Errorf("ubuntu %v: assets %v lack %s", v["version"], v["assets"], role)
			}
		}
	}
	// One distro only.
	one := s.run("catalog", "debian", "--json").ok(t).jsonDoc(t)
	if d := objects(t, one, "distros"); len(d) != 1 || d[0]["id"] != "debian" {
		t.Errorf("catalog debian --json = %v", one)
	}
	// The table names every distro too.
	text := s.run("catalog").ok(t).stdout
	for _, id := range shippedDistros {
		if !strings.Contains(text, id+" ") {
			t.Errorf("catalog table lacks %s:\n%s", id, text)
		}
	}
}

// TestMirrorPrecedence: --mirror beats VMIMAGES_MIRROR_<DISTRO> beats the
// settings file's [mirrors], and each changes the distro's base.
func TestMirrorPrecedence(t *testing.T) {
	const (
		cfgURL  = "http://config.example/debian/"
		envURL  = "http://env.example/debian/"
		flagURL = "http://flag.example/debian/"
	)
	cases := []struct {
		name            string
		config, env     string
		flag            []string
		distro, want    string
		envName         string
		otherUnaffected bool
	}{
		{name: "default", distro: "debian", want: "https://cloud.debian.org/images/cloud/"},
		{name: "config", config: cfgURL, distro: "debian", want: cfgURL},
		{name: "env beats config", config: cfgURL, env: envURL, distro: "debian", want: envURL},
		{name: "flag beats env and config", config: cfgURL, env: envURL, flag: []string{"--mirror", "debian=" + flagURL}, distro: "debian", want: flagURL},
		{name: "flag alone, slash added", flag: []string{"--mirror", "DEBIAN=http://flag.example/debian"}, distro: "debian", want: flagURL},
		{name: "env names a dashed distro", env: "http://env.example/centos/", envName: "VMIMAGES_MIRROR_CENTOS_STREAM", distro: "centos-stream", want: "http://env.example/centos/"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			if tc.config != "" {
				s.writeConfig("[mirrors]\n" + tc.distro + " = \"" + tc.config + "\"\n")
			}
			if tc.env != "" {
				name := tc.envName
				if name == "" {
					name = "VMIMAGES_MIRROR_DEBIAN"
				}
				t.Setenv(name, tc.env)
			}
			doc := s.run(append([]string{"catalog", "--json"}, tc.flag...)...).ok(t).jsonDoc(t)
			for _, d := range objects(t, doc, "distros") {
				switch d["id"] {
				case tc.distro:
					if d["base"] != tc.want {
						t.Errorf("%s base = %v, want %s", tc.distro, d["base"], tc.want)
					}
				case "ubuntu":
					if d["base"] != "https://cloud-images.ubuntu.com/releases/" {
						t.Errorf("ubuntu base changed to %v", d["base"])
					}
				}
			}
		})
	}
}

func TestResolveDebianFromMirror(t *testing.T) {
	s := newSandbox(t)
	srv, disk := debianMirror(t)
	mirror := "debian=" + srv.URL + "/debian"
	wantURL := srv.URL + debianDiskPath("12", "bookworm", debianBuild)
	wantDigest := "sha512:" + mirrortest.SHA512(disk)

	doc := s.run("resolve", "debian", "12", "--arch", "amd64", "--json", "--mirror", mirror).ok(t).jsonDoc(t)
	hasKeys(t, "resolve", doc, "distro", "version", "arch", "build", "assets", "signature")
	for k, want := range map[string]string{"distro": "debian", "version": "12", "arch": "x86_64", "build": debianBuild} {
		if doc[k] != want {
			t.Errorf("%s = %v, want %s", k, doc[k], want)
		}
	}
	assets := objects(t, doc, "assets")
	if len(assets) != 1 {
		t.Fatalf("assets = %v, want one disk", assets)
	}
	a := assets[0]
	hasKeys(t, "asset", a, "role", "url", "digest", "size", "format")
	if a["role"] != "disk" || a["url"] != wantURL || a["digest"] != wantDigest || a["format"] != "qcow2" {
		t.Errorf("asset = %v\nwant url %s digest %s", a, wantURL, wantDigest)
	}
	// SHA512SUMS carries no sizes: -1 says "unknown", anything else must be right.
	if size := num(t, a, "size"); size != -1 && size != float64(len(disk)) {
		t.Errorf("size = %v, want %d or -1", size, len(disk))
	}
	sig, ok := doc["signature"].(object)
	if !ok {
		t.Fatalf("signature = %v", doc["signature"])
	}
	hasKeys(t, "signature", sig, "status", "signer", "signed_at")
	if sig["status"] != "unsigned" || sig["signed_at"] != nil {
		t.Errorf("signature = %v, want unsigned with signed_at null", sig)
	}
	if n := srv.Count(".qcow2"); n != 0 {
		t.Errorf("resolve fetched the disk %d times; it must read manifests only", n)
	}

	// The loopback mirror is plain http: the note must not claim HTTPS.
	if note, _ := sig["note"].(string); strings.Contains(note, "HTTPS") || !strings.Contains(note, "plain HTTP") {
		t.Errorf("signature note %q: the checksums came over plain http", note)
	}
	text := s.run("resolve", "debian", "bookworm", "--arch", "x86_64", "--mirror", mirror).ok(t).stdout
	for _, want := range []string{"Debian 12 (bookworm) x86_64, build " + debianBuild, wantURL, wantDigest, "signature: checksum over plain HTTP (allowed for this mirror); not signed upstream"} {
		if !strings.Contains(text, want) {
			t.Errorf("resolve text lacks %q:\n%s", want, text)
		}
	}
}

func TestResolveSignedUbuntu(t *testing.T) {
	s := newSandbox(t)
	u := signedUbuntu(t, s)
	doc := s.run("resolve", "ubuntu", "24.04", "--arch", "amd64", "--json", "--mirror", "ubuntu="+u.srv.URL+"/ubuntu/").ok(t).jsonDoc(t)
	if doc["build"] != "20260926" {
		t.Errorf("build = %v", doc["build"])
	}
	want := map[string]string{
		"disk":      "sha256:" + mirrortest.SHA256(u.disk),
		"kernel":    "sha256:" + mirrortest.SHA256(u.kernel),
		"initramfs": "sha256:" + mirrortest.SHA256(u.initrd),
	}
	for _, a := range objects(t, doc, "assets") {
		hasKeys(t, "asset "+a["role"].(string), a, "role", "url", "digest", "size", "format")
		role, _ := a["role"].(string)
		if a["digest"] != want[role] {
			t.Errorf("%s digest = %v, want %s", role, a["digest"], want[role])
		}
		if url, _ := a["url"].(string); !strings.HasPrefix(url, u.srv.URL+u.dir) {
			t.Errorf("%s url %s is not under the mirror's %s", role, url, u.dir)
		}
		delete(want, role)
	}
	if len(want) != 0 {
		t.Errorf("assets missing: %v", want)
	}
	sig, _ := doc["signature"].(object)
	hasKeys(t, "signature", sig, "status", "signer", "signed_at")
	if sig["status"] != "verified" || sig["signer"] != u.fingerprint || sig["signed_at"] == nil {
		t.Errorf("signature = %v, want verified by %s with a time", sig, u.fingerprint)
	}
}

func TestExitCodes(t *testing.T) {
	s := newSandbox(t)
	cases := []struct {
		name   string
		args   []string
		global bool // add --config and --cache-dir
		code   int
		stdout []string
		stderr []string
	}{
		{name: "unknown distro", args: []string{"resolve", "nosuch", "1"}, global: true, code: cli.ExitUsage,
			stderr: []string{`unknown distro "nosuch"`, "ubuntu", "debian", "centos-stream", "opensuse"}},
		{name: "unknown distro (pull)", args: []string{"pull", "nosuch", "1"}, global: true, code: cli.ExitUsage,
			stderr: []string{`unknown distro "nosuch"`, "debian"}},
		{name: "unknown version", args: []string{"resolve", "debian", "99"}, global: true, code: cli.ExitUsage,
			stderr: []string{`unknown version "99"`, "12", "13", "latest"}},
		{name: "unknown arch", args: []string{"resolve", "debian", "12", "--arch", "s390x"}, global: true, code: cli.ExitUsage,
			stderr: []string{`unknown arch "s390x"`, "aarch64", "x86_64"}},
		{name: "unknown arch (pull)", args: []string{"pull", "arch", "rolling", "--arch", "arm64"}, global: true, code: cli.ExitUsage,
			stderr: []string{`unknown arch "aarch64"`, "x86_64"}},
		{name: "bad flag", args: []string{"resolve", "debian", "12", "--bogus"}, global: true, code: cli.ExitUsage,
			stderr: []string{"bogus", "vmimages help resolve"}},
		{name: "bad global flag", args: []string{"--bogus", "list"}, code: cli.ExitUsage, stderr: []string{"bogus"}},
		{name: "flag without value", args: []string{"pull", "debian", "12", "--arch"}, code: cli.ExitUsage,
			stderr: []string{"arch"}},
		{name: "malformed mirror", args: []string{"catalog", "--mirror", "debian"}, global: true, code: cli.ExitUsage,
			stderr: []string{"DISTRO=URL"}},
		{name: "missing arguments", args: []string{"resolve", "debian"}, global: true, code: cli.ExitUsage,
			stderr: []string{"DISTRO VERSION"}},
		{name: "unknown command", args: []string{"frobnicate"}, code: cli.ExitUsage, stderr: []string{"frobnicate", "pull", "prune"}},
		{name: "prune without a rule", args: []string{"prune"}, global: true, code: cli.ExitUsage, stderr: []string{"--keep"}},
		{name: "prune bad age", args: []string{"prune", "--older-than", "soon"}, global: true, code: cli.ExitUsage, stderr: []string{"--older-than"}},
		{name: "help", args: []string{"help"}, code: cli.ExitOK, stdout: []string{"Usage:", "pull DISTRO VERSION", "Exit codes"}},
		{name: "no arguments", args: nil, code: cli.ExitOK, stdout: []string{"Usage:"}},
		{name: "-h", args: []string{"-h"}, code: cli.ExitOK, stdout: []string{"Usage:"}},
		{name: "help pull", args: []string{"help", "pull"}, code: cli.ExitOK, stdout: []string{"Usage: vmimages pull DISTRO VERSION", "-raw", "-arch", "-mirror"}},
		{name: "pull --help", args: []string{"pull", "--help"}, code: cli.ExitOK, stdout: []string{"Usage: vmimages pull DISTRO VERSION", "-raw"}},
		{name: "help unknown", args: []string{"help", "nosuch"}, code: cli.ExitUsage, stderr: []string{"nosuch"}},
		{name: "--version", args: []string{"--version"}, code: cli.ExitOK, stdout: []string{"vmimages 1.2.3-test"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var r result
			if tc.global {
				r = s.run(tc.args...)
			} else {
				r = run(t, tc.args...)
			}
			if r.code != tc.code {
				t.Errorf("exit %d, want %d\n%s", r.code, tc.code, r)
			}
			for _, w := range tc.stdout {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("stdout lacks %q\n%s", w, r)
				}
			}
			for _, w := range tc.stderr {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q\n%s", w, r)
				}
			}
			if tc.code != cli.ExitOK && r.stdout != "" {
				t.Errorf("a failed run printed to stdout\n%s", r)
			}
		})
	}
}
