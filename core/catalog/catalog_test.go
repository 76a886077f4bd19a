package catalog_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"vmimages/core/catalog"
)

// minimal is a valid one-distro catalog; tests break it one line at a time.
const minimal = `[[distro]]
id = "example"
base = "https://mirror.example.org/example/"
arches = { x86_64 = "amd64" }
dir = "{version}/"
assets = [{ role = "disk", file = "example-{version}-{arch}.qcow2", format = "qcow2", checksums = "SHA256SUMS" }]
versions = [{ version = "1" }]
`

func TestLoadMinimal(t *testing.T) {
	c, err := catalog.Load(strings.NewReader(minimal), "minimal.toml")
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.Distro("example")
	if err != nil {
		t.Fatal(err)
	}
	// Defaults filled in by validation.
	if d.Name != "example" || d.Boot != catalog.BootFirmware || d.Signature.Kind != catalog.SigNone || d.Source != "minimal.toml" {
		t.Errorf("defaults: name %q boot %q signature %q source %q", d.Name, d.Boot, d.Signature.Kind, d.Source)
	}
}

// TestLoadSyntaxErrors: a TOML syntax error names the file and the line.
func TestLoadSyntaxErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		line string // "file:line" that must appear
	}{
		{"unterminated string", "[[distro]]\nid = \"x\"\nname = \"broken\n", "bad.toml:3"},
		{"missing value", "[[distro]]\nid = \"x\"\n\nbase =\n", "bad.toml:4"},
		{"unclosed inline table", minimal[:strings.Index(minimal, "arches")] + "arches = { x86_64 = \"amd64\"\n", "bad.toml:4"},
		{"duplicate key", "[[distro]]\nid = \"x\"\nid = \"y\"\n", "bad.toml:3"},
		{"garbage line", "# comment\n[[distro]]\nthis is not toml\n", "bad.toml:3"},
		{"bad table header", "[[distro] ]\nid = \"x\"\n", "bad.toml:1"},
		{"two values", "[[distro]]\nid = \"x\" \"y\"\n", "bad.toml:2"},
		{"empty inline value", "[[distro]]\nid = \"x\"\narches = { x86_64 = }\n", "bad.toml:3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := catalog.Load(strings.NewReader(tt.doc), "bad.toml")
			if err == nil {
				t.Fatal("loaded a broken file")
			}
			if !errors.Is(err, catalog.ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), tt.line+":") {
				t.Errorf("error %q does not name %s", err, tt.line)
			}
		})
	}
}

