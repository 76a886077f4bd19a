package catalog_test

import (
	"vmimages/internal/mirrortest"

	"context"
	"errors"
	"net/http"
	"path"
	"slices"
	"strings"
	"testing"

	"vmimages/core/catalog"
	"vmimages/core/manifest"
)

// mirror builds one distribution's hand-written tree under /mirror/{id}/ on
// a fresh loopback server and points a fresh embedded catalog at it.
type mirror struct {
	u    *upstream
	srv  string // server URL, no trailing slash
	root string // "/mirror/{id}/"
	tree tree
	cat  *catalog.Catalog
	f    httpFetcher
}

func newMirror(t *testing.T, id string, edit func(u *upstream, root string)) *mirror {
	t.Helper()
	build, ok := allTrees[id]
	if !ok {
		t.Fatalf("no hand-written upstream layout for %q", id)
	}
	m := &mirror{u: newUpstream(), root: "/mirror/" + id + "/"}
	m.tree = build(m.u, m.root)
	if edit != nil {
		edit(m.u, m.root)
	}
	srv := m.u.serve(t)
	m.srv = srv.URL
	m.f = &mirrortest.Fetcher{Client: srv.Client()}
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.SetBase(id, m.srv+m.root); err != nil {
		t.Fatal(err)
	}
	m.cat = cat
	return m
}

func (m *mirror) resolve(t *testing.T, ref catalog.Ref) (*catalog.Resolved, error) {
	t.Helper()
	return m.cat.Resolve(t.Context(), m.f, ref)
}

// check compares a resolved image with the hand-written expectation, then
// downloads every asset from the mirror and hashes it.
func (m *mirror) check(t *testing.T, res *catalog.Resolved, version, arch string, w wantImage) {
	t.Helper()
	if res.Distro != m.tree.id || res.Version != version || res.Arch != arch {
		t.Errorf("resolved %s %s %s, want %s %s %s", res.Distro, res.Version, res.Arch, m.tree.id, version, arch)
	}
	if res.Build != w.build {
		t.Errorf("build = %q, want %q", res.Build, w.build)
	}
	if res.Boot != m.tree.boot {
		t.Errorf("boot = %q, want %q", res.Boot, m.tree.boot)
	}
	wantSig := m.tree.sig
	if w.sig != "" {
		wantSig = w.sig
	}
	if res.Signature.Kind != wantSig {
		t.Errorf("signature kind = %q, want %q", res.Signature.Kind, wantSig)
	}
	var roles, wantRoles []string
	for _, a := range res.Assets {
		roles = append(roles, a.Role)
	}
	for _, a := range w.assets {
		wantRoles = append(wantRoles, a.role)
	}
	if !slices.Equal(roles, wantRoles) {
		t.Fatalf("asset roles = %v, want %v", roles, wantRoles)
	}
	for i, wa := range w.assets {
		a := res.Assets[i]
		if !strings.HasPrefix(a.URL, m.srv+m.root) {
			t.Errorf("%s URL %s is not under the mirror %s", a.Role, a.URL, m.srv+m.root)
		}
		if a.URL != m.srv+wa.path {
			t.Errorf("%s URL = %s, want %s", a.Role, a.URL, m.srv+wa.path)
		}
		if a.Name != path.Base(wa.path) {
			t.Errorf("%s name = %q, want %q", a.Role, a.Name, path.Base(wa.path))
		}
		if a.Digest != wa.digest {
			t.Errorf("%s digest = %s, want %s (from the mirror's manifest)", a.Role, a.Digest, wa.digest)
		}
		if a.Size != wa.size {
			t.Errorf("%s size = %d, want %d", a.Role, a.Size, wa.size)
		}
		if a.ChecksumsURL != m.srv+wa.sums {
			t.Errorf("%s checksums URL = %s, want %s", a.Role, a.ChecksumsURL, m.srv+wa.sums)
		}
		switch wa.sig {
		case noCheck:
		case "":
			if a.SignatureURL != "" {
				t.Errorf("%s signature URL = %s, want none", a.Role, a.SignatureURL)
			}
		default:
			if a.SignatureURL != m.srv+wa.sig {
				t.Errorf("%s signature URL = %s, want %s", a.Role, a.SignatureURL, m.srv+wa.sig)
			}
		}
		wantFormat := ""
		if a.Role == catalog.RoleDisk {
			wantFormat = "qcow2"
		}
		if a.Format != wantFormat {
			t.Errorf("%s format = %q, want %q", a.Role, a.Format, wantFormat)
		}
		if a.Manifest == nil {
			t.Errorf("%s: parsed manifest not kept", a.Role)
		} else if a.Manifest.Clearsigned != (wantSig == catalog.SigClearsigned) {
			t.Errorf("%s: manifest clearsigned = %v, want %v", a.Role, a.Manifest.Clearsigned, wantSig == catalog.SigClearsigned)
		}
		// The URL must name a real file whose bytes have that digest.
		body, err := m.f.FetchSmall(t.Context(), a.URL, 1<<20)
		if err != nil {
			t.Errorf("%s: fetching the resolved URL: %v", a.Role, err)
			continue
		}
		got := sha256Of(body)
		if a.Digest.Algorithm == manifest.SHA512 {
			got = sha512Of(body)
		}
		if got != a.Digest {
			t.Errorf("%s: file at %s hashes to %s, resolved digest %s", a.Role, a.URL, got, a.Digest)
		}
	}
}

