package catalog_test

import (
	"fmt"
	"sort"
	"strings"

	"vmimages/core/manifest"
)

// The trees below are written by hand from the project's UPSTREAMS notes
// (sections 3–11): directory names, file names, manifest names and formats
// are spelled out here, never derived from default.toml, so a wrong
// template in the catalog makes the resolve tests fail.

// wantAsset is what Resolve must report for one file. Paths are URL paths on
// the test server.
type wantAsset struct {
	role   string
	path   string
	sums   string // the manifest the digest comes from
	sig    string // detached signature; "" for none, noCheck when unknown upstream
	digest manifest.Digest
	size   int64 // -1 when the manifest gives no size
}

// noCheck marks a signature path that UPSTREAMS only guesses at.
const noCheck = "?"

// wantImage is what Resolve must report for one (version, arch).
type wantImage struct {
	build  string
	assets []wantAsset
	sig    string // signature kind when it differs from the tree's
}

// tree is a distribution's hand-written layout under a mirror root.
type tree struct {
	id     string
	boot   string
	sig    string               // signature kind
	latest string               // what "latest" must pick
	want   map[string]wantImage // key: version + " " + canonical arch
}

func key(version, arch string) string { return version + " " + arch }

// arch is a canonical arch and the upstream's spelling of it.
type arch struct{ canon, up string }

// sums accumulates a checksum manifest, one line per file.
type sums struct{ lines []string }

func (s *sums) gnu(d manifest.Digest, name string, binary bool) {
	sep := "  "
	if binary {
		sep = " *"
	}
	s.lines = append(s.lines, d.Hex+sep+name+"\n")
}

func (s *sums) bsd(d manifest.Digest, name string, size int) {
	if size >= 0 {
		s.lines = append(s.lines, fmt.Sprintf("# %s: %d bytes\n", name, size))
	}
	s.lines = append(s.lines, fmt.Sprintf("SHA256 (%s) = %s\n", name, d.Hex))
}

func (s *sums) String() string { return strings.Join(s.lines, "") }

// sorted returns names in the byte order that ls and sha256sum use.
func sorted(names []string) []string {
	out := append([]string(nil), names...)
	sort.Strings(out)
	return out
}

func dirs(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n + "/"
	}
	return out
}

