//go:build unix

package download

import "golang.org/x/sys/unix"

// freeSpace returns the bytes available to an unprivileged user on the file
// system holding dir.
func freeSpace(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * int64(st.Bsize), nil //nolint:unconvert // field types differ between systems
}