// TestResolveEveryShippedImage resolves every version and arch of every
// shipped distro, and "latest", against its real layout on a mirror.
func TestResolveEveryShippedImage(t *testing.T) {
	shipped, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range shipped.Distros {
		t.Run(d.ID, func(t *testing.T) {
			t.Parallel()
			m := newMirror(t, d.ID, nil)
			covered := map[string]bool{}
			for _, v := range d.Versions {
				for _, a := range d.ArchList(v) {
					k := key(v.Version, a)
					w, ok := m.tree.want[k]
					if !ok {
						t.Errorf("catalog offers %s %s, which the upstream layout does not publish", d.ID, k)
						continue
					}
					covered[k] = true
					t.Run(v.Version+"/"+a, func(t *testing.T) {
						res, err := m.resolve(t, catalog.Ref{Distro: d.ID, Version: v.Version, Arch: a})
						if err != nil {
							t.Fatal(err)
						}
						m.check(t, res, v.Version, a, w)
					})
				}
			}
			for k := range m.tree.want {
				if !covered[k] {
					t.Errorf("upstream publishes %s %s but the catalog does not offer it", d.ID, k)
				}
			}

			latest, err := m.cat.Distro(d.ID)
			if err != nil {
				t.Fatal(err)
			}
			lv := latest.Latest()
			if lv == nil || lv.Version != m.tree.latest {
				t.Fatalf("Latest() = %v, want %s", lv, m.tree.latest)
			}
			for _, a := range latest.ArchList(lv) {
				t.Run("latest/"+a, func(t *testing.T) {
					res, err := m.resolve(t, catalog.Ref{Distro: d.ID, Version: "latest", Arch: a})
					if err != nil {
						t.Fatal(err)
					}
					m.check(t, res, m.tree.latest, a, m.tree.want[key(m.tree.latest, a)])
				})
			}
			m.u.assertStayedUnder(t, m.root)
		})
	}
}

