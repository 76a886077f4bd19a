package trust

// PinnedLabel names the pinned key with fingerprint fp for people
// ("Fedora 44", "UEC Image Automatic Signing Key <cdimage@ubuntu.com>"),
// or "" when no embedded key has that fingerprint. Metadata records only
// the fingerprint; this puts a name to it.
func PinnedLabel(fp string) string {
	n, err := normalizeFingerprint(fp)
	if err != nil {
		return ""
	}
	if p, ok := pinByFingerprint(n); ok {
		return p.label
	}
	return ""
}
