package core

import (
	"slices"
	"testing"

	"vmimages/core/catalog"
)

func TestDescribe(t *testing.T) {
	m := newManager(t, nil, nil)
	for _, tc := range []struct {
		distro, version string
		roles, optional []string
		format, boot    string
		sig             string
	}{
		{"ubuntu", "24.04", []string{"disk", "kernel", "initramfs"}, []string{"initramfs"}, "qcow2", catalog.BootDirectKernel, SigVerified},
		{"debian", "12", []string{"disk"}, nil, "qcow2", catalog.BootFirmware, SigUnsigned},
		{"fedora", "43", []string{"disk"}, nil, "qcow2", catalog.BootFirmware, SigVerified},
		{"arch", "rolling", []string{"disk"}, nil, "qcow2", catalog.BootFirmware, SigVerified},
		{"almalinux", "9", []string{"disk"}, nil, "qcow2", catalog.BootFirmware, SigVerified},
		{"almalinux", "10", []string{"disk"}, nil, "qcow2", catalog.BootFirmware, SigUnsigned},
		{"opensuse", "tumbleweed", []string{"disk"}, nil, "qcow2", catalog.BootFirmware, ""},
	} {
		d, err := m.Catalog().Distro(tc.distro)
		if err != nil {
			t.Fatal(err)
		}
		v, err := d.Version(tc.version)
		if err != nil {
			t.Fatal(err)
		}
		got := m.Describe(d, v)
		if !slices.Equal(got.Roles, tc.roles) || !slices.Equal(got.Optional, tc.optional) ||
			got.DiskFormat != tc.format || got.Boot != tc.boot {
			t.Errorf("%s %s: %+v", tc.distro, tc.version, got)
		}
		if tc.sig != "" && got.Signature != tc.sig {
			t.Errorf("%s %s: signature %q, want %q (%s)", tc.distro, tc.version, got.Signature, tc.sig, got.SignatureNote)
		}
		if got.SignatureNote == "" {
			t.Errorf("%s %s: no signature note", tc.distro, tc.version)
		}
	}
	d, _ := m.Catalog().Distro("debian")
	if got := m.Describe(d, nil); got.SignatureNote != "checksum over HTTPS; not signed upstream" {
		t.Errorf("debian note %q", got.SignatureNote)
	}
	// A plain-http mirror (allowed for loopback) carries the checksums:
	// the note says so instead of claiming HTTPS.
	m = newManager(t, map[string]string{"debian": "http://127.0.0.1:9/debian/"}, nil)
	d, _ = m.Catalog().Distro("debian")
	if got := m.Describe(d, nil); got.SignatureNote != "checksum over plain HTTP (allowed for this mirror); not signed upstream" {
		t.Errorf("debian over http: note %q", got.SignatureNote)
	}
}

func TestConfigPath(t *testing.T) {
	if p := newManager(t, nil, nil).ConfigPath(); p != "" {
		t.Errorf("ConfigPath() = %q without a settings file", p)
	}
	want := t.TempDir() + "/config.toml"
	m := newManager(t, nil, func(o *Options) { o.ConfigPath = want })
	if p := m.ConfigPath(); p != want {
		t.Errorf("ConfigPath() = %q, want %q", p, want)
	}
}
