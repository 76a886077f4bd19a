package cache

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// lockPoll is how often Lock retries while another holder has the lock.
const lockPoll = 100 * time.Millisecond

// Lock takes the exclusive, inter-process lock of an image, creating the
// image directory if needed, and waits for it until ctx ends. The lock is
// advisory (flock(2) on <dir>/.lock): it coordinates the GUI, the tray and CLI
// runs, and is released by unlock or when the process exits. Two Lock calls
// in one process exclude each other too. unlock is safe to call more than once.
func (c *Cache) Lock(ctx context.Context, k Key) (unlock func() error, err error) {
	if err := c.check(k); err != nil {
		return nil, err
	}
	t := time.NewTimer(lockPoll)
	defer t.Stop()
	for {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("wait for lock on %s: %w", k, context.Cause(ctx))
		}
		unlock, ok, err := c.tryLock(k)
		if err != nil {
			return nil, err
		}
		if ok {
			return unlock, nil
		}
		t.Reset(lockPoll)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// TryLock takes the image's lock if nobody holds it and reports whether it
// did; it never waits. Like Lock it creates the image directory.
func (c *Cache) TryLock(k Key) (unlock func() error, ok bool, err error) {
	if err := c.check(k); err != nil {
		return nil, false, err
	}
	return c.tryLock(k)
}

// tryLock makes one attempt. A holder that removes the image deletes the lock
// file while holding it, so after a successful flock the file we locked must
// still be the one at the path; if it is not, our lock protects nothing and
// we try again on the new file.
func (c *Cache) tryLock(k Key) (func() error, bool, error) {
	for range 10 {
		dir, err := c.ensureImageDir(k)
		if err != nil {
			return nil, false, err
		}
		path := filepath.Join(dir, lockFile)
		fl := newFlock(path)
		ok, err := fl.TryLock()
		if err != nil {
			fl.Close()
			if errors.Is(err, fs.ErrNotExist) {
				continue // the directory was removed under us
			}
			return nil, false, fmt.Errorf("lock %s: %w", k, unsafeLink(path, err))
		}
		if !ok {
			return nil, false, nil
		}
		held, err1 := fl.Stat()
		now, err2 := os.Lstat(path)
		if err1 != nil || err2 != nil || !os.SameFile(held, now) {
			fl.Close()
			continue
		}
		var once sync.Once
		var uerr error
		return func() error {
			once.Do(func() {
				if err := fl.Close(); err != nil {
					uerr = fmt.Errorf("unlock %s: %w", k, err)
				}
			})
			return uerr
		}, true, nil
	}
	return nil, false, fmt.Errorf("lock %s: lock file keeps being replaced", k)
}

// ensureImageDir creates the image directory one level at a time below the
// root, checking each level before it creates the next: a symbolic link (or
// anything not a directory) at images/, images/<distro>, …/<version> or
// …/<arch> is refused with ErrUnsafePath before anything is created through
// it, so a lock (and whatever its holder writes) never lands outside the
// cache.
func (c *Cache) ensureImageDir(k Key) (string, error) {
	if err := c.ensureRoot(); err != nil {
		return "", err
	}
	var err error
	for range 3 {
		// A concurrent Remove may delete an empty parent between two
		// levels; trying again settles it.
		if err = c.mkdirBelowRoot(imagesDir, k.Distro, k.Version, k.Arch); !errors.Is(err, fs.ErrNotExist) {
			break
		}
	}
	if err != nil {
		return "", fmt.Errorf("create image directory for %s: %w", k, err)
	}
	return c.Dir(k), nil
}

// mkdirBelowRoot creates root/parts[0]/parts[1]/… one level at a time. Each
// level is created with Mkdir, which never follows a link at its own name,
// then checked with Lstat: a level that is a symbolic link or not a
// directory stops it (ErrUnsafePath) before the next level is made.
func (c *Cache) mkdirBelowRoot(parts ...string) error {
	p := c.root
	for _, part := range parts {
		p = filepath.Join(p, part)
		if err := os.Mkdir(p, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return err
		}
		fi, err := os.Lstat(p)
		if err != nil {
			return err
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%w: %s is a symbolic link; remove it by hand", ErrUnsafePath, p)
		}
		if !fi.IsDir() {
			return fmt.Errorf("%w: %s is not a directory", ErrUnsafePath, p)
		}
	}
	return nil
}

// newFlock returns the lock on path. The file is opened without following a
// symbolic link, so a link planted in the cache cannot make a lock create a
// file elsewhere.
func newFlock(path string) *flock.Flock {
	return flock.New(path, flock.SetPermissions(0o644), flock.SetFlag(os.O_CREATE|os.O_RDONLY|noFollow))
}

// unsafeLink turns the error of opening path without following links into
// ErrUnsafePath when path is a symbolic link.
func unsafeLink(path string, err error) error {
	if fi, lerr := os.Lstat(path); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return fmt.Errorf("%w: %s is a symbolic link", ErrUnsafePath, path)
	}
	return err
}

// lockHeld reports whether some process holds the image's lock now. It
// never creates the lock file and takes nothing for longer than the probe.
func (c *Cache) lockHeld(k Key) bool {
	fl := flock.New(filepath.Join(c.Dir(k), lockFile), flock.SetFlag(os.O_RDONLY|noFollow))
	defer fl.Close()
	ok, err := fl.TryRLock()
	return err == nil && !ok
}