// TestResolveSpellings: codenames, upstream arch spellings and letter case
// name the same image as the canonical names.
func TestResolveSpellings(t *testing.T) {
	tests := []struct {
		id         string
		ref        catalog.Ref
		version    string
		arch       string
		wantSuffix string
	}{
		{"ubuntu", catalog.Ref{Distro: "ubuntu", Version: "noble", Arch: "arm64"}, "24.04", "aarch64", "/noble/release-20260720/ubuntu-24.04-server-cloudimg-arm64.img"},
		{"ubuntu", catalog.Ref{Distro: "Ubuntu", Version: "Resolute", Arch: "AMD64"}, "26.04", "x86_64", "/resolute/release-20260720/ubuntu-26.04-server-cloudimg-amd64.img"},
		{"ubuntu", catalog.Ref{Distro: "ubuntu", Version: "22.04", Arch: "ppc64el"}, "22.04", "ppc64le", "/jammy/release-20260705.1/ubuntu-22.04-server-cloudimg-ppc64el.img"},
		{"debian", catalog.Ref{Distro: "debian", Version: "bookworm", Arch: "amd64"}, "12", "x86_64", "/bookworm/20260712-2537/debian-12-genericcloud-amd64-20260712-2537.qcow2"},
		{"fedora", catalog.Ref{Distro: "fedora", Version: "44", Arch: "arm64"}, "44", "aarch64", "/44/Cloud/aarch64/images/Fedora-Cloud-Base-Generic-44-1.7.aarch64.qcow2"},
		{"opensuse", catalog.Ref{Distro: "opensuse", Version: "leap", Arch: "arm64"}, "16.0", "aarch64", "/distribution/leap/16.0/appliances/Leap-16.0-Minimal-VM.aarch64-Cloud.qcow2"},
	}
	for _, tt := range tests {
		t.Run(tt.ref.String(), func(t *testing.T) {
			m := newMirror(t, tt.id, nil)
			res, err := m.resolve(t, tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if res.Version != tt.version || res.Arch != tt.arch {
				t.Errorf("resolved %s %s, want %s %s", res.Version, res.Arch, tt.version, tt.arch)
			}
			if want := m.srv + m.root + strings.TrimPrefix(tt.wantSuffix, "/"); res.Disk().URL != want {
				t.Errorf("disk URL = %s, want %s", res.Disk().URL, want)
			}
		})
	}
}

// TestResolveNotInCatalog: refs the catalog cannot serve fail before any
// network access, naming what exists.
func TestResolveNotInCatalog(t *testing.T) {
	tests := []struct {
		ref       catalog.Ref
		what      string
		asked     string
		available []string // all must be listed
		absent    []string // none may be listed
	}{
		{catalog.Ref{Distro: "arch", Version: "latest", Arch: "aarch64"}, "arch", "aarch64", []string{"x86_64"}, []string{"aarch64"}},
		{catalog.Ref{Distro: "arch", Version: "rolling", Arch: "arm64"}, "arch", "aarch64", []string{"x86_64"}, nil},
		{catalog.Ref{Distro: "debian", Version: "13", Arch: "ppc64el"}, "arch", "ppc64le", []string{"x86_64", "aarch64"}, []string{"ppc64le"}},
		{catalog.Ref{Distro: "fedora", Version: "44", Arch: "armhf"}, "arch", "armv7l", []string{"x86_64", "aarch64"}, nil},
		{catalog.Ref{Distro: "gentoo", Version: "latest", Arch: "x86_64"}, "distro", "gentoo", []string{"ubuntu", "debian", "fedora", "almalinux", "rocky", "centos-stream", "alpine", "arch", "opensuse"}, nil},
		{catalog.Ref{Distro: "ubuntu", Version: "21.04", Arch: "x86_64"}, "version", "21.04", []string{"22.04", "24.04", "25.10", "26.04", "latest"}, nil},
		{catalog.Ref{Distro: "debian", Version: "11", Arch: "x86_64"}, "version", "11", []string{"12", "13", "latest"}, []string{"11"}},
		{catalog.Ref{Distro: "alpine", Version: "3.25", Arch: "x86_64"}, "version", "3.25", []string{"3.21", "3.22", "3.23", "3.24"}, nil},
	}
	u := newUpstream()
	srv := u.serve(t)
	f := &mirrortest.Fetcher{Client: srv.Client()}
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range cat.IDs() {
		if err := cat.SetBase(id, srv.URL+"/mirror/"+id+"/"); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.ref.String(), func(t *testing.T) {
			res, err := cat.Resolve(t.Context(), f, tt.ref)
			if err == nil {
				t.Fatalf("resolved %+v, want an error", res)
			}
			if !errors.Is(err, catalog.ErrNotInCatalog) {
				t.Errorf("error %v is not ErrNotInCatalog", err)
			}
			var nf *catalog.NotFoundError
			if !errors.As(err, &nf) {
				t.Fatalf("error %v is not a *NotFoundError", err)
			}
			if nf.What != tt.what || nf.Asked != tt.asked {
				t.Errorf("not found %s %q, want %s %q", nf.What, nf.Asked, tt.what, tt.asked)
			}
			for _, a := range tt.available {
				if !slices.Contains(nf.Available, a) {
					t.Errorf("available %v lacks %s", nf.Available, a)
				}
				if !strings.Contains(err.Error(), a) {
					t.Errorf("message %q does not mention %s", err, a)
				}
			}
			for _, a := range tt.absent {
				if slices.Contains(nf.Available, a) {
					t.Errorf("available %v lists %s", nf.Available, a)
				}
			}
		})
	}
	if hits := u.requests(); len(hits) > 0 {
		t.Errorf("refs outside the catalog reached the network: %v", hits)
	}
}

