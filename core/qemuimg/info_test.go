package qemuimg

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseInfo(t *testing.T) {
	tests := []struct {
		file string
		want Info
	}{
		{"info-qcow2.json", Info{Filename: "disk.qcow2", Format: "qcow2", VirtualSize: 64 << 20, ActualSize: 2363392, ClusterSize: 65536}},
		{"info-raw.json", Info{Filename: "disk.img", Format: "raw", VirtualSize: 16 << 20, ActualSize: 4096}},
		{"info-qcow2-backing.json", Info{Filename: "overlay.qcow2", Format: "qcow2", VirtualSize: 64 << 20, ActualSize: 200704, ClusterSize: 65536,
			BackingFile: "disk.qcow2", BackingFormat: "qcow2"}},
		{"info-qcow2-data-file.json", Info{Filename: "ext.qcow2", Format: "qcow2", VirtualSize: 16 << 20, ActualSize: 200704, ClusterSize: 65536,
			DataFile: "data.bin"}},
		{"info-vmdk.json", Info{Filename: "disk.vmdk", Format: "vmdk", VirtualSize: 16 << 20, ActualSize: 12288, ClusterSize: 65536, Extents: 1}},
		{"info-qcow2-encrypted.json", Info{Filename: "enc.qcow2", Format: "qcow2", VirtualSize: 16 << 20, ActualSize: 2297856, ClusterSize: 65536, Encrypted: true}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got, err := ParseInfo(readTestdata(t, tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ParseInfo\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseInfoBad(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"[]",
		`[{"format":"qcow2","virtual-size":1}]`,
		"{}",
		`{"format":"raw"}`,
		`{"virtual-size":1}`,
		`{"format":"raw","virtual-size":-1}`,
		`{"format":"raw","virtual-size":"big"}`,
		`{"format":"raw","virtual-size":1,"actual-size":-5}`,
		`{"format":"raw","virtual-size":1`,
		"qemu-img: Could not open 'x': No such file or directory",
	} {
		if info, err := ParseInfo([]byte(in)); !errors.Is(err, ErrBadInfo) {
			t.Errorf("ParseInfo(%q) = %+v, %v; want ErrBadInfo", in, info, err)
		}
	}
}

func FuzzParseInfo(f *testing.F) {
	ents, _ := os.ReadDir("testdata")
	for _, e := range ents {
		if filepath.Ext(e.Name()) == ".json" {
			f.Add(readTestdata(f, e.Name()))
		}
	}
	f.Add([]byte(`{"format":"raw","virtual-size":0}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := ParseInfo(b)
		if err != nil {
			if !errors.Is(err, ErrBadInfo) {
				t.Fatalf("error %v does not wrap ErrBadInfo", err)
			}
			return
		}
		if info.Format == "" || info.VirtualSize < 0 || info.ActualSize < 0 {
			t.Fatalf("accepted %+v", info)
		}
		_ = CheckConvertible(info)
	})
}

func TestCheckConvertible(t *testing.T) {
	tests := []struct {
		file string
		want error
	}{
		{"info-qcow2.json", nil},
		{"info-raw.json", nil},
		{"info-qcow2-backing.json", ErrBackingFile},
		{"info-qcow2-data-file.json", ErrBackingFile},
		{"info-vmdk.json", ErrUnsupportedFormat},
		{"info-qcow2-encrypted.json", ErrUnsupportedFormat},
	}
	for _, tt := range tests {
		info, err := ParseInfo(readTestdata(t, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		if err := CheckConvertible(info); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("%s: CheckConvertible = %v, want %v", tt.file, err, tt.want)
		}
	}
}

func TestInstallHint(t *testing.T) {
	tests := []struct {
		goos, osRelease, want string
	}{
		{"darwin", "", "install it with: brew install qemu"},
		{"linux", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n", "install it with: sudo apt install qemu-utils"},
		{"linux", "ID=ubuntu\nID_LIKE=debian\n", "install it with: sudo apt install qemu-utils"},
		{"linux", "ID=linuxmint\nID_LIKE=\"ubuntu debian\"\n", "install it with: sudo apt install qemu-utils"},
		{"linux", "ID=fedora\n", "install it with: sudo dnf install qemu-img"},
		{"linux", "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\n", "install it with: sudo dnf install qemu-img"},
		{"linux", "ID=arch\n", "install it with: sudo pacman -S qemu-img"},
		{"linux", "ID_LIKE=arch\nID=manjaro\n", "install it with: sudo pacman -S qemu-img"},
		{"linux", "ID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\n", "install it with: sudo zypper install qemu-tools"},
		{"linux", "ID=alpine\n", "install it with: sudo apk add qemu-img"},
		{"linux", "ID=nixos\n", "install the package that provides qemu-img (qemu-utils on Debian/Ubuntu, qemu-img on Fedora and Arch)"},
		{"linux", "", "install the package that provides qemu-img (qemu-utils on Debian/Ubuntu, qemu-img on Fedora and Arch)"},
		{"freebsd", "", "install QEMU's qemu-img tool"},
	}
	for _, tt := range tests {
		if got := installHint(tt.goos, []byte(tt.osRelease)); got != tt.want {
			t.Errorf("installHint(%q, %q) = %q, want %q", tt.goos, tt.osRelease, got, tt.want)
		}
	}
}
