package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmimages/cli"
	"vmimages/internal/mirrortest"
)

// signedLayout serves one image of a distro whose shipped catalog entry is
// signed (Arch, AlmaLinux 9), with its checksum manifest signed by a key that
// is not the distribution's pinned one, and says where the image is.
type signedLayout struct {
	distro, version string
	srv             *mirrortest.Server
	image           string // URL path of the disk image
}

// archLayout is arch-boxes' layout on geo.mirror.pkgbuild.com/images/:
// v{date}.{job}/Arch-Linux-x86_64-cloudimg-{date}.{job}.qcow2 with
// {image}.SHA256 (GNU) and {image}.SHA256.sig beside it.
func archLayout(t *testing.T, signer *mirrortest.Signer) *signedLayout {
	srv := mirrortest.New(t)
	const build = "20261001.604814"
	name := "Arch-Linux-x86_64-cloudimg-" + build + ".qcow2"
	dir := "/arch/v" + build + "/"
	disk := mirrortest.Payload("arch-disk", 50_000)
	srv.Put(dir+name, disk)
	sums := []byte(mirrortest.SHA256(disk) + "  " + name + "\n")
	srv.Put(dir+name+".SHA256", sums)
	srv.Put(dir+name+".SHA256.sig", signer.Detach(t, sums))
	srv.Put("/arch/latest/"+"Arch-Linux-x86_64-cloudimg.qcow2", disk)
	return &signedLayout{distro: "arch", version: "rolling", srv: srv, image: dir + name}
}

// almaLayout is repo.almalinux.org's: the 9/ alias whose CHECKSUM names the
// dated image, and the 9.8/ folder it is pinned to, with CHECKSUM.asc.
func almaLayout(t *testing.T, signer *mirrortest.Signer) *signedLayout {
	srv := mirrortest.New(t)
	name := "AlmaLinux-9-GenericCloud-9.8-20260526.x86_64.qcow2"
	disk := mirrortest.Payload("alma-disk", 50_000)
	sums := mirrortest.GNU(false, mirrortest.SHA256, map[string][]byte{
		name: disk, "AlmaLinux-9-GenericCloud-latest.x86_64.qcow2": disk,
	})
	for _, dir := range []string{"/almalinux/9/cloud/x86_64/images/", "/almalinux/9.8/cloud/x86_64/images/"} {
		srv.Put(dir+name, disk)
		srv.Put(dir+"CHECKSUM", sums)
		srv.Put(dir+"CHECKSUM.asc", signer.Detach(t, sums))
	}
	return &signedLayout{distro: "almalinux", version: "9", srv: srv, image: "/almalinux/9.8/cloud/x86_64/images/" + name}
}

// A signature by any key but the distribution's pinned one is an integrity
// failure (exit 3) before any image byte is fetched: by a stranger's key, by
// a key the user added for another distro, for resolve and for pull.
func TestSignedByAnotherKey(t *testing.T) {
	for _, layout := range []func(*testing.T, *mirrortest.Signer) *signedLayout{archLayout, almaLayout} {
		for _, userKey := range []bool{false, true} {
			s := newSandbox(t)
			signer := mirrortest.NewSigner(t)
			l := layout(t, signer)
			name := l.distro
			if userKey {
				// The signer is the user's own key, added for another
				// distro; it must not count for this one.
				name += " with the key added for mydistro"
				writeFile(t, filepath.Join(filepath.Dir(s.config), "mine.asc"), string(signer.PublicKey))
				s.writeConfig("[[keys]]\ndistro = \"mydistro\"\nfingerprint = \"" + signer.Fingerprint + "\"\nfile = \"mine.asc\"\n")
			}
			t.Run(name, func(t *testing.T) {
				mirror := l.distro + "=" + l.srv.URL + "/" + l.distro + "/"
				for _, cmd := range []string{"resolve", "pull"} {
					r := s.run(cmd, l.distro, l.version, "--arch", "x86_64", "--json", "--mirror", mirror)
					if r.code != cli.ExitIntegrity {
						t.Fatalf("%s: want exit 3\n%s", cmd, r)
					}
					if !strings.Contains(r.stderr, signer.Fingerprint[24:]) && !strings.Contains(r.stderr, "signed by") {
						t.Errorf("%s: the error should say who signed\n%s", cmd, r)
					}
				}
				if n := l.srv.Count(l.image); n != 0 {
					t.Errorf("the image was requested %d times before the signature was checked", n)
				}
			})
		}
	}
}