// ubuntuTree: §3. releases/{codename}/release-{serial}/ holding
// ubuntu-{ver}-server-cloudimg-{arch}.img and friends, SHA256SUMS (GNU, "*"),
// SHA256SUMS.gpg, and unpacked/ with its own SHA256SUMS for the kernel and
// initrd; a release/ alias beside the serials.
func ubuntuTree(u *upstream, root string) tree {
	t := tree{id: "ubuntu", boot: "direct-kernel", sig: "detached", latest: "26.10", want: map[string]wantImage{}}
	arches := []arch{{"x86_64", "amd64"}, {"aarch64", "arm64"}, {"ppc64le", "ppc64el"}, {"s390x", "s390x"}, {"riscv64", "riscv64"}}
	releases := []struct {
		version, codename string
		serials           []string // listing order, deliberately unsorted
		newest            string
		noInitrd          string // an arch whose initrd is not published
	}{
		{"22.04", "jammy", []string{"release-20260705", "release-20251010.1", "release-20260705.1", "release-20240808"}, "20260705.1", "riscv64"},
		{"24.04", "noble", []string{"release-20260705", "release-20260720", "release-20251010.1"}, "20260720", ""},
		{"25.10", "questing", []string{"release-20251010.1", "release-20260703", "release-20251010"}, "20260703", ""},
		{"26.04", "resolute", []string{"release-20260705", "release-20260720", "release-20260419"}, "20260720", ""},
		{"26.10", "stonking", []string{"release-20261009", "release-20261016", "release-20261009.1"}, "20261016", ""},
	}
	top := []string{"focal/", "streams/", "server/"}
	for _, r := range releases {
		top = append(top, r.codename+"/")
		codeDir := root + r.codename + "/"
		u.index(apache, codeDir, append(dirs(r.serials...), "release/")...)
		for _, serial := range append(append([]string(nil), r.serials...), "release") {
			dir := codeDir + serial + "/"
			var files, unpacked []string
			var s, us sums
			digests := map[string]manifest.Digest{}
			for _, a := range arches {
				stem := "ubuntu-" + r.version + "-server-cloudimg-" + a.up
				names := []string{stem + ".img", stem + ".squashfs", stem + "-root.tar.xz", stem + ".manifest", stem + "-lxd.tar.xz"}
				if a.up == "amd64" {
					names = append(names, stem+"-disk-kvm.img", stem+".ova", stem+".vmdk", stem+".tar.gz")
					if r.version == "26.04" {
						names = append(names, "ubuntu-26.04-server-cloudimg-amd64v3.img")
					}
				}
				files = append(files, names...)
				kernels := []string{stem + "-vmlinuz-generic"}
				if a.canon != r.noInitrd {
					kernels = append(kernels, stem+"-initrd-generic")
				}
				unpacked = append(unpacked, kernels...)
				for _, n := range kernels {
					digests["unpacked/"+n] = sha256Of(u.blob(dir + "unpacked/" + n))
				}
			}
			for _, n := range sorted(files) {
				digests[n] = sha256Of(u.blob(dir + n))
				s.gnu(digests[n], n, true)
			}
			for _, n := range sorted(unpacked) {
				us.gnu(digests["unpacked/"+n], n, true)
			}
			u.putString(dir+"SHA256SUMS", s.String())
			u.putString(dir+"SHA256SUMS.gpg", fakeSignature)
			u.putString(dir+"MD5SUMS", "d41d8cd98f00b204e9800998ecf8427e *"+files[0]+"\n")
			u.putString(dir+"MD5SUMS.gpg", fakeSignature)
			u.putString(dir+"unpacked/SHA256SUMS", us.String())
			u.putString(dir+"unpacked/SHA256SUMS.gpg", fakeSignature)
			u.index(apache, dir, append(append([]string{"unpacked/"}, sorted(files)...), "MD5SUMS", "MD5SUMS.gpg", "SHA256SUMS", "SHA256SUMS.gpg")...)
			u.index(apache, dir+"unpacked/", append(sorted(unpacked), "SHA256SUMS", "SHA256SUMS.gpg")...)
			if serial != "release-"+r.newest {
				continue
			}
			for _, a := range arches {
				stem := "ubuntu-" + r.version + "-server-cloudimg-" + a.up
				w := wantImage{build: r.newest, assets: []wantAsset{
					{role: "disk", path: dir + stem + ".img", sums: dir + "SHA256SUMS", sig: dir + "SHA256SUMS.gpg", digest: digests[stem+".img"], size: -1},
					{role: "kernel", path: dir + "unpacked/" + stem + "-vmlinuz-generic", sums: dir + "unpacked/SHA256SUMS", sig: noCheck, digest: digests["unpacked/"+stem+"-vmlinuz-generic"], size: -1},
				}}
				if a.canon != r.noInitrd {
					w.assets = append(w.assets, wantAsset{role: "initramfs", path: dir + "unpacked/" + stem + "-initrd-generic", sums: dir + "unpacked/SHA256SUMS", sig: noCheck, digest: digests["unpacked/"+stem+"-initrd-generic"], size: -1})
				}
				t.want[key(r.version, a.canon)] = w
			}
		}
	}
	u.index(apache, root, top...)
	return t
}

// debianTree: §4. images/cloud/{codename}/{YYYYMMDD-NNNN}/ holding
// debian-{N}-{vendor}-{arch}-{build}.{qcow2,raw,tar.xz,json} for several
// vendors, SHA512SUMS (GNU, two spaces), and latest/ and daily/ beside them.
func debianTree(u *upstream, root string) tree {
	t := tree{id: "debian", boot: "firmware", sig: "none", latest: "13", want: map[string]wantImage{}}
	releases := []struct {
		version, codename string
		builds            []string
		newest            string
	}{
		{"12", "bookworm", []string{"20260707-2532", "20260712-2537", "20251229-2340"}, "20260712-2537"},
		{"13", "trixie", []string{"20260712-2537", "20260810-2566", "20250814-2204"}, "20260810-2566"},
	}
	vendors := []struct {
		name   string
		arches []string
	}{
		{"azure", []string{"amd64"}},
		{"ec2", []string{"amd64", "arm64"}},
		{"generic", []string{"amd64", "arm64", "ppc64el", "riscv64"}},
		{"genericcloud", []string{"amd64", "arm64"}},
		{"nocloud", []string{"amd64", "arm64"}},
	}
	var top []string
	for _, r := range releases {
		top = append(top, r.codename+"/", r.codename+"-backports/")
		codeDir := root + r.codename + "/"
		u.index(apache, codeDir, append(dirs(r.builds...), "daily/", "latest/")...)
		for _, b := range append(append([]string(nil), r.builds...), "latest") {
			dir := codeDir + b + "/"
			suffix := "-" + b
			if b == "latest" {
				suffix = ""
			}
			var files []string
			var s sums
			digests := map[string]manifest.Digest{}
			for _, v := range vendors {
				for _, a := range v.arches {
					if a == "riscv64" && r.version != "13" {
						continue
					}
					stem := "debian-" + r.version + "-" + v.name + "-" + a + suffix
					for _, ext := range []string{".json", ".qcow2", ".raw", ".tar.xz"} {
						files = append(files, stem+ext)
					}
				}
			}
			for _, n := range sorted(files) {
				digests[n] = sha512Of(u.blob(dir + n))
				if !strings.HasSuffix(n, ".json") {
					s.gnu(digests[n], n, false)
				}
			}
			u.putString(dir+"SHA512SUMS", s.String())
			u.index(apache, dir, append(sorted(files), "SHA512SUMS")...)
			if b != r.newest {
				continue
			}
			for _, a := range []arch{{"x86_64", "amd64"}, {"aarch64", "arm64"}} {
				n := "debian-" + r.version + "-genericcloud-" + a.up + "-" + b + ".qcow2"
				t.want[key(r.version, a.canon)] = wantImage{build: b, assets: []wantAsset{
					{role: "disk", path: dir + n, sums: dir + "SHA512SUMS", digest: digests[n], size: -1},
				}}
			}
		}
	}
	u.index(apache, root, append(top, "OpenStack/", "bullseye/", "buster/", "sid/")...)
	return t
}