// TestResolveFetchErrors: a listing or manifest that cannot be fetched is a
// *FetchError naming its URL.
func TestResolveFetchErrors(t *testing.T) {
	tests := []struct {
		name    string
		id      string
		ref     catalog.Ref
		edit    func(u *upstream, root string)
		path    string // the URL path the error must name, below root
		message string // also in the error text
	}{
		{
			name: "debian SHA512SUMS 404", id: "debian", ref: catalog.Ref{Distro: "debian", Version: "13", Arch: "x86_64"},
			edit: func(u *upstream, root string) { u.fail(root+"trixie/20260810-2566/SHA512SUMS", http.StatusNotFound) },
			path: "trixie/20260810-2566/SHA512SUMS", message: "404",
		},
		{
			name: "debian SHA512SUMS 500", id: "debian", ref: catalog.Ref{Distro: "debian", Version: "12", Arch: "aarch64"},
			edit: func(u *upstream, root string) {
				u.fail(root+"bookworm/20260712-2537/SHA512SUMS", http.StatusInternalServerError)
			},
			path: "bookworm/20260712-2537/SHA512SUMS", message: "500",
		},
		{
			name: "ubuntu unpacked SHA256SUMS 500", id: "ubuntu", ref: catalog.Ref{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"},
			edit: func(u *upstream, root string) {
				u.fail(root+"noble/release-20260720/unpacked/SHA256SUMS", http.StatusInternalServerError)
			},
			path: "noble/release-20260720/unpacked/SHA256SUMS", message: "500",
		},
		{
			name: "rocky sidecar 404", id: "rocky", ref: catalog.Ref{Distro: "rocky", Version: "10", Arch: "aarch64"},
			edit: func(u *upstream, root string) {
				u.fail(root+"10.2/images/aarch64/Rocky-10-GenericCloud-Base-10.2-20260525.10.aarch64.qcow2.CHECKSUM", http.StatusNotFound)
			},
			path: "10.2/images/aarch64/Rocky-10-GenericCloud-Base-10.2-20260525.10.aarch64.qcow2.CHECKSUM", message: "404",
		},
		{
			name: "alpine sha512 sidecar 404", id: "alpine", ref: catalog.Ref{Distro: "alpine", Version: "3.23", Arch: "x86_64"},
			edit: func(u *upstream, root string) {
				u.fail(root+"v3.23/releases/cloud/generic_alpine-3.23.10-x86_64-uefi-cloudinit-r1.qcow2.sha512", http.StatusNotFound)
			},
			path: "v3.23/releases/cloud/generic_alpine-3.23.10-x86_64-uefi-cloudinit-r1.qcow2.sha512", message: "404",
		},
		{
			name: "alma discovery CHECKSUM 500", id: "almalinux", ref: catalog.Ref{Distro: "almalinux", Version: "10", Arch: "x86_64"},
			edit: func(u *upstream, root string) {
				u.fail(root+"10/cloud/x86_64/images/CHECKSUM", http.StatusInternalServerError)
			},
			path: "10/cloud/x86_64/images/CHECKSUM", message: "500",
		},
		{
			name: "ubuntu release listing 503", id: "ubuntu", ref: catalog.Ref{Distro: "ubuntu", Version: "26.04", Arch: "aarch64"},
			edit: func(u *upstream, root string) { u.fail(root+"resolute/", http.StatusServiceUnavailable) },
			path: "resolute/", message: "503",
		},
		{
			name: "rocky top listing 404", id: "rocky", ref: catalog.Ref{Distro: "rocky", Version: "9", Arch: "x86_64"},
			edit: func(u *upstream, root string) { u.fail(root, http.StatusNotFound) },
			path: "", message: "404",
		},
		{
			name: "listing larger than MaxListingSize", id: "debian", ref: catalog.Ref{Distro: "debian", Version: "13", Arch: "x86_64"},
			edit: func(u *upstream, root string) {
				big := append(nginxIndex(root+"trixie/", dirs("20260810-2566")), make([]byte, catalog.MaxListingSize)...)
				u.put(root+"trixie/", big)
			},
			path: "trixie/", message: "larger than",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMirror(t, tt.id, tt.edit)
			res, err := m.resolve(t, tt.ref)
			if err == nil {
				t.Fatalf("resolved %+v, want an error", res)
			}
			var fe *catalog.FetchError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FetchError", err)
			}
			want := m.srv + m.root + tt.path
			if fe.URL != want {
				t.Errorf("FetchError.URL = %s, want %s", fe.URL, want)
			}
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q should name %s and say %q", err, want, tt.message)
			}
		})
	}
}