// TestLoadSchemaErrors: keys the schema does not know and values it does not
// accept are rejected, naming the file.
func TestLoadSchemaErrors(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(minimal, old) {
			panic("test bug: " + old)
		}
		return strings.Replace(minimal, old, new, 1)
	}
	tests := []struct {
		name string
		doc  string
		want string
	}{
		{"unknown distro key", replace(`id = "example"`, "id = \"example\"\ncolour = \"red\""), "colour"},
		{"misspelled key", replace(`dir = `, `directory = `), "directory"},
		{"unknown asset key", replace(`format = "qcow2"`, `format = "qcow2", sha = "x"`), "sha"},
		{"unknown version key", replace(`{ version = "1" }`, `{ version = "1", released = "2026" }`), "released"},
		{"unknown top-level key", "schema = 2\n" + minimal, "schema"},
		{"wrong type", replace(`id = "example"`, `id = 7`), "id"},
		{"bad id", replace(`id = "example"`, `id = "Example Linux"`), "Example Linux"},
		{"http base only", replace(`https://mirror.example.org/example/`, `ftp://mirror.example.org/`), "ftp://"},
		{"bad boot", replace(`dir = `, "boot = \"pxe\"\ndir = "), "boot"},
		{"detached signature without file", replace(`dir = `, "signature = { kind = \"detached\", keys = [\"D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81\"] }\ndir = "), "signature.file"},
		{"detached signature without keys", replace(`dir = `, "signature = { kind = \"detached\", file = \"{checksums}.gpg\" }\ndir = "), "no keys are named"},
		{"clearsigned without keys", replace(`dir = `, "signature = { kind = \"clearsigned\" }\ndir = "), "no keys are named"},
		{"clearsigned, empty keys", replace(`dir = `, "signature = { kind = \"clearsigned\", keys = [] }\ndir = "), "no keys are named"},
		{"one version without keys", replace(`versions = [{ version = "1" }]`, "signature = { kind = \"clearsigned\" }\nversions = [{ version = \"1\", keys = [\"D2EB44626FDDC30B513D5BB71A5D6C4C7DB87C81\"] }, { version = \"2\" }]"), "example 2"},
		{"version signature without keys", replace(`{ version = "1" }`, `{ version = "1", signature = { kind = "clearsigned" } }`), "no keys are named"},
		{"version signature kind", replace(`{ version = "1" }`, `{ version = "1", signature = { kind = "x509" } }`), "signature.kind"},
		{"bad signature kind", replace(`dir = `, "signature = { kind = \"x509\" }\ndir = "), "signature.kind"},
		{"arch not canonical", replace(`x86_64 = "amd64"`, `amd64 = "amd64"`), "x86_64"},
		{"version arch without spelling", replace(`{ version = "1" }`, `{ version = "1", arches = ["s390x"] }`), "s390x"},
		{"no versions", replace(`versions = [{ version = "1" }]`, ``), "no versions"},
		{"no dir", replace(`dir = "{version}/"`, ``), "no dir"},
		{"no disk", replace(`role = "disk"`, `role = "kernel"`), "no disk"},
		{"bad role", replace(`role = "disk"`, `role = "iso"`), "iso"},
		{"asset without checksums", replace(`, checksums = "SHA256SUMS"`, ``), "checksums"},
		{"bad discover regexp", replace(`dir = `, "discover = [{ list = \"\", match = '(?P<build>[' }]\ndir = "), "discover match"},
		{"discover without match", replace(`dir = `, "discover = [{ list = \"\" }]\ndir = "), "without match"},
		{"manifest step without manifest", replace(`dir = `, "discover = [{ list = \"\", source = \"manifest\", match = 'x' }]\ndir = "), "needs manifest"},
		{"discover order names no group", replace(`dir = `, "discover = [{ list = \"\", match = '(?P<build>x)', order = [\"point\"] }]\ndir = "), "does not capture"},
		{"discover prefer names no group", replace(`dir = `, "discover = [{ list = \"\", match = '(?P<build>x)', prefer = { vendor = [\"a\"] } }]\ndir = "), "does not capture"},
		{"bad discover source", replace(`dir = `, "discover = [{ list = \"\", source = \"json\", match = 'x' }]\ndir = "), "listing or manifest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := catalog.Load(strings.NewReader(tt.doc), "schema.toml")
			if err == nil {
				t.Fatalf("loaded %+v", c.Distros[0])
			}
			if !errors.Is(err, catalog.ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			if !strings.Contains(err.Error(), "schema.toml") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q should name schema.toml and %q", err, tt.want)
			}
		})
	}
}