// fedoraTree: §5. releases/{N}/Cloud/{arch}/images/ holding
// Fedora-Cloud-Base-Generic-{N}-{compose}.{arch}.qcow2 beside the UKI,
// AmazonEC2, Azure, GCE and Vagrant images, and
// Fedora-Cloud-{N}-{compose}-{arch}-CHECKSUM: clearsigned BSD with sizes.
func fedoraTree(u *upstream, root string) tree {
	t := tree{id: "fedora", boot: "firmware", sig: "clearsigned", latest: "44", want: map[string]wantImage{}}
	releases := []struct {
		version  string
		composes []string
		newest   string
	}{
		{"42", []string{"1.1"}, "1.1"},
		// 43's GA compose is 1.6; 1.10 stands for a later respin so that
		// the numeric order (1.10 after 1.6 and 1.9) is exercised.
		{"43", []string{"1.6", "1.10", "1.9"}, "1.10"},
		{"44", []string{"1.7"}, "1.7"},
	}
	arches := []string{"aarch64", "x86_64"}
	var top []string
	for _, r := range releases {
		top = append(top, r.version+"/")
		vdir := root + r.version + "/"
		u.index(apache, vdir, "Cloud/", "Container/", "Everything/", "Server/", "Workstation/")
		u.index(apache, vdir+"Cloud/", "aarch64/", "source/", "x86_64/")
		for _, a := range arches {
			adir := vdir + "Cloud/" + a + "/"
			dir := adir + "images/"
			u.index(apache, adir, "images/")
			var listing []string
			for _, c := range r.composes {
				var s sums
				names := []string{
					"Fedora-Cloud-Base-AmazonEC2-" + r.version + "-" + c + "." + a + ".raw.xz",
					"Fedora-Cloud-Base-Azure-" + r.version + "-" + c + "." + a + ".vhdfixed.xz",
					"Fedora-Cloud-Base-GCE-" + r.version + "-" + c + "." + a + ".tar.gz",
					"Fedora-Cloud-Base-Generic-" + r.version + "-" + c + "." + a + ".qcow2",
					"Fedora-Cloud-Base-UEFI-UKI-" + r.version + "-" + c + "." + a + ".qcow2",
					"Fedora-Cloud-Base-Vagrant-libvirt-" + r.version + "-" + c + "." + a + ".vagrant.libvirt.box",
				}
				digests := map[string]manifest.Digest{}
				sizes := map[string]int{}
				for _, n := range names {
					b := u.blob(dir + n)
					digests[n], sizes[n] = sha256Of(b), len(b)
					s.bsd(digests[n], n, len(b))
				}
				sumsName := "Fedora-Cloud-" + r.version + "-" + c + "-" + a + "-CHECKSUM"
				u.putString(dir+sumsName, clearsign(s.String()))
				listing = append(listing, names...)
				listing = append(listing, sumsName)
				if c == r.newest {
					n := "Fedora-Cloud-Base-Generic-" + r.version + "-" + c + "." + a + ".qcow2"
					t.want[key(r.version, a)] = wantImage{build: c, assets: []wantAsset{
						{role: "disk", path: dir + n, sums: dir + sumsName, digest: digests[n], size: int64(sizes[n])},
					}}
				}
			}
			u.index(apache, dir, sorted(listing)...)
		}
	}
	u.index(apache, root, append([]string{"38/", "39/", "40/", "41/"}, append(top, "test/")...)...)
	return t
}

