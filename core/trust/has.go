package trust

// HasAny reports whether the keyring holds a key for at least one of the
// fingerprints (spaces and case ignored). An empty list names no key, so
// the answer is false.
func (k *Keyring) HasAny(fingerprints []string) bool {
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