// An overlay entry may name a user's key only for the distro the key was
// added for: the same key and signature, named by another entry, is not
// "verified".
func TestUserKeyScopedToItsDistro(t *testing.T) {
	s := newSandbox(t)
	signer := mirrortest.NewSigner(t)
	writeFile(t, filepath.Join(filepath.Dir(s.config), "mine.asc"), string(signer.PublicKey))
	s.writeConfig("[[keys]]\ndistro = \"mydistro\"\nfingerprint = \"" + signer.Fingerprint + "\"\nfile = \"mine.asc\"\n")
	s.overlay("ubuntu.toml", mirrortest.UbuntuOverlay(signer.Fingerprint))
	srv := mirrortest.New(t)
	dir := srv.AddUbuntu("/ubuntu", "24.04", "noble", "20260926", "amd64",
		mirrortest.Payload("d", 1000), mirrortest.Payload("k", 1000), mirrortest.Payload("i", 1000))
	srv.Put(dir+"SHA256SUMS.gpg", signer.Detach(t, srv.Get(dir+"SHA256SUMS")))
	doc := s.run("resolve", "ubuntu", "24.04", "--arch", "amd64", "--json", "--mirror", "ubuntu="+srv.URL+"/ubuntu/").ok(t).jsonDoc(t)
	sig, _ := doc["signature"].(object)
	if sig["status"] == "verified" {
		t.Errorf("signature = %v: a key added for mydistro verified ubuntu", sig)
	}
}

// shippedEntryWithKey is the shipped catalog entry of distro, as an overlay
// whose signing keys are replaced by fp: the layout, file names and
// signature files are the shipped ones, only the key differs.
func shippedEntryWithKey(t *testing.T, distro, fp string, pinned ...string) string {
	t.Helper()
	b, err := os.ReadFile("../core/catalog/default.toml")
	if err != nil {
		t.Fatal(err)
	}
	var entry string
	for _, block := range strings.Split(string(b), "[[distro]]") {
		if strings.Contains(block, "\nid = \""+distro+"\"\n") {
			entry = "[[distro]]" + block
		}
	}
	if entry == "" {
		t.Fatalf("no %s entry in default.toml", distro)
	}
	for _, p := range pinned {
		if !strings.Contains(entry, p) {
			t.Fatalf("the %s entry does not name %s", distro, p)
		}
		entry = strings.ReplaceAll(entry, `"`+p+`"`, `"`+fp+`"`)
	}
	return entry
}

// With the signer's key in place of the distribution's, the shipped Arch and
// AlmaLinux 9 layouts (.SHA256.sig, CHECKSUM.asc) resolve as verified: the
// signature files are the ones the catalog names, read before any image
// byte. (No real signed Arch or AlmaLinux manifest is in the stored sources,
// so the distributions' own keys cannot be exercised on real bytes.)
func TestShippedSignedLayoutsVerify(t *testing.T) {
	for _, tc := range []struct {
		layout func(*testing.T, *mirrortest.Signer) *signedLayout
		pinned []string
	}{
		{archLayout, []string{"1B9A16984A4E8CB448712D2AE0B78BF4326C6F8F"}},
		{almaLayout, []string{"BF18AC2876178908D6E71267D36CB86CB86B3716"}},
	} {
		s := newSandbox(t)
		signer := mirrortest.NewSigner(t)
		l := tc.layout(t, signer)
		t.Run(l.distro, func(t *testing.T) {
			s.overlay(l.distro+".toml", shippedEntryWithKey(t, l.distro, signer.Fingerprint, tc.pinned...))
			writeFile(t, filepath.Join(filepath.Dir(s.config), "k.asc"), string(signer.PublicKey))
			s.writeConfig("[[keys]]\ndistro = \"" + l.distro + "\"\nfingerprint = \"" + signer.Fingerprint + "\"\nfile = \"k.asc\"\n")
			doc := s.run("resolve", l.distro, l.version, "--arch", "x86_64", "--json", "--mirror", l.distro+"="+l.srv.URL+"/"+l.distro+"/").ok(t).jsonDoc(t)
			sig, _ := doc["signature"].(object)
			if sig["status"] != "verified" || sig["signer"] != signer.Fingerprint {
				t.Errorf("signature = %v, want verified by %s", sig, signer.Fingerprint)
			}
			if n := l.srv.Count(l.image); n != 0 {
				t.Errorf("resolve fetched the image %d times", n)
			}
		})
	}
}