// almaTree: §6. almalinux/{M}/ is the moving alias of {M}.{m}/; each
// cloud/{arch}/images/ holds GenericCloud, GenericCloud-ext4 and OpenNebula
// images, dated and "latest", all in one GNU CHECKSUM. Pinned URLs use the
// {M}.{m} directory.
func almaTree(u *upstream, root string) tree {
	t := tree{id: "almalinux", boot: "firmware", sig: "detached", latest: "10", want: map[string]wantImage{}}
	releases := []struct {
		major, minor string
		builds       []string // "{M}.{m}-{date}[.N]", CHECKSUM order
		newest       string
	}{
		{"8", "8.10", []string{"8.10-20251120", "8.10-20260518"}, "8.10-20260518"},
		{"9", "9.8", []string{"9.8-20260420", "9.8-20260526", "9.8-20260511"}, "9.8-20260526"},
		{"10", "10.2", []string{"10.2-20260526.0", "10.2-20260418.0", "10.2-20260526.10", "10.2-20260526.9"}, "10.2-20260526.10"},
	}
	arches := []string{"aarch64", "ppc64le", "s390x", "x86_64"}
	for _, r := range releases {
		for _, a := range arches {
			var s sums
			var listing []string
			bodies := map[string][]byte{}
			add := func(name string, body []byte) {
				bodies[name] = body
				s.gnu(sha256Of(body), name, false)
				listing = append(listing, name)
			}
			pinned := root + r.minor + "/cloud/" + a + "/images/"
			for _, b := range r.builds {
				add("AlmaLinux-"+r.major+"-GenericCloud-"+b+"."+a+".qcow2", u.blob(pinned+"GenericCloud-"+b))
				add("AlmaLinux-"+r.major+"-GenericCloud-ext4-"+b+"."+a+".qcow2", u.blob(pinned+"ext4-"+b))
				add("AlmaLinux-"+r.major+"-OpenNebula-"+b+"."+a+".qcow2", u.blob(pinned+"OpenNebula-"+b))
			}
			// The latest alias has the newest dated file's bytes.
			newestName := "AlmaLinux-" + r.major + "-GenericCloud-" + r.newest + "." + a + ".qcow2"
			add("AlmaLinux-"+r.major+"-GenericCloud-latest."+a+".qcow2", bodies[newestName])
			add("AlmaLinux-"+r.major+"-GenericCloud-ext4-latest."+a+".qcow2", bodies["AlmaLinux-"+r.major+"-GenericCloud-ext4-"+r.newest+"."+a+".qcow2"])
			add("AlmaLinux-"+r.major+"-OpenNebula-latest."+a+".qcow2", bodies["AlmaLinux-"+r.major+"-OpenNebula-"+r.newest+"."+a+".qcow2"])
			// The alias directory serves the very same files.
			for _, dir := range []string{pinned, root + r.major + "/cloud/" + a + "/images/"} {
				for n, b := range bodies {
					u.put(dir+n, b)
				}
				u.putString(dir+"CHECKSUM", s.String())
				// The wiki documents CHECKSUM.asc for 8 and 9.
				if r.major != "10" {
					u.putString(dir+"CHECKSUM.asc", fakeSignature)
					u.index(nginx, dir, append(sorted(listing), "CHECKSUM", "CHECKSUM.asc")...)
				} else {
					u.index(nginx, dir, append(sorted(listing), "CHECKSUM")...)
				}
			}
			w := wantImage{build: r.newest, assets: []wantAsset{
				{role: "disk", path: pinned + newestName, sums: pinned + "CHECKSUM", sig: pinned + "CHECKSUM.asc", digest: sha256Of(bodies[newestName]), size: -1},
			}}
			if r.major == "10" {
				w.sig, w.assets[0].sig = "none", ""
			}
			t.want[key(r.major, a)] = w
		}
		archDirs := dirs(arches...)
		if r.major == "10" {
			archDirs = append(archDirs, "x86_64_v2/")
		}
		for _, v := range []string{r.major, r.minor} {
			u.index(nginx, root+v+"/", "AppStream/", "BaseOS/", "cloud/", "isos/")
			u.index(nginx, root+v+"/cloud/", sorted(archDirs)...)
		}
	}
	u.index(nginx, root, "10/", "10.1/", "10.2/", "8/", "8.10/", "9/", "9.7/", "9.8/", "RPM-GPG-KEY-AlmaLinux-10")
	return t
}

