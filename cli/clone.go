package cli

import (
	"context"
	"errors"
	"fmt"

	"vmimages/core"
	"vmimages/core/disk"
	"vmimages/core/units"
)

// cloneDoc is clone's JSON document.
type cloneDoc struct {
	Distro  string  `json:"distro"`
	Version string  `json:"version"`
	Arch    string  `json:"arch"`
	Path    string  `json:"path"`
	Format  string  `json:"format"`
	Method  string  `json:"method"`
	Size    int64   `json:"size_bytes"`
	Backing *string `json:"backing"`
	// Error says why clone failed.
	Error string `json:"error,omitempty"`
}

func (d *cloneDoc) setError(msg string) { d.Error = msg }

func runClone(ctx context.Context, r *runner, pos []string) error {
	failed := &cloneDoc{Arch: r.o.arch}
	if len(pos) == 3 {
		failed.Distro, failed.Version, failed.Path = pos[0], pos[1], pos[2]
	}
	r.doc = failed
	if err := needArgs("clone", pos, 3, "DISTRO VERSION DEST"); err != nil {
		return err
	}
	var size int64
	if r.o.size != "" {
		n, err := units.ParseSize(r.o.size)
		if err != nil || n <= 0 {
			return usagef("clone: --size %q: want a size such as 20G", r.o.size)
		}
		size = n
	}
	m, k, err := r.imageArgs(ctx, "clone", pos[:2])
	if err != nil {
		return err
	}
	res, err := m.Clone(ctx, k, pos[2], core.CloneOptions{Size: size})
	switch {
	case errors.Is(err, disk.ErrExists):
		return fmt.Errorf("%w; choose another name or remove it first", err)
	case errors.Is(err, disk.ErrShrink):
		return usagef("clone: %v", err)
	case err != nil:
		return err
	}
	if r.o.json {
		doc := cloneDoc{Distro: k.Distro, Version: k.Version, Arch: k.Arch, Path: res.Path,
			Format: res.Format, Method: string(res.Method), Size: res.Size}
		if res.Backing != "" {
			doc.Backing = &res.Backing
		}
		return r.printJSON(doc)
	}
	fmt.Fprintln(r.env.Stdout, res.Path)
	r.infof("%s disk of %s (%s) for %s", res.Format, units.Bytes(res.Size), res.Method, k)
	if res.Backing != "" {
		r.infof("backed by %s; keep that file while the VM disk is in use", res.Backing)
	}
	return nil
}
