package core

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/download"
	"vmimages/core/manifest"
	"vmimages/core/registry"
)

// fromRegistry pulls the job's image from the configured registry. used is
// false when no registry is set or it cannot serve the image (unreachable,
// no such tag, access refused): the pull then goes upstream, and the
// snapshot's Note says why. Anything the registry serves that does not
// prove out is an error wrapping ErrIntegrity, with nothing in the cache —
// a registry is never trusted, and a failed proof never falls back.
func (j *Job) fromRegistry(ctx context.Context, raw bool) (img *PreparedImage, used bool, err error) {
	m := j.m
	ref := m.Registry()
	if ref == "" {
		return nil, false, nil
	}
	t, err := registry.ParseTarget(ref)
	if err != nil {
		return nil, true, err
	}
	d, v, arch, err := m.Catalog().Lookup(j.ref)
	if err != nil {
		return nil, true, err
	}
	key := cache.Key{Distro: d.ID, Version: v.Version, Arch: arch}
	j.update(func(s *Snapshot) { s.Phase = PhaseResolving; s.Err = nil; s.Retrying = ""; s.Source = t.String() })
	c, rdl, err := m.registryClient()
	if err == nil {
		var r *registry.Remote
		r, err = c.Fetch(ctx, t, key.Distro, registry.Tag(key.Version, key.Arch))
		if err == nil {
			img, err := j.pullRemote(ctx, rdl, r, key, d, v, raw)
			return img, true, err
		}
	}
	if ctx.Err() != nil {
		return nil, true, ctx.Err()
	}
	if errors.Is(err, registry.ErrBadManifest) || errors.Is(err, registry.ErrBlobDigest) {
		return nil, true, fmt.Errorf("%w: %s: %w", ErrIntegrity, t, err)
	}
	j.notice(fmt.Sprintf("registry %s: %v; pulled from upstream instead", t, err))
	j.update(func(s *Snapshot) { s.Source = SourceUpstream })
	return nil, false, nil
}

// pullRemote proves and fetches one image from a registry.
func (j *Job) pullRemote(ctx context.Context, rdl *download.Client, r *registry.Remote, key cache.Key, d *catalog.Distro, v *catalog.Version, raw bool) (*PreparedImage, error) {
	m := j.m
	im := r.Image
	if im.Distro != key.Distro || im.Version != key.Version || im.Arch != key.Arch {
		return nil, fmt.Errorf("%w: %s holds %s %s %s, not %s", ErrIntegrity, r.Reference, im.Distro, im.Version, im.Arch, key)
	}
	// The proof first: small files, proven by their OCI digests, then the
	// asset digests against them and the signatures against the pinned
	// keys — all before any image byte moves.
	files, sigs := map[string][]byte{}, map[string][]byte{}
	var proofs []cache.Proof
	var claims []claim
	var assets []registry.Layer
	for _, l := range im.Layers {
		switch l.Role {
		case registry.RoleChecksums, registry.RoleSignature:
			b, err := r.ReadSmall(ctx, l)
			if err != nil {
				if errors.Is(err, registry.ErrBlobDigest) || errors.Is(err, registry.ErrBadManifest) {
					return nil, fmt.Errorf("%w: %w", ErrIntegrity, err)
				}
				return nil, err
			}
			if l.Role == registry.RoleChecksums {
				files[l.URL] = b
				proofs = append(proofs, cache.Proof{Role: cache.ProofChecksums, URL: l.URL, Data: b})
			} else {
				sigs[l.Checksums] = b
				proofs = append(proofs, cache.Proof{Role: cache.ProofSignature, URL: l.URL, Signs: l.Checksums, Data: b})
			}
		default:
			claims = append(claims, claim{Role: l.Role, Name: l.Name, Digest: l.UpstreamDigest, Size: l.Size, Checksums: l.Checksums})
			assets = append(assets, l)
		}
	}
	// The files must be this release's: a file the distribution signed for
	// another release does not pass for this one.
	names, err := m.Catalog().NamePatterns(j.ref)
	if err != nil {
		return nil, err
	}
	for _, a := range assets {
		if re, ok := names[a.Role]; !ok || !re.MatchString(a.Name) {
			return nil, fmt.Errorf("%w: %s: %s is not a %s file of %s", ErrIntegrity, r.Reference, a.Name, a.Role, key)
		}
	}
	sig, per, err := m.proveClaims(d.ID, d.Name, d.SignatureFor(v), claims, files, sigs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", r.Reference, err)
	}
	sig.Note = joinNote("from "+r.Reference, sig.Note)

	j.update(func(s *Snapshot) {
		s.Key, s.Build = key, im.Build
		s.Title = d.Name + " " + key.Version + " " + key.Arch
		s.Assets = make([]AssetProgress, len(assets))
		s.BytesTotal = 0
		for i, a := range assets {
			s.Assets[i] = AssetProgress{Role: a.Role, Name: a.Name, Phase: PhaseQueued, BytesTotal: a.Size}
			s.BytesTotal += a.Size
		}
		s.Phase = PhaseWaiting
	})
	// Nothing is part of the image before Commit: a blob that fails either
	// proof leaves the cache as it was.
	tx, err := m.cache.Begin(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("locking %s in the cache: %w", key, err)
	}
	defer tx.Abort()
	errs := make([]error, len(assets))
	var wg sync.WaitGroup
	j.update(func(s *Snapshot) { s.Phase = PhaseDownloading })
	for i, a := range assets {
		pf, err := tx.PartFile(a.Role, a.Format)
		if err != nil {
			return nil, err
		}
		wg.Add(1)
		go func(i int, a registry.Layer) {
			defer wg.Done()
			errs[i] = func() error {
				oci, err := manifest.ParseDigest(string(a.Digest))
				if err != nil {
					return fmt.Errorf("%w: %w", ErrIntegrity, err)
				}
				res, err := rdl.Fetch(ctx, download.Request{URL: r.BlobURL(a), Dest: pf.Dest, Part: pf.Part, Digest: oci, Size: a.Size},
					func(p download.Progress) { j.progress(i, p) })
				if err != nil {
					return err
				}
				// The OCI digest is proven; now the distribution's, unless it
				// is the same digest.
				if oci != a.UpstreamDigest {
					if _, err := hashBoth(ctx, res.Path, a.UpstreamDigest, func(int64) {}); err != nil {
						os.Remove(res.Path)
						return err
					}
				}
				if err := tx.Stage(a.Role, res.Path, cache.AssetMeta{URL: a.URL, Digest: a.UpstreamDigest, Size: res.Size,
					Validator: res.Validator, Format: a.Format, Signature: per[a.Role]}); err != nil {
					return err
				}
				j.update(func(s *Snapshot) { s.Assets[i].Phase = PhaseDone; s.Assets[i].BytesDone = a.Size })
				return nil
			}()
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s (%s) from %s: %w", a.Role, a.Name, r.Reference, errs[i])
			}
		}(i, a)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	meta := &cache.Meta{Build: im.Build, PulledAt: m.now(), LastUsed: m.now()}
	meta.Signature = &cache.SignatureMeta{Status: sig.Status, Signer: sig.Signer}
	if sig.SignedAt != nil {
		meta.Signature.SignedAt = *sig.SignedAt
	}
	if disk := im.Layer(registry.RoleDisk); disk != nil {
		meta.Signature.ManifestURL = disk.Checksums
	}
	tx.SetProofs(proofs)
	return j.commit(ctx, tx, meta, raw, sig)
}

func joinNote(a, b string) string {
	if b == "" {
		return a
	}
	return a + "; " + b
}