// rockyTree: §7. pub/rocky/{M}.{m}/images/{arch}/ holding
// Rocky-{M}-GenericCloud-Base-{M}.{m}-{date}.{N}.{arch}.qcow2, its BSD
// {image}.CHECKSUM sidecar, LVM/EC2/Azure/Vagrant/Container images and the
// .latest aliases; newest minor chosen from the top listing.
func rockyTree(u *upstream, root string) tree {
	t := tree{id: "rocky", boot: "firmware", sig: "none", latest: "10", want: map[string]wantImage{}}
	minors := []struct {
		major, minor string
		builds       []string
		newest       string // "" for an older minor that must not be picked
	}{
		{"10", "10.1", []string{"20251124.0", "20260301.3"}, ""},
		{"10", "10.2", []string{"20260525.0", "20260525.10", "20260525.9"}, "20260525.10"},
		{"8", "8.9", []string{"20231119.0"}, ""},
		{"8", "8.10", []string{"20240528.0", "20250611.2", "20240528.10"}, "20250611.2"},
		{"9", "9.7", []string{"20251120.1"}, ""},
		{"9", "9.8", []string{"20260511.2", "20260525.0"}, "20260525.0"},
	}
	arches := []string{"aarch64", "ppc64le", "s390x", "x86_64"}
	for _, m := range minors {
		u.index(nginx, root+m.minor+"/", "AppStream/", "BaseOS/", "devel/", "extras/", "images/", "isos/")
		u.index(nginx, root+m.minor+"/images/", dirs(arches...)...)
		for _, a := range arches {
			dir := root + m.minor + "/images/" + a + "/"
			var listing []string
			sidecar := func(name string, body []byte) manifest.Digest {
				var s sums
				d := sha256Of(body)
				s.bsd(d, name, -1)
				u.put(dir+name, body)
				u.putString(dir+name+".CHECKSUM", s.String())
				listing = append(listing, name, name+".CHECKSUM")
				return d
			}
			var newest manifest.Digest
			for _, b := range m.builds {
				stamp := m.minor + "-" + b + "." + a
				d := sidecar("Rocky-"+m.major+"-GenericCloud-Base-"+stamp+".qcow2", u.blob(dir+"base-"+b))
				if b == m.newest {
					newest = d
				}
				sidecar("Rocky-"+m.major+"-GenericCloud-LVM-"+stamp+".qcow2", u.blob(dir+"lvm-"+b))
				sidecar("Rocky-"+m.major+"-EC2-Base-"+stamp+".qcow2", u.blob(dir+"ec2-"+b))
				sidecar("Rocky-"+m.major+"-Azure-Base-"+stamp+".vhd", u.blob(dir+"azure-"+b))
				sidecar("Rocky-"+m.major+"-Vagrant-Libvirt-"+stamp+".box", u.blob(dir+"vagrant-"+b))
				sidecar("Rocky-"+m.major+"-Container-Base-"+stamp+".tar.xz", u.blob(dir+"container-"+b))
			}
			sidecar("Rocky-"+m.major+"-GenericCloud-Base.latest."+a+".qcow2", u.blob(dir+"base-latest"))
			sidecar("Rocky-"+m.major+"-GenericCloud-LVM.latest."+a+".qcow2", u.blob(dir+"lvm-latest"))
			sidecar("Rocky-"+m.major+"-GenericCloud.latest."+a+".qcow2", u.blob(dir+"generic-latest"))
			u.index(nginx, dir, sorted(listing)...)
			if m.newest == "" {
				continue
			}
			n := "Rocky-" + m.major + "-GenericCloud-Base-" + m.minor + "-" + m.newest + "." + a + ".qcow2"
			t.want[key(m.major, a)] = wantImage{build: m.minor + "-" + m.newest, assets: []wantAsset{
				{role: "disk", path: dir + n, sums: dir + n + ".CHECKSUM", digest: newest, size: -1},
			}}
		}
	}
	u.index(nginx, root, "10/", "10.1/", "10.2/", "8/", "8.10/", "8.9/", "9/", "9.7/", "9.8/", "RPM-GPG-KEY-Rocky-10", "RPM-GPG-KEY-Rocky-9")
	return t
}