// TestLoadWithOverlays: overlays replace by id, add new ids, and a broken one
// is reported without stopping the rest.
func TestLoadWithOverlays(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	debian := write("10-debian.toml", `# Debian from a local mirror, 13 only.
[[distro]]
id = "debian"
name = "Debian (local)"
base = "https://mirror.example.org/debian-cloud/"
arches = { x86_64 = "amd64" }
dir = "{codename}/latest/"
assets = [{ role = "disk", file = "debian-{version}-genericcloud-{arch}.qcow2", format = "qcow2", checksums = "SHA512SUMS" }]
versions = [{ version = "13", codename = "trixie" }]
`)
	broken := write("20-broken.toml", `[[distro]]
id = "broken"
base = "https://example.org/"
arches = { x86_64 = "x86_64" }
dir = "oops
`)
	gentoo := write("30-gentoo.toml", `[[distro]]
id = "gentoo"
name = "Gentoo"
base = "https://distfiles.gentoo.org/releases/"
arches = { x86_64 = "amd64" }
dir = "{arch}/autobuilds/current-di-{arch}-openrc/"
assets = [{ role = "disk", file = "di-{arch}-openrc.qcow2", format = "qcow2", checksums = "di-{arch}-openrc.qcow2.sha256" }]
versions = [{ version = "rolling" }]
`)
	invalid := write("40-invalid.toml", minimal+"boot = \"pxe\"\n")
	write("README.md", "not a catalog")
	write("50-ignored.toml.bak", "[[[")

	c, problems, err := catalog.LoadWithOverlays(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, p := range problems {
		files = append(files, p.File)
	}
	if !slices.Equal(files, []string{broken, invalid}) {
		t.Fatalf("problems in %v, want %v", files, []string{broken, invalid})
	}
	if msg := problems[0].Error(); !strings.Contains(msg, broken+":5") || !errors.Is(problems[0].Err, catalog.ErrInvalid) {
		t.Errorf("problem %q should name %s:5 and be ErrInvalid", msg, broken)
	}
	if msg := problems[1].Error(); !strings.Contains(msg, invalid) || !strings.Contains(msg, "boot") {
		t.Errorf("problem %q should name %s and the boot key", msg, invalid)
	}

	d, err := c.Distro("debian")
	if err != nil {
		t.Fatal(err)
	}
	if d.Source != debian || d.Name != "Debian (local)" || d.Base != "https://mirror.example.org/debian-cloud/" {
		t.Errorf("debian not replaced: source %q name %q base %q", d.Source, d.Name, d.Base)
	}
	if got := d.VersionNames(); !slices.Equal(got, []string{"13"}) {
		t.Errorf("debian versions = %v, want the overlay's [13]", got)
	}
	g, err := c.Distro("gentoo")
	if err != nil {
		t.Fatalf("overlay after the broken one not applied: %v", err)
	}
	if g.Source != gentoo {
		t.Errorf("gentoo source = %q", g.Source)
	}
	if _, err := c.Distro("broken"); err == nil {
		t.Error("the broken overlay's distro was added")
	}
	u, err := c.Distro("ubuntu")
	if err != nil || u.Source != "embedded" {
		t.Errorf("ubuntu should still come from the embedded catalog: %v %+v", err, u)
	}
	ids := c.IDs()
	if n := strings.Count(strings.Join(ids, " ")+" ", "debian "); n != 1 {
		t.Errorf("ids %v hold debian %d times", ids, n)
	}
	if ids[len(ids)-1] != "gentoo" {
		t.Errorf("new distro should be appended: %v", ids)
	}

	// The embedded catalog itself is untouched by overlays.
	e, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if ed, _ := e.Distro("debian"); ed.Source != "embedded" || len(ed.Versions) != 2 {
		t.Errorf("embedded debian changed: %+v", ed)
	}
}

func TestLoadWithOverlaysNoDir(t *testing.T) {
	for _, dir := range []string{"", filepath.Join(t.TempDir(), "does-not-exist")} {
		c, problems, err := catalog.LoadWithOverlays(dir)
		if err != nil || len(problems) != 0 {
			t.Errorf("LoadWithOverlays(%q) = %v, %v", dir, problems, err)
			continue
		}
		if len(c.Distros) != 9 {
			t.Errorf("LoadWithOverlays(%q) has %d distros, want the 9 shipped", dir, len(c.Distros))
		}
	}
}

// TestLatest: "latest" is the highest numbered non-preview release, or the
// first rolling one.
func TestLatest(t *testing.T) {
	shipped, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ id, want string }{
		{"ubuntu", "26.10"}, {"debian", "13"}, {"fedora", "44"}, {"almalinux", "10"}, {"rocky", "10"},
		{"centos-stream", "10"}, {"alpine", "3.24"}, {"arch", "rolling"}, {"opensuse", "16.0"},
	} {
		d, err := shipped.Distro(tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if got := d.Latest(); got == nil || got.Version != tt.want {
			t.Errorf("%s Latest() = %v, want %s", tt.id, got, tt.want)
		}
		if v, err := d.Version("latest"); err != nil || v.Version != tt.want {
			t.Errorf("%s Version(latest) = %v, %v; want %s", tt.id, v, err, tt.want)
		}
	}

	synthetic := []struct {
		name     string
		versions string
		want     string
	}{
		{"numeric order, not text", `{ version = "9" }, { version = "10" }, { version = "8" }`, "10"},
		{"minor releases", `{ version = "3.9" }, { version = "3.10" }`, "3.10"},
		{"preview skipped", `{ version = "43" }, { version = "45", preview = true }, { version = "44" }`, "44"},
		{"rolling after numbered", `{ version = "tumbleweed" }, { version = "16.0" }, { version = "15.6" }`, "16.0"},
		{"only rolling: first listed", `{ version = "rolling" }, { version = "edge" }`, "rolling"},
		{"everything preview", `{ version = "1", preview = true }`, ""},
	}
	for _, tt := range synthetic {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(minimal, `versions = [{ version = "1" }]`, "versions = ["+tt.versions+"]", 1)
			c, err := catalog.Load(strings.NewReader(doc), "latest.toml")
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if v := c.Distros[0].Latest(); v != nil {
				got = v.Version
			}
			if got != tt.want {
				t.Errorf("Latest() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNormalizeArch(t *testing.T) {
	tests := []struct{ in, want string }{
		{"x86_64", "x86_64"}, {"amd64", "x86_64"}, {"AMD64", "x86_64"}, {"x64", "x86_64"}, {" amd64\n", "x86_64"},
		{"aarch64", "aarch64"}, {"arm64", "aarch64"}, {"ARM64", "aarch64"},
		{"ppc64le", "ppc64le"}, {"ppc64el", "ppc64le"},
		{"s390x", "s390x"}, {"riscv64", "riscv64"},
		{"armhf", "armv7l"}, {"armv7l", "armv7l"},
		{"MIPS64", "mips64"}, {"", ""},
	}
	for _, tt := range tests {
		if got := catalog.NormalizeArch(tt.in); got != tt.want {
			t.Errorf("NormalizeArch(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if h := catalog.HostArch(); h == "" || catalog.NormalizeArch(h) != h {
		t.Errorf("HostArch() = %q is not canonical", h)
	}
}

// Captured-style autoindex pages.
const (
	apachePage = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of /releases/noble</title>
 </head>
 <body>
<h1>Index of /releases/noble</h1>
  <table>
   <tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr>
   <tr><th colspan="5"><hr></th></tr>
<tr><td valign="top"><img src="/icons/back.gif" alt="[PARENTDIR]"></td><td><a href="/releases/">Parent Directory</a>       </td><td>&nbsp;</td><td align="right">  - </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="release-20240423/">release-20240423/</a></td><td align="right">2024-04-23 16:52  </td><td align="right">  - </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="release-20260720/">release-20260720/</a></td><td align="right">2026-07-20 13:02  </td><td align="right">  - </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="release/">release/</a></td><td align="right">2026-07-20 13:02  </td><td align="right">  - </td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/unknown.gif" alt="[   ]"></td><td><a href="ubuntu-24.04-server-cloudimg-amd64-disk-kvm.img">ubuntu-24.04-server-c..&gt;</a></td><td align="right">2026-07-20 13:02  </td><td align="right">597M</td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/unknown.gif" alt="[   ]"></td><td><a href="./a:colon.img">a:colon.img</a></td><td align="right">2026-07-20 13:02  </td><td align="right">1K</td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/unknown.gif" alt="[   ]"></td><td><a href="Tom%20%26%20Jerry.img">Tom &amp; Jerry.img</a></td><td align="right">2026-07-20 13:02  </td><td align="right">1K</td><td>&nbsp;</td></tr>
<tr><td valign="top"><img src="/icons/unknown.gif" alt="[   ]"></td><td><a href="a&amp;b.img">a&amp;b.img</a></td><td align="right">2026-07-20 13:02  </td><td align="right">1K</td><td>&nbsp;</td></tr>
   <tr><th colspan="5"><hr></th></tr>
</table>
<address>Apache/2.4.58 (Ubuntu) Server at cloud-images.ubuntu.com Port 443</address>
</body></html>
`
	apacheListPage = `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">
<html>
 <head>
  <title>Index of /images/cloud</title>
 </head>
 <body>
<h1>Index of /images/cloud</h1>
<ul><li><a href="/images/"> Parent Directory</a></li>
<li><a href="bookworm/"> bookworm/</a></li>
<li><a href="bookworm-backports/"> bookworm-backports/</a></li>
<li><a href="trixie/"> trixie/</a></li>
<li><a href="sid/"> sid/</a></li>
</ul>
</body></html>
`
	nginxPage = "<html>\r\n<head><title>Index of /alpine/v3.23/releases/cloud/</title></head>\r\n<body>\r\n" +
		"<h1>Index of /alpine/v3.23/releases/cloud/</h1><hr><pre><a href=\"../\">../</a>\r\n" +
		"<a href=\"nocloud_alpine-3.23.4-x86_64-uefi-cloudinit-r0.qcow2\">nocloud_alpine-3.23.4-x86_64-uefi-cloudinit-r0.q..&gt;</a> 09-Apr-2026 12:01           190316544\r\n" +
		"<a href=\"nocloud_alpine-3.23.4-x86_64-uefi-cloudinit-r0.qcow2.sha512\">nocloud_alpine-3.23.4-x86_64-uefi-cloudinit-r0.q..&gt;</a> 09-Apr-2026 12:01                 129\r\n" +
		"<a href=\"nocloud_alpine-3.23.4-x86_64-uefi-cloudinit-r0.qcow2\">duplicate row</a> 09-Apr-2026 12:01           190316544\r\n" +
		"<a href=\"unpacked/\">unpacked/</a>                                          09-Apr-2026 12:01                   -\r\n" +
		"</pre><hr></body>\r\n</html>\r\n"
	lighttpdPage = `<?xml version="1.0" encoding="utf-8"?>
<html><body><table summary="Directory Listing"><tbody>
<tr class="d"><td class="n"><a href="../">Parent Directory</a>/</td></tr>
<tr><td class="n"><a HREF = 'Arch-Linux-x86_64-cloudimg-20260801.560001.qcow2'>Arch-Linux-x86_64-cloudimg-20260801.560001.qcow2</a></td></tr>
<tr><td class="n"><a class="x" href="v20260801.560001/?sort=asc#top">v20260801.560001</a></td></tr>
</tbody></table></body></html>
`
)

func TestParseListing(t *testing.T) {
	tests := []struct {
		name string
		page string
		want []string
	}{
		{"apache fancy table", apachePage, []string{
			"release-20240423/", "release-20260720/", "release/",
			"ubuntu-24.04-server-cloudimg-amd64-disk-kvm.img", "a:colon.img", "Tom & Jerry.img", "a&b.img",
		}},
		{"apache plain list", apacheListPage, []string{"bookworm/", "bookworm-backports/", "trixie/", "sid/"}},
		{"nginx pre", nginxPage, []string{
			"nocloud_alpine-3.23.4-x86_64-uefi-cloudinit-r0.qcow2",
			"nocloud_alpine-3.23.4-x86_64-uefi-cloudinit-r0.qcow2.sha512", "unpacked/",
		}},
		{"lighttpd, odd quoting, query and fragment", lighttpdPage, []string{
			"Arch-Linux-x86_64-cloudimg-20260801.560001.qcow2", "v20260801.560001/",
		}},
		{"empty", "", nil},
		{"not html", "just some text with href=\"x\" but no anchor", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := catalog.ParseListing([]byte(tt.page)); !slices.Equal(got, tt.want) {
				t.Errorf("ParseListing =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

// TestEmbeddedPromises: the shipped catalog carries every distro, version
// and arch the product promises, with the right boot kind.
func TestEmbeddedPromises(t *testing.T) {
	c, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	promised := []struct {
		id       string
		versions []string
		boot     string
		arches   []string // when set, exactly these arches for every version
	}{
		{"ubuntu", []string{"22.04", "24.04", "25.10", "26.04", "26.10"}, catalog.BootDirectKernel, nil},
		{"debian", []string{"12", "13"}, catalog.BootFirmware, nil},
		{"fedora", []string{"42", "43", "44"}, catalog.BootFirmware, nil},
		{"almalinux", []string{"8", "9", "10"}, catalog.BootFirmware, nil},
		{"rocky", []string{"8", "9", "10"}, catalog.BootFirmware, nil},
		{"centos-stream", []string{"9", "10"}, catalog.BootFirmware, nil},
		{"alpine", []string{"3.21", "3.22", "3.23", "3.24"}, catalog.BootFirmware, nil},
		{"arch", []string{"rolling"}, catalog.BootFirmware, []string{"x86_64"}},
		{"opensuse", []string{"16.0", "tumbleweed"}, catalog.BootFirmware, nil},
	}
	for _, p := range promised {
		d, err := c.Distro(p.id)
		if err != nil {
			t.Errorf("%s missing: %v", p.id, err)
			continue
		}
		if d.Boot != p.boot {
			t.Errorf("%s boot = %q, want %q", p.id, d.Boot, p.boot)
		}
		for _, want := range p.versions {
			v, err := d.Version(want)
			if err != nil || v.Version != want {
				t.Errorf("%s %s missing: %v", p.id, want, err)
				continue
			}
			arches := d.ArchList(v)
			if p.arches != nil && !slices.Equal(arches, p.arches) {
				t.Errorf("%s %s arches = %v, want exactly %v", p.id, want, arches, p.arches)
			}
			if !slices.Contains(arches, catalog.ArchX86_64) {
				t.Errorf("%s %s lacks x86_64: %v", p.id, want, arches)
			}
			if p.id != "arch" && !slices.Contains(arches, catalog.ArchAarch64) {
				t.Errorf("%s %s lacks aarch64: %v", p.id, want, arches)
			}
			roles := d.AssetRoles(v)
			if p.boot == catalog.BootDirectKernel {
				if !d.HasKernel(v) || !slices.Equal(roles, []string{"disk", "kernel", "initramfs"}) {
					t.Errorf("%s %s is direct-kernel but has assets %v", p.id, want, roles)
				}
			} else if d.HasKernel(v) || !slices.Equal(roles, []string{"disk"}) {
				t.Errorf("%s %s boots from firmware but has assets %v", p.id, want, roles)
			}
		}
		if s := d.SignatureFor(d.Latest()); s.Kind == "" {
			t.Errorf("%s: signature kind unset", p.id)
		}
	}
	// Every signed release names the keys that may sign it.
	for _, d := range c.Distros {
		for _, v := range d.Versions {
			if s := d.SignatureFor(v); s.Kind != catalog.SigNone && len(s.Keys) == 0 {
				t.Errorf("%s %s is signed (%s) but names no keys", d.ID, v.Version, s.Kind)
			}
		}
	}
	// AlmaLinux signs CHECKSUM for 8 and 9 with each release's key; no
	// source says 10 does.
	alma, _ := c.Distro("almalinux")
	for _, tc := range []struct {
		version, kind string
		keys          []string
	}{
		{"8", catalog.SigDetached, []string{"5E9B8F5617B5066CE92057C3488FCF7C3ABB34F8", "BC5EDDCADF502C077F1582882AE81E8ACED7258B"}},
		{"9", catalog.SigDetached, []string{"BF18AC2876178908D6E71267D36CB86CB86B3716"}},
		{"10", catalog.SigNone, nil},
	} {
		v, err := alma.Version(tc.version)
		if err != nil {
			t.Fatal(err)
		}
		s := alma.SignatureFor(v)
		if s.Kind != tc.kind || !slices.Equal(s.Keys, tc.keys) || (tc.kind == catalog.SigDetached && s.File != "{checksums}.asc") {
			t.Errorf("almalinux %s signature = %+v, want %s by %v", tc.version, s, tc.kind, tc.keys)
		}
	}
	arch, _ := c.Distro("arch")
	if s := arch.SignatureFor(arch.Latest()); s.Kind != catalog.SigDetached || s.File != "{checksums}.sig" ||
		!slices.Equal(s.Keys, []string{"1B9A16984A4E8CB448712D2AE0B78BF4326C6F8F"}) {
		t.Errorf("arch signature = %+v", s)
	}
	// Fedora signs each release with its own key.
	f, _ := c.Distro("fedora")
	seen := map[string]string{}
	for _, v := range f.Versions {
		keys := f.SignatureFor(v).Keys
		if len(keys) != 1 {
			t.Errorf("fedora %s keys = %v, want its release key", v.Version, keys)
			continue
		}
		if other, dup := seen[keys[0]]; dup {
			t.Errorf("fedora %s and %s share key %s", v.Version, other, keys[0])
		}
		seen[keys[0]] = v.Version
	}
}
