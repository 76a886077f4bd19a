//go:build !linux && !darwin

package disk

import "errors"

// reflink is not available here; Clone falls back to an overlay or a copy.
func reflink(src, dst string) (Method, error) {
	return "", errors.New("reflink is not supported on this system")
}