// centosTree: §8. centos/{M}-stream/{arch}/images/ holding
// CentOS-Stream-GenericCloud-{M}-{date}.{N}.{arch}.qcow2 with ec2, Container
// and old arch-in-the-middle names beside it, a -latest alias, per-image
// .SHA256SUM and one BSD CHECKSUM with size comments.
func centosTree(u *upstream, root string) tree {
	t := tree{id: "centos-stream", boot: "firmware", sig: "none", latest: "10", want: map[string]wantImage{}}
	releases := []struct {
		major  string
		builds []string
		newest string
	}{
		{"9", []string{"20260707.12", "20260714.0", "20260630.1"}, "20260714.0"},
		{"10", []string{"20260713.2", "20260720.0", "20260706.11"}, "20260720.0"},
	}
	arches := []string{"aarch64", "ppc64le", "s390x", "x86_64"}
	var top []string
	for _, r := range releases {
		top = append(top, r.major+"-stream/")
		u.index(apache, root+r.major+"-stream/", dirs(arches...)...)
		for _, a := range arches {
			u.index(apache, root+r.major+"-stream/"+a+"/", "images/", "vagrant/")
			dir := root + r.major + "-stream/" + a + "/images/"
			var names []string
			for _, b := range r.builds {
				names = append(names,
					"CentOS-Stream-GenericCloud-"+r.major+"-"+b+"."+a+".qcow2",
					"CentOS-Stream-ec2-"+r.major+"-"+b+"."+a+".raw.xz",
					"CentOS-Stream-Container-Base-"+r.major+"-"+b+"."+a+".tar.xz")
			}
			// Older naming with the arch in the middle, dated later than
			// anything else: it must not be mistaken for a GenericCloud build.
			names = append(names,
				"CentOS-Stream-GenericCloud-"+a+"-"+r.major+"-20260801.0."+a+".qcow2",
				"CentOS-Stream-GenericCloud-"+r.major+"-latest."+a+".qcow2",
				"CentOS-Stream-ec2-"+r.major+"-latest."+a+".raw.xz")
			var s sums
			var listing []string
			digests := map[string]manifest.Digest{}
			sizes := map[string]int{}
			for _, n := range sorted(names) {
				b := u.blob(dir + n)
				digests[n], sizes[n] = sha256Of(b), len(b)
				s.bsd(digests[n], n, len(b))
				var one sums
				one.bsd(digests[n], n, -1)
				u.putString(dir+n+".SHA256SUM", one.String())
				listing = append(listing, n, n+".SHA256SUM")
			}
			u.putString(dir+"CHECKSUM", s.String())
			u.index(apache, dir, append(sorted(listing), "CHECKSUM")...)
			n := "CentOS-Stream-GenericCloud-" + r.major + "-" + r.newest + "." + a + ".qcow2"
			t.want[key(r.major, a)] = wantImage{build: r.newest, assets: []wantAsset{
				{role: "disk", path: dir + n, sums: dir + "CHECKSUM", digest: digests[n], size: int64(sizes[n])},
			}}
		}
	}
	u.index(apache, root, append([]string{"7/", "8-stream/"}, top...)...)
	return t
}

