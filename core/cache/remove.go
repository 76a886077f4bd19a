package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// checkNoSymlinks verifies that images/, images/<distro>, …/<version> and
// …/<arch> below the root are real directories, not symbolic links. The root
// itself may be a link: that is the user's choice of where the cache lives.
// It returns an error wrapping ErrNotCached when a component is missing.
func (c *Cache) checkNoSymlinks(k Key) error {
	p := c.root
	for _, part := range []string{imagesDir, k.Distro, k.Version, k.Arch} {
		p = filepath.Join(p, part)
		fi, err := os.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s", ErrNotCached, k)
		}
		if err != nil {
			return fmt.Errorf("check %s: %w", p, err)
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: %s is a symbolic link; remove it by hand if it is meant to go", ErrUnsafePath, p)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%w: %s is not a directory", ErrUnsafePath, p)
		}
	}
	return nil
}

// Remove deletes an image and everything in its directory, transfers in
// flight included, then removes the distro and version directories if they
// became empty. It waits for the image's lock until ctx ends, and refuses
// (ErrUnsafePath) when the image's path below the root passes through a
// symbolic link. A missing image gives an error wrapping ErrNotCached.
func (c *Cache) Remove(ctx context.Context, k Key) error {
	if err := c.check(k); err != nil {
		return err
	}
	// Check before Lock, which would otherwise create a missing directory.
	if err := c.checkNoSymlinks(k); err != nil {
		return fmt.Errorf("remove %s: %w", k, err)
	}
	unlock, err := c.Lock(ctx, k)
	if err != nil {
		return fmt.Errorf("remove %s: %w", k, err)
	}
	defer unlock()
	if err := c.removeLocked(k); err != nil {
		return err
	}
	return unlock()
}

// removeLocked deletes the image directory of k, whose lock the caller holds.
// The lock file goes with it; tryLock notices that in other waiters.
func (c *Cache) removeLocked(k Key) error {
	// Again under the lock: the tree may have changed while we waited.
	if err := c.checkNoSymlinks(k); err != nil {
		return fmt.Errorf("remove %s: %w", k, err)
	}
	dir := c.Dir(k)
	// os.RemoveAll does not follow symbolic links inside dir; it removes them.
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("remove %s: %w", k, err)
	}
	// Drop now-empty parents; os.Remove fails harmlessly on a non-empty one.
	parent := filepath.Dir(dir)
	for range 2 {
		if os.Remove(parent) != nil {
			break
		}
		parent = filepath.Dir(parent)
	}
	return nil
}