// TestResolveCancelled: a cancelled context stops resolution with its error.
func TestResolveCancelled(t *testing.T) {
	m := newMirror(t, "ubuntu", nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := m.cat.Resolve(ctx, m.f, catalog.Ref{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
}

// keepOnly edits the file at root+p, keeping the lines keep accepts.
func keepOnly(p string, keep func(line string) bool) func(u *upstream, root string) {
	return func(u *upstream, root string) {
		var out []string
		for _, l := range strings.SplitAfter(string(u.files[root+p]), "\n") {
			if keep(l) {
				out = append(out, l)
			}
		}
		u.putString(root+p, strings.Join(out, ""))
	}
}

// TestResolveManifestLacksFile: a manifest without the exact name is
// manifest.ErrNotFound, even when near-identical names are listed.
func TestResolveManifestLacksFile(t *testing.T) {
	tests := []struct {
		name string
		id   string
		ref  catalog.Ref
		edit func(u *upstream, root string)
		sums string
	}{
		{
			name: "debian without genericcloud amd64", id: "debian", ref: catalog.Ref{Distro: "debian", Version: "13", Arch: "x86_64"},
			edit: keepOnly("trixie/20260810-2566/SHA512SUMS", func(l string) bool {
				return !strings.Contains(l, "genericcloud-amd64-20260810-2566.qcow2")
			}),
			sums: "trixie/20260810-2566/SHA512SUMS",
		},
		{
			name: "ubuntu with only disk-kvm and root.tar.xz", id: "ubuntu", ref: catalog.Ref{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"},
			edit: keepOnly("noble/release-20260720/SHA256SUMS", func(l string) bool {
				return !strings.HasSuffix(l, "*ubuntu-24.04-server-cloudimg-amd64.img\n")
			}),
			sums: "noble/release-20260720/SHA256SUMS",
		},
		{
			name: "ubuntu unpacked without the kernel", id: "ubuntu", ref: catalog.Ref{Distro: "ubuntu", Version: "22.04", Arch: "aarch64"},
			edit: keepOnly("jammy/release-20260705.1/unpacked/SHA256SUMS", func(l string) bool {
				return !strings.Contains(l, "arm64-vmlinuz-generic")
			}),
			sums: "jammy/release-20260705.1/unpacked/SHA256SUMS",
		},
		{
			name: "fedora CHECKSUM with only the UKI image", id: "fedora", ref: catalog.Ref{Distro: "fedora", Version: "44", Arch: "x86_64"},
			edit: keepOnly("44/Cloud/x86_64/images/Fedora-Cloud-44-1.7-x86_64-CHECKSUM", func(l string) bool {
				return !strings.Contains(l, "Generic")
			}),
			sums: "44/Cloud/x86_64/images/Fedora-Cloud-44-1.7-x86_64-CHECKSUM",
		},
		{
			name: "opensuse sidecar naming another file", id: "opensuse", ref: catalog.Ref{Distro: "opensuse", Version: "16.0", Arch: "x86_64"},
			edit: func(u *upstream, root string) {
				u.putString(root+"distribution/leap/16.0/appliances/Leap-16.0-Minimal-VM.x86_64-Cloud.qcow2.sha256",
					strings.Repeat("ab", 32)+"  Leap-16.0-Minimal-VM.x86_64-kvm-and-xen.qcow2\n")
			},
			sums: "distribution/leap/16.0/appliances/Leap-16.0-Minimal-VM.x86_64-Cloud.qcow2.sha256",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMirror(t, tt.id, tt.edit)
			res, err := m.resolve(t, tt.ref)
			if err == nil {
				t.Fatalf("resolved %+v, want an error", res.Assets)
			}
			if !errors.Is(err, manifest.ErrNotFound) {
				t.Errorf("error %v is not manifest.ErrNotFound", err)
			}
			if want := m.srv + m.root + tt.sums; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name the manifest %s", err, want)
			}
		})
	}
}

// TestResolveOptionalInitrd: a missing initrd is skipped, a missing kernel is not.
func TestResolveOptionalInitrd(t *testing.T) {
	m := newMirror(t, "ubuntu", func(u *upstream, root string) {
		p := root + "resolute/release-20260720/unpacked/SHA256SUMS"
		var out []string
		for _, l := range strings.SplitAfter(string(u.files[p]), "\n") {
			if !strings.Contains(l, "amd64-initrd-generic") {
				out = append(out, l)
			}
		}
		u.putString(p, strings.Join(out, ""))
	})
	res, err := m.resolve(t, catalog.Ref{Distro: "ubuntu", Version: "26.04", Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Asset(catalog.RoleInitramfs) != nil {
		t.Errorf("initramfs resolved though upstream does not list it: %+v", res.Asset(catalog.RoleInitramfs))
	}
	if k := res.Asset(catalog.RoleKernel); k == nil || !strings.HasSuffix(k.URL, "/unpacked/ubuntu-26.04-server-cloudimg-amd64-vmlinuz-generic") {
		t.Errorf("kernel = %+v", k)
	}
}

// TestResolveNoBuild: a listing or manifest with nothing the pattern accepts
// is ErrNoBuild, naming where it looked.
func TestResolveNoBuild(t *testing.T) {
	tests := []struct {
		name string
		id   string
		ref  catalog.Ref
		edit func(u *upstream, root string)
		from string
	}{
		{
			name: "debian with only latest and daily", id: "debian", ref: catalog.Ref{Distro: "debian", Version: "13", Arch: "x86_64"},
			edit: func(u *upstream, root string) { u.index(apache, root+"trixie/", "daily/", "latest/") },
			from: "trixie/",
		},
		{
			name: "ubuntu with only the release alias", id: "ubuntu", ref: catalog.Ref{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"},
			edit: func(u *upstream, root string) { u.index(apache, root+"noble/", "release/", "release-latest/") },
			from: "noble/",
		},
		{
			name: "alpine with only bios and tiny images", id: "alpine", ref: catalog.Ref{Distro: "alpine", Version: "3.23", Arch: "x86_64"},
			edit: func(u *upstream, root string) {
				u.index(nginx, root+"v3.23/releases/cloud/",
					"nocloud_alpine-3.23.10-x86_64-bios-cloudinit-r0.qcow2",
					"nocloud_alpine-3.23.10-x86_64-uefi-tiny-r0.qcow2",
					"nocloud_alpine-3.23.10-aarch64-uefi-cloudinit-r0.qcow2",
					"nocloud_alpine-3.23.10-x86_64-uefi-cloudinit-r0.qcow2.sha512")
			},
			from: "v3.23/releases/cloud/",
		},
		{
			name: "alma CHECKSUM with only latest and ext4", id: "almalinux", ref: catalog.Ref{Distro: "almalinux", Version: "9", Arch: "aarch64"},
			edit: func(u *upstream, root string) {
				h := strings.Repeat("0f", 32)
				u.putString(root+"9/cloud/aarch64/images/CHECKSUM",
					h+"  AlmaLinux-9-GenericCloud-latest.aarch64.qcow2\n"+
						h+"  AlmaLinux-9-GenericCloud-ext4-9.8-20260526.aarch64.qcow2\n"+
						h+"  AlmaLinux-9-GenericCloud-9.8-20260526.x86_64.qcow2\n")
			},
			from: "9/cloud/aarch64/images/CHECKSUM",
		},
		{
			name: "rocky with only major aliases", id: "rocky", ref: catalog.Ref{Distro: "rocky", Version: "10", Arch: "x86_64"},
			edit: func(u *upstream, root string) { u.index(nginx, root, "10/", "9/", "8/", "9.8/") },
			from: "",
		},
		{
			name: "fedora with only UKI images", id: "fedora", ref: catalog.Ref{Distro: "fedora", Version: "42", Arch: "aarch64"},
			edit: func(u *upstream, root string) {
				u.index(apache, root+"42/Cloud/aarch64/images/", "Fedora-Cloud-Base-UEFI-UKI-42-1.1.aarch64.qcow2", "Fedora-Cloud-42-1.1-aarch64-CHECKSUM")
			},
			from: "42/Cloud/aarch64/images/",
		},
		{
			name: "centos with only arch-in-the-middle names", id: "centos-stream", ref: catalog.Ref{Distro: "centos-stream", Version: "9", Arch: "x86_64"},
			edit: keepOnly("9-stream/x86_64/images/CHECKSUM", func(l string) bool {
				return strings.Contains(l, "GenericCloud-x86_64-9-") || strings.Contains(l, "GenericCloud-9-latest")
			}),
			from: "9-stream/x86_64/images/CHECKSUM",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newMirror(t, tt.id, tt.edit)
			res, err := m.resolve(t, tt.ref)
			if err == nil {
				t.Fatalf("resolved %+v, want ErrNoBuild", res.Assets)
			}
			if !errors.Is(err, catalog.ErrNoBuild) {
				t.Errorf("error %v is not ErrNoBuild", err)
			}
			if want := m.srv + m.root + tt.from; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not name %s", err, want)
			}
		})
	}
}

// hostileHrefs are links a compromised or odd mirror could put in a listing;
// none of them may become an entry name.
var hostileHrefs = []string{
	"../", "..", "./", ".", "./../x.img", "../../etc/passwd",
	"/etc/passwd", "/mirror/evil/x.img", "//evil.example/x.img",
	"http://evil.example/x.img", "HTTPS://evil.example/x.img", "mailto:root@example.org",
	"%2E%2E/", "%2e%2e", "%2e%2e%2fsecret.img", "..%2F..%2Fsecret.img", "a%2Fb.img", "a%2fb.img",
	"a%5Cb.img", `a\b.img`, `..\..\secret.img`, "&#46;&#46;/", "..&#47;secret.img", "a&#x2F;b.img",
	"x%00.img", "x%0A.img", "x%0d.img", "x%1B[31m.img", "x%7F.img", "x%C2%85.img", "x%C2%9B31m.img",
	"%", "%zz.img", "?C=N;O=D", "#top", "dir//", "a/b/", "a/b.img", "%2F", "%2F/",
}

// TestParseListingHostile: hostile hrefs are dropped and ordinary ones next to
// them survive.
func TestParseListingHostile(t *testing.T) {
	var b strings.Builder
	b.WriteString("<html><body><pre>\n")
	for _, h := range hostileHrefs {
		b.WriteString(`<a href="` + h + `">x</a>` + "\n")
		b.WriteString(`<A HREF='` + h + `'>x</A>` + "\n")
	}
	b.WriteString(`<a href="./good.img">good.img</a>` + "\n")
	b.WriteString(`<a href="release-20260720/">release-20260720/</a>` + "\n")
	b.WriteString(`<a href="with%20space.img">with space.img</a>` + "\n")
	b.WriteString("</pre></body></html>\n")
	got := catalog.ParseListing([]byte(b.String()))
	want := []string{"good.img", "release-20260720/", "with space.img"}
	if !slices.Equal(got, want) {
		t.Errorf("ParseListing = %q, want %q", got, want)
	}
}

// TestResolveHostileListing: even an overlay whose pattern accepts any name
// never resolves to a URL outside the mirror directory.
func TestResolveHostileListing(t *testing.T) {
	const overlay = `
[[distro]]
id = "permissive"
base = "http://placeholder.invalid/"
arches = { x86_64 = "x86_64" }
discover = [{ list = "pub/", match = '(?P<name>.+)' }]
dir = "pub/"
assets = [{ role = "disk", file = "{name}", format = "qcow2", checksums = "SHA256SUMS" }]
versions = [{ version = "1" }]
`
	tests := []struct {
		name    string
		hrefs   []string
		wantURL string // "" means ErrNoBuild
	}{
		{"only hostile links", hostileHrefs, ""},
		{"hostile links and one real file", append([]string{"good.img"}, hostileHrefs...), "/mirror/permissive/pub/good.img"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := newUpstream()
			root := "/mirror/permissive/"
			var b strings.Builder
			b.WriteString(`<html><body><h1>Index of /pub/</h1><hr><pre><a href="../">../</a>` + "\n")
			for _, h := range tt.hrefs {
				b.WriteString(`<a href="` + h + `">` + h + "</a>\n")
			}
			b.WriteString("</pre></body></html>\n")
			u.putString(root+"pub/", b.String())
			good := u.blob(root + "pub/good.img")
			u.putString(root+"pub/SHA256SUMS", sha256Of(good).Hex+"  good.img\n")
			srv := u.serve(t)

			cat, err := catalog.Load(strings.NewReader(overlay), "permissive.toml")
			if err != nil {
				t.Fatal(err)
			}
			if err := cat.SetBase("permissive", srv.URL+root); err != nil {
				t.Fatal(err)
			}
			res, err := cat.Resolve(t.Context(), &mirrortest.Fetcher{Client: srv.Client()}, catalog.Ref{Distro: "permissive", Version: "1", Arch: "x86_64"})
			switch {
			case tt.wantURL == "":
				if !errors.Is(err, catalog.ErrNoBuild) {
					t.Errorf("Resolve = %+v, %v; want ErrNoBuild", res, err)
				}
			case err != nil:
				t.Errorf("Resolve: %v", err)
			default:
				if res.Disk().URL != srv.URL+tt.wantURL || res.Disk().Digest != sha256Of(good) {
					t.Errorf("disk = %s %s, want %s", res.Disk().URL, res.Disk().Digest, srv.URL+tt.wantURL)
				}
			}
			u.assertStayedUnder(t, root+"pub/")
		})
	}
}

// CentOS Stream is discovered from the images directory's CHECKSUM, which
// names every image, not from the (much larger) HTML listing: a build the
// listing shows but CHECKSUM lacks is never picked, and the listing is never
// read.
func TestCentOSDiscoversFromChecksum(t *testing.T) {
	m := newMirror(t, "centos-stream", func(u *upstream, root string) {
		dir := root + "10-stream/x86_64/images/"
		u.index(apache, dir, "CentOS-Stream-GenericCloud-10-20261231.0.x86_64.qcow2", "CHECKSUM")
	})
	res, err := m.resolve(t, catalog.Ref{Distro: "centos-stream", Version: "10", Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Build != "20260720.0" {
		t.Errorf("build = %s, want the newest in CHECKSUM, 20260720.0", res.Build)
	}
	for _, p := range m.u.requests() {
		if strings.HasSuffix(p, "/images/") {
			t.Errorf("the HTML listing %s was read", p)
		}
	}
}

// Alpine's 2026 point releases are published as generic_… only: the newest
// point and revision win whatever the prefix, 3.24 resolves, and a build
// published under both names resolves to nocloud_, the name it had before.
func TestAlpineGenericPrefix(t *testing.T) {
	m := newMirror(t, "alpine", nil)
	for _, tc := range []struct{ version, name string }{
		{"3.24", "generic_alpine-3.24.1-x86_64-uefi-cloudinit-r0.qcow2"},
		{"3.23", "generic_alpine-3.23.10-x86_64-uefi-cloudinit-r1.qcow2"},
		{"3.22", "generic_alpine-3.22.5-x86_64-uefi-cloudinit-r0.qcow2"},
		{"3.21", "nocloud_alpine-3.21.7-x86_64-uefi-cloudinit-r0.qcow2"},
	} {
		res, err := m.resolve(t, catalog.Ref{Distro: "alpine", Version: tc.version, Arch: "x86_64"})
		if err != nil {
			t.Errorf("alpine %s: %v", tc.version, err)
			continue
		}
		if got := res.Disk().Name; got != tc.name {
			t.Errorf("alpine %s: disk %s, want %s", tc.version, got, tc.name)
		}
	}
}

// Fedora moves a release past its end of life to /pub/archive/ a few weeks
// later. A release gone from releases/ resolves from the archive, says so,
// and a mirror with the upstream layout serves both the same way.
func TestFedoraArchiveFallback(t *testing.T) {
	u := newUpstream()
	const root = "/pub/fedora/linux/releases/"
	const archive = "/pub/archive/fedora/linux/releases/"
	tr := fedoraTree(u, root)
	for p, b := range u.files {
		if rest, ok := strings.CutPrefix(p, root+"42/"); ok {
			u.put(archive+"42/"+rest, b)
			delete(u.files, p)
		}
	}
	srv := u.serve(t)
	f := &mirrortest.Fetcher{Client: srv.Client()}
	cat, err := catalog.Embedded()
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.SetBase("fedora", srv.URL+root); err != nil {
		t.Fatal(err)
	}
	res, err := cat.Resolve(t.Context(), f, catalog.Ref{Distro: "fedora", Version: "42", Arch: "x86_64"})
	if err != nil {
		t.Fatalf("fedora 42 moved to the archive: %v", err)
	}
	want := tr.want[key("42", "x86_64")]
	if !res.Archived || !strings.Contains(res.Note, "archive") {
		t.Errorf("archived = %v, note %q: want the fallback said", res.Archived, res.Note)
	}
	if d := res.Disk(); d.URL != srv.URL+strings.Replace(want.assets[0].path, root, archive, 1) || d.Digest != want.assets[0].digest {
		t.Errorf("disk = %s %s, want it from the archive", d.URL, d.Digest)
	}
	// A release still in place is not archived.
	res, err = cat.Resolve(t.Context(), f, catalog.Ref{Distro: "fedora", Version: "44", Arch: "x86_64"})
	if err != nil || res.Archived || !strings.HasPrefix(res.Disk().URL, srv.URL+root) {
		t.Errorf("fedora 44: %v archived=%v", err, res != nil && res.Archived)
	}
	// Gone from both: the error is the one from releases/.
	for p := range u.files {
		if strings.HasPrefix(p, archive) {
			delete(u.files, p)
		}
	}
	if _, err := cat.Resolve(t.Context(), f, catalog.Ref{Distro: "fedora", Version: "42", Arch: "x86_64"}); err == nil || !strings.Contains(err.Error(), root+"42/") {
		t.Errorf("gone everywhere: %v, want the releases/ error", err)
	}
}