// alpineTree: §9. alpine/v{M}.{m}/releases/cloud/ holding
// {vendor}_alpine-{p}-{arch}-{uefi|bios}-{cloudinit|tiny}[-metal]-r{N}.qcow2
// with bare-hex {image}.sha512 sidecars (and .sha256 and .asc beside them).
func alpineTree(u *upstream, root string) tree {
	t := tree{id: "alpine", boot: "firmware", sig: "none", latest: "3.24", want: map[string]wantImage{}}
	// Point releases up to 3.23.4 came out as nocloud_… (lima's templates);
	// those of 2026 as generic_… only (3.22.5, 3.23.5, 3.24.1: third-party
	// pins, see testdata/upstream/README.md). 3.21.7 is given under both
	// names here, to show which one wins a tie.
	releases := []struct {
		branch  string
		nocloud []string // "{point}-r{N}", listing order
		generic []string
		newest  string
		prefix  string // of the newest
		above   string // a newer point used only by distractors
	}{
		{"3.21", []string{"3.21.7-r0", "3.21.6-r2"}, []string{"3.21.7-r0", "3.21.6-r3"}, "3.21.7-r0", "nocloud", "3.21.8"},
		{"3.22", []string{"3.22.2-r0", "3.22.4-r0"}, []string{"3.22.5-r0"}, "3.22.5-r0", "generic", "3.22.9"},
		{"3.23", []string{"3.23.4-r0", "3.23.10-r0", "3.23.4-r1"}, []string{"3.23.10-r1", "3.23.5-r0"}, "3.23.10-r1", "generic", "3.23.11"},
		{"3.24", nil, []string{"3.24.1-r0"}, "3.24.1-r0", "generic", "3.24.2"},
	}
	var top []string
	for _, r := range releases {
		top = append(top, "v"+r.branch+"/")
		vdir := root + "v" + r.branch + "/"
		dir := vdir + "releases/cloud/"
		u.index(nginx, vdir, "community/", "main/", "releases/")
		u.index(nginx, vdir+"releases/", "aarch64/", "cloud/", "x86_64/")
		var listing []string
		publish := func(name string) manifest.Digest {
			b := u.blob(dir + name)
			d := sha512Of(b)
			u.putString(dir+name+".sha512", d.Hex+"\n")
			u.putString(dir+name+".sha256", sha256Of(b).Hex+"\n")
			u.putString(dir+name+".asc", fakeSignature)
			listing = append(listing, name, name+".asc", name+".sha256", name+".sha512")
			return d
		}
		for _, a := range []string{"aarch64", "x86_64"} {
			for prefix, builds := range map[string][]string{"nocloud": r.nocloud, "generic": r.generic} {
				for _, b := range builds {
					point, rev, _ := strings.Cut(b, "-")
					n := prefix + "_alpine-" + point + "-" + a + "-uefi-cloudinit-" + rev + ".qcow2"
					d := publish(n)
					if a == "x86_64" {
						publish(prefix + "_alpine-" + point + "-" + a + "-bios-cloudinit-" + rev + ".qcow2")
					}
					if b == r.newest && prefix == r.prefix {
						t.want[key(r.branch, a)] = wantImage{build: b, assets: []wantAsset{
							{role: "disk", path: dir + n, sums: dir + n + ".sha512", digest: d, size: -1},
						}}
					}
				}
			}
			// Newer points that are the wrong image.
			for _, prefix := range []string{"nocloud", "generic"} {
				publish(prefix + "_alpine-" + r.above + "-" + a + "-uefi-tiny-r0.qcow2")
				publish(prefix + "_alpine-" + r.above + "-" + a + "-uefi-cloudinit-metal-r0.qcow2")
				if a == "x86_64" {
					publish(prefix + "_alpine-" + r.above + "-" + a + "-bios-cloudinit-r0.qcow2")
				}
			}
			publish("aws_alpine-" + r.above + "-" + a + "-uefi-cloudinit-r0.vhd")
			publish("azure_alpine-" + r.above + "-" + a + "-uefi-cloudinit-r0.qcow2")
		}
		u.index(nginx, dir, sorted(listing)...)
	}
	u.index(nginx, root, append([]string{"edge/", "latest-stable/"}, top...)...)
	return t
}

// archTree: §10. images/v{YYYYMMDD}.{job}/ holding
// Arch-Linux-x86_64-{cloudimg,basic}-{YYYYMMDD}.{job}.qcow2, GNU {image}.SHA256
// sidecars, and a .sig on every file; latest/ beside the versions.
func archTree(u *upstream, root string) tree {
	t := tree{id: "arch", boot: "firmware", sig: "detached", latest: "rolling", want: map[string]wantImage{}}
	builds := []string{"20260715.556894", "20260801.560001", "20260701.553000"}
	newest := "20260801.560001"
	for _, b := range append(append([]string(nil), builds...), "latest") {
		dir := root + "v" + b + "/"
		suffix := "-" + b
		if b == "latest" {
			dir, suffix = root+"latest/", ""
		}
		var listing []string
		var cloudDigest manifest.Digest
		for _, kind := range []string{"basic", "cloudimg"} {
			n := "Arch-Linux-x86_64-" + kind + suffix + ".qcow2"
			d := sha256Of(u.blob(dir + n))
			if kind == "cloudimg" {
				cloudDigest = d
			}
			var s sums
			s.gnu(d, n, false)
			u.putString(dir+n+".SHA256", s.String())
			u.putString(dir+n+".sig", fakeSignature)
			u.putString(dir+n+".SHA256.sig", fakeSignature)
			listing = append(listing, n, n+".SHA256", n+".SHA256.sig", n+".sig")
		}
		u.index(nginx, dir, listing...)
		if b == newest {
			n := "Arch-Linux-x86_64-cloudimg-" + b + ".qcow2"
			t.want[key("rolling", "x86_64")] = wantImage{build: b, assets: []wantAsset{
				{role: "disk", path: dir + n, sums: dir + n + ".SHA256", sig: dir + n + ".SHA256.sig", digest: cloudDigest, size: -1},
			}}
		}
	}
	u.index(nginx, root, append(dirs("latest", "v"+builds[0], "v"+builds[1], "v"+builds[2]), "README")...)
	return t
}

