package core

import (
	"context"
	"errors"
	"fmt"

	"vmimages/core/cache"
	"vmimages/core/catalog"
)

// Update names a cached image for which upstream has a newer build.
type Update struct {
	Key     cache.Key `json:"key"`
	Current string    `json:"current"`
	Latest  string    `json:"latest"`
}

// UpdateError is a cached image whose upstream could not be checked.
type UpdateError struct {
	Key cache.Key
	Err error
}

func (e *UpdateError) Error() string { return fmt.Sprintf("%s: %v", e.Key, e.Err) }

// Unwrap returns the cause.
func (e *UpdateError) Unwrap() error { return e.Err }

// CheckUpdates resolves every ready cached image upstream and returns those
// whose build differs from the cached one. Images that cannot be resolved
// (a distro no longer in the catalog, a network error) are reported
// together in the error, one *UpdateError each, after the others were
// checked.
func (m *Manager) CheckUpdates(ctx context.Context) ([]Update, error) {
	images, err := m.cache.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Update
	var errs []error
	for _, im := range images {
		if im.State != cache.StateReady || im.Meta == nil {
			continue
		}
		res, err := m.Catalog().Resolve(ctx, m.dl, catalog.Ref{Distro: im.Distro, Version: im.Version, Arch: im.Arch})
		if err != nil {
			errs = append(errs, &UpdateError{Key: im.Key, Err: err})
			continue
		}
		if changed(im.Meta, res) {
			out = append(out, Update{Key: im.Key, Current: im.Meta.Build, Latest: res.Build})
		}
	}
	return out, errors.Join(errs...)
}

// changed reports whether the upstream image differs from the cached one:
// another build, or the same name with other bytes (openSUSE overwrites).
func changed(meta *cache.Meta, res *catalog.Resolved) bool {
	if meta.Build != res.Build {
		return true
	}
	for _, a := range res.Assets {
		am := meta.Asset(a.Role)
		if am == nil || am.Digest != a.Digest {
			return true
		}
	}
	return false
}
