package trust

// HasAny reports whether the keyring holds a key for at least one of the
// fingerprints (spaces and case ignored). An empty list means "any key".
func (k *Keyring) HasAny(fingerprints []string) bool {
	if len(fingerprints) == 0 {
		return len(k.info) > 0
	}
	for _, fp := range fingerprints {
		n, err := normalizeFingerprint(fp)
		if err != nil {
			continue
		}
		if _, ok := k.info[n]; ok {
			return true
		}
	}
	return false
}