// opensuseTree: §11. Fixed names that upstream overwrites, each with a GNU
// {image}.sha256: Leap 16 under distribution/leap/16.0/appliances/ (no
// "openSUSE-" prefix), Tumbleweed under tumbleweed/appliances/ and, for
// aarch64, ports/aarch64/tumbleweed/appliances/.
func opensuseTree(u *upstream, root string) tree {
	t := tree{id: "opensuse", boot: "firmware", sig: "detached", latest: "16.0", want: map[string]wantImage{}}
	appliance := func(dir string, names []string, fixed map[string]string) {
		var listing []string
		for _, n := range names {
			b := u.blob(dir + n)
			var s sums
			s.gnu(sha256Of(b), n, false)
			u.putString(dir+n+".sha256", s.String())
			u.putString(dir+n+".sha256.asc", fakeSignature)
			listing = append(listing, n, n+".sha256", n+".sha256.asc")
			if v, ok := fixed[n]; ok {
				version, a, _ := strings.Cut(v, " ")
				d := sha256Of(b)
				t.want[key(version, a)] = wantImage{build: "sha256-" + d.Hex[:12], assets: []wantAsset{
					{role: "disk", path: dir + n, sums: dir + n + ".sha256", sig: noCheck, digest: d, size: -1},
				}}
			}
		}
		u.index(apache, dir, sorted(listing)...)
	}
	leap := root + "distribution/leap/16.0/appliances/"
	appliance(leap, []string{
		"Leap-16.0-Minimal-VM.x86_64-Cloud.qcow2",
		"Leap-16.0-Minimal-VM.x86_64-kvm-and-xen.qcow2",
		"Leap-16.0-Minimal-VM.x86_64-16.0.0-Cloud-Build4.12.qcow2",
		"Leap-16.0-Minimal-VM.aarch64-Cloud.qcow2",
		"Leap-16.0-Minimal-VM.aarch64-kvm-and-xen.qcow2",
		"Leap-16.0-Minimal-VM.s390x-s390x-Cloud.qcow2",
	}, map[string]string{
		"Leap-16.0-Minimal-VM.x86_64-Cloud.qcow2":  "16.0 x86_64",
		"Leap-16.0-Minimal-VM.aarch64-Cloud.qcow2": "16.0 aarch64",
	})
	tw := root + "tumbleweed/appliances/"
	appliance(tw, []string{
		"openSUSE-Tumbleweed-Minimal-VM.x86_64-Cloud.qcow2",
		"openSUSE-Tumbleweed-Minimal-VM.x86_64-1.0.0-Cloud-Snapshot20260815.qcow2",
		"openSUSE-Tumbleweed-Minimal-VM.x86_64-kvm-and-xen.qcow2",
	}, map[string]string{"openSUSE-Tumbleweed-Minimal-VM.x86_64-Cloud.qcow2": "tumbleweed x86_64"})
	// A directory-wide SHA256SUMS that lists only Snapshot names.
	snap := "openSUSE-Tumbleweed-Minimal-VM.x86_64-1.0.0-Cloud-Snapshot20260815.qcow2"
	u.putString(tw+"SHA256SUMS", sha256Of(u.files[tw+snap]).Hex+"  "+snap+"\n")
	twArm := root + "ports/aarch64/tumbleweed/appliances/"
	appliance(twArm, []string{
		"openSUSE-Tumbleweed-Minimal-VM.aarch64-Cloud.qcow2",
		"openSUSE-Tumbleweed-Minimal-VM.aarch64-1.0.0-Cloud-Snapshot20260812.qcow2",
	}, map[string]string{"openSUSE-Tumbleweed-Minimal-VM.aarch64-Cloud.qcow2": "tumbleweed aarch64"})

	u.index(apache, root, "distribution/", "ports/", "repositories/", "tumbleweed/", "update/")
	u.index(apache, root+"distribution/", "leap/", "openSUSE-current/", "openSUSE-stable/")
	u.index(apache, root+"distribution/leap/", "15.6/", "16.0/")
	u.index(apache, root+"distribution/leap/16.0/", "appliances/", "offline/", "repo/")
	u.index(apache, root+"tumbleweed/", "appliances/", "iso/", "repo/")
	u.index(apache, root+"ports/", "aarch64/", "ppc/", "riscv/", "zsystems/")
	u.index(apache, root+"ports/aarch64/", "tumbleweed/")
	u.index(apache, root+"ports/aarch64/tumbleweed/", "appliances/", "iso/", "repo/")
	return t
}

// allTrees lists every distribution's hand-written layout by catalog id.
var allTrees = map[string]func(*upstream, string) tree{
	"ubuntu":        ubuntuTree,
	"debian":        debianTree,
	"fedora":        fedoraTree,
	"almalinux":     almaTree,
	"rocky":         rockyTree,
	"centos-stream": centosTree,
	"alpine":        alpineTree,
	"arch":          archTree,
	"opensuse":      opensuseTree,
}
