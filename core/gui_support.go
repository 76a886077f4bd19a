package core

import (
	"fmt"
	"strings"

	"vmimages/core/catalog"
)

// EntryInfo says what a catalog entry holds and how a pull of it will be
// proven, without touching the network. The window's catalog view shows it
// before anything is downloaded.
type EntryInfo struct {
	// Roles lists the entry's assets in catalog order (catalog.RoleDisk,
	// RoleKernel, RoleInitramfs); optional ones included.
	Roles []string
	// Optional lists the roles that upstream may leave out.
	Optional []string
	// DiskFormat is the disk's format as published ("qcow2", "raw", …).
	DiskFormat string
	// Boot is catalog.BootDirectKernel or catalog.BootFirmware.
	Boot string
	// Signature is what a pull will establish: SigVerified (the distro
	// signs its checksums and a key for it is pinned), SigUnchecked (it
	// signs, but no key is pinned) or SigUnsigned (it signs nothing).
	Signature string
	// SignatureNote says the same in a sentence fragment for people.
	SignatureNote string
}

// Describe reports what the catalog entry (d, v) contains and how its
// checksums will be authenticated. v may be nil for the distro's defaults.
func (m *Manager) Describe(d *catalog.Distro, v *catalog.Version) EntryInfo {
	assets := d.Assets
	if v != nil && len(v.Assets) > 0 {
		assets = v.Assets
	}
	info := EntryInfo{Boot: d.Boot}
	for _, a := range assets {
		info.Roles = append(info.Roles, a.Role)
		if a.Optional {
			info.Optional = append(info.Optional, a.Role)
		}
		if a.Role == catalog.RoleDisk {
			info.DiskFormat = a.Format
		}
	}
	sig := d.SignatureFor(v)
	switch {
	case sig.Kind == catalog.SigNone:
		info.Signature = SigUnsigned
		info.SignatureNote = unsignedNote(SigUnsigned, "", "", []string{d.Base})
	case len(m.keys.AllowedFor(d.ID, sig.Keys)) > 0:
		info.Signature = SigVerified
		how := "signature file"
		if sig.Kind == catalog.SigClearsigned {
			how = "clearsigned checksum file"
		}
		info.SignatureNote = fmt.Sprintf("OpenPGP-signed checksums (%s), checked against the pinned %s key", how, d.Name)
	default:
		info.Signature = SigUnchecked
		keys := "none listed"
		if len(sig.Keys) > 0 {
			keys = strings.Join(sig.Keys, ", ")
		}
		info.SignatureNote = fmt.Sprintf("signed upstream, but no key for it is pinned (expected %s); %s", keys, checksumTransport([]string{d.Base}))
	}
	return info
}

// ConfigPath is the settings file SetConfig writes, "" when the Manager
// was opened without one (then SetConfig applies settings without saving).
func (m *Manager) ConfigPath() string { return m.opts.ConfigPath }

// CanConvert reports whether qemu-img, which raw conversion needs, is
// installed (or where Options.QemuImg says).
func (m *Manager) CanConvert() bool { return m.qemu.Available() }
