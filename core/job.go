package core

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/download"
)

// PullOptions tune one pull.
type PullOptions struct {
	// Raw converts the disk to raw after the download; RawDefault leaves
	// the choice to the settings ("auto": yes on macOS).
	Raw        bool
	RawDefault bool
	// Update looks upstream for a newer build of an image that is already
	// cached and fetches it; the cached build stays in place until every
	// file of the new one is verified. Without Update a cached image is
	// returned as it is, without the network: a pull pins its build.
	Update bool
	// Kernel guarantees a kernel and an initramfs for direct boot:
	// upstream's where the catalog has both, otherwise extracted from /boot
	// of the verified disk (ErrKernelExtraction when that fails).
	Kernel bool
}

// PreparedImage is what a finished pull leaves on disk. Paths are absolute;
// empty where the image has no such file.
type PreparedImage struct {
	Distro    string        `json:"distro"`
	Version   string        `json:"version"`
	Arch      string        `json:"arch"`
	Build     string        `json:"build"`
	Kernel    string        `json:"kernel"`
	Initramfs string        `json:"initramfs"`
	Disk      string        `json:"disk"`
	DiskRaw   string        `json:"disk_raw"`
	Signature SignatureInfo `json:"signature"`
	// KernelSource is KernelUpstream or KernelExtracted; "" without a
	// kernel. On aarch64 Kernel is always an uncompressed arm64 Image.
	KernelSource string `json:"kernel_source,omitempty"`
}

// AssetProgress is one file's progress.
type AssetProgress struct {
	Role       string
	Name       string
	Phase      Phase
	BytesDone  int64
	BytesTotal int64 // -1 when unknown
	Cached     bool  // already in place, nothing to transfer
}

// Snapshot is a job's state at one moment, safe to read from any goroutine.
type Snapshot struct {
	ID int
	// Kind is what the job does: a pull, a verify, a conversion or a removal.
	Kind       Kind
	Ref        catalog.Ref
	Key        cache.Key
	Title      string // "Ubuntu Server 24.04 x86_64"
	Build      string
	Phase      Phase
	Assets     []AssetProgress
	BytesDone  int64
	BytesTotal int64 // -1 while unknown
	Speed      float64
	ETA        time.Duration
	Err        error
	Retrying   string // the cause of a retry in progress, for display
	// Converted is how far the raw conversion got, in [0,1], while the
	// phase is PhaseConverting.
	Converted float64
	Result    *PreparedImage
	// Verdict is a verify job's finding, set when it is done.
	Verdict *Verdict
	Started time.Time
	// Notices are things the job did that its user should know about, in
	// order, such as converting again a raw disk that changed.
	Notices []string
	// Source is where the bytes come from: SourceUpstream, or the
	// registry's oci:// address.
	Source string
}

// Fraction is BytesDone/BytesTotal in [0,1], or 0 when the total is unknown.
func (s Snapshot) Fraction() float64 {
	if s.BytesTotal <= 0 {
		return 0
	}
	f := float64(s.BytesDone) / float64(s.BytesTotal)
	if f > 1 {
		f = 1
	}
	return f
}

// Pull starts pulling an image and returns its job at once. A second pull
// of an image that is already being pulled in this process returns the
// same job. ctx bounds the job's whole life.
func (m *Manager) Pull(ctx context.Context, ref catalog.Ref, opts PullOptions) *Job {
	j := m.newJob(KindPull, ref.Distro+" "+ref.Version)
	j.ref, j.opts = ref, opts
	j.snap.Ref = ref
	j.work = func(ctx context.Context) (*PreparedImage, error) { return j.run(ctx) }
	if k, err := m.Key(ref); err == nil {
		j.snap.Key, j.key = k, k
		if d, derr := m.Catalog().Distro(ref.Distro); derr == nil {
			j.snap.Title = d.Name + " " + k.Version + " " + k.Arch
		}
		m.mu.Lock()
		if old := m.live[k]; old != nil {
			m.mu.Unlock()
			return old
		}
		m.live[k] = j
		m.jobs = append(m.jobs, j)
		m.mu.Unlock()
	} else {
		m.mu.Lock()
		m.jobs = append(m.jobs, j)
		m.mu.Unlock()
	}
	go j.loop(ctx)
	m.notify()
	return j
}

// run is one attempt at the whole pull.
func (j *Job) run(ctx context.Context) (*PreparedImage, error) {
	m := j.m
	raw := j.opts.Raw || (j.opts.RawDefault && m.convertByDefault())
	if !j.opts.Update {
		if img, ok, err := m.cachedImage(ctx, j, raw); err != nil || ok {
			return img, err
		}
	}
	if img, used, err := j.fromRegistry(ctx, raw); used {
		return img, err
	}
	j.update(func(s *Snapshot) { s.Phase = PhaseResolving; s.Err = nil; s.Retrying = ""; s.Source = SourceUpstream })
	rctx := download.WithRetryNotice(ctx, func(cause error) {
		j.update(func(s *Snapshot) { s.Retrying = cause.Error() })
	})
	res, err := m.Resolve(rctx, j.ref)
	if err != nil {
		return nil, err
	}
	key := cache.Key{Distro: res.Distro, Version: res.Version, Arch: res.Arch}
	// Without Update a pull pins the committed build: files of it found
	// wrong or missing come again from where they came, never from a
	// newer build.
	latest, pinned := res.Build, (*cache.Meta)(nil)
	if !j.opts.Update {
		if res, pinned, err = m.pinnedResolution(key, res); err != nil {
			return nil, err
		}
	}
	j.update(func(s *Snapshot) {
		s.Retrying = ""
		s.Key, s.Build = key, res.Build
		s.Title = res.DistroName + " " + res.Version + " " + res.Arch
		s.Assets = make([]AssetProgress, len(res.Assets))
		var total int64
		for i, a := range res.Assets {
			s.Assets[i] = AssetProgress{Role: a.Role, Name: a.Name, Phase: PhaseQueued, BytesTotal: a.Size}
			if a.Size < 0 || total < 0 {
				total = -1
			} else {
				total += a.Size
			}
		}
		s.BytesTotal = total
		s.Phase = PhaseWaiting
	})

	// The transaction keeps the committed build intact and listed ready
	// until Commit switches to the new one in one step.
	tx, err := m.cache.Begin(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("locking %s in the cache: %w", key, err)
	}
	defer tx.Abort()
	old := tx.Committed()
	if old != nil && old.Build != res.Build {
		m.logCached(key, res.Build, "a new build replaces build "+old.Build+" once it is verified")
	}

	var wg sync.WaitGroup
	errs := make([]error, len(res.Assets))
	j.update(func(s *Snapshot) { s.Phase = PhaseDownloading })
	for i, a := range res.Assets {
		if sameAsset(old, a) {
			if _, err := tx.Keep(a.Role, func(am *cache.AssetMeta) { am.Signature = res.AssetSignatures[a.Role] }); err == nil {
				m.opts.Logger.Info("asset already in the cache with this digest", "role", a.Role, "file", old.Asset(a.Role).File)
				j.update(func(s *Snapshot) {
					s.Assets[i].Phase, s.Assets[i].Cached = PhaseDone, true
					s.Assets[i].BytesDone = s.Assets[i].BytesTotal
				})
				continue
			}
		}
		if pinned != nil {
			j.notice(fmt.Sprintf("%s: fetching it again for the pinned build %s (upstream's newest is %s)", a.Name, pinned.Build, latest))
		}
		pf, err := tx.PartFile(a.Role, a.Format)
		if err != nil {
			return nil, err
		}
		extra := int64(0)
		if raw && a.Role == catalog.RoleDisk && a.Size > 0 {
			extra = a.Size * 3 // a raw disk is usually larger than its qcow2
		}
		wg.Add(1)
		go func(i int, a catalog.Asset) {
			defer wg.Done()
			r, err := m.fetchAsset(ctx, res, download.Request{URL: a.URL, Dest: pf.Dest, Part: pf.Part, Digest: a.Digest, Size: a.Size, ExtraSpace: extra},
				func(p download.Progress) { j.progress(i, p) })
			if err == nil {
				// The URL recorded is where the bytes came from, after redirects.
				err = tx.Stage(a.Role, r.Path, cache.AssetMeta{URL: cmp.Or(r.FinalURL, a.URL), Digest: a.Digest, Size: r.Size,
					Validator: r.Validator, Format: a.Format, Signature: res.AssetSignatures[a.Role],
					ManifestURL: cmp.Or(a.ChecksumsFinalURL, a.ChecksumsURL), SignatureURL: cmp.Or(a.SignatureFinalURL, a.SignatureURL)})
			}
			if err != nil {
				errs[i] = fmt.Errorf("%s (%s): %w", a.Role, a.Name, err)
				return
			}
			j.update(func(s *Snapshot) {
				s.Assets[i].Phase = PhaseDone
				s.Assets[i].BytesDone = r.Size
				if s.Assets[i].BytesTotal < 0 {
					s.Assets[i].BytesTotal = r.Size
				}
			})
		}(i, a)
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, pinnedGone(key, pinned, latest, err)
	}

	meta := &cache.Meta{Build: res.Build, PulledAt: m.now(), LastUsed: m.now()}
	sig := res.SignatureInfo
	meta.Signature = &cache.SignatureMeta{Status: sig.Status, Signer: sig.Signer}
	if sig.SignedAt != nil {
		meta.Signature.SignedAt = *sig.SignedAt
	}
	if d := res.Disk(); d != nil {
		meta.Signature.ManifestURL = cmp.Or(d.ChecksumsFinalURL, d.ChecksumsURL)
	}
	tx.SetProofs(res.Proofs)
	return j.commit(ctx, tx, meta, raw, sig)
}

// commit finishes a pull's transaction: it keeps or redoes the raw disk,
// commits the new build with meta's fields and returns the image.
func (j *Job) commit(ctx context.Context, tx *cache.Tx, meta *cache.Meta, raw bool, sig SignatureInfo) (*PreparedImage, error) {
	m := j.m
	old := tx.Committed()
	// A raw disk converted from the very disk this build keeps stays, if
	// it is still that conversion.
	keptRaw := false
	if _, kept, _ := tx.Asset(cache.RoleDisk); kept && old.DiskRaw != nil {
		change, err := tx.RawChange(ctx, nil)
		if err != nil {
			return nil, err
		}
		if change == "" {
			keptRaw = tx.KeepRaw() == nil
		} else {
			// As a plain pull does: the raw disk the image had is made again.
			j.notice(change + "; converting again")
			raw = true
		}
	}
	var convErr error
	if raw && !keptRaw {
		if convErr = m.convertTx(ctx, tx, j); convErr != nil && ctx.Err() != nil {
			return nil, convErr
		}
	}
	// Kernel and initramfs for direct boot; a failure stages nothing.
	bootErr := m.bootFiles(ctx, tx, j, j.opts.Kernel)
	if bootErr != nil && ctx.Err() != nil {
		return nil, bootErr
	}
	// A failed conversion or kernel extraction still commits the verified
	// download: the image is usable, and a later convert or pull tries again.
	committed, err := tx.Commit(meta)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(convErr, bootErr); err != nil {
		return nil, err
	}
	img := m.prepared(tx.Key(), committed)
	img.Signature = sig
	return img, nil
}

// notice records something the job did that its user should know.
func (j *Job) notice(s string) {
	j.update(func(snap *Snapshot) { snap.Notices = append(snap.Notices, s) })
}

// cachedImage returns the cached image for the job's ref when it is ready,
// touching its last-used time, without the network: a pull pins the build
// it has. When a raw disk is wanted and missing, or the one recorded changed
// since it was converted, it converts again (and says so). ok is false when
// the image must be pulled.
func (m *Manager) cachedImage(ctx context.Context, j *Job, raw bool) (*PreparedImage, bool, error) {
	key, err := m.Key(j.ref)
	if err != nil {
		return nil, false, nil
	}
	im, err := m.cache.Image(key)
	// An image whose last verify found only its raw disk changed is
	// handed out after converting that again from the proven disk.
	rawFailed := im.Meta != nil && im.Meta.FailedRawOnly() && im.State == cache.StateCorrupt &&
		strings.HasPrefix(im.Reason, cache.ReasonFailedVerify)
	if err != nil || (im.State != cache.StateReady && !rawFailed) || im.Meta == nil {
		return nil, false, nil
	}
	meta := im.Meta
	if m.bootFilesNeeded(key, meta, j.opts.Kernel) {
		if meta, err = m.completeCached(ctx, j, key); err != nil || meta == nil {
			return nil, false, err
		}
	}
	if raw || meta.DiskRaw != nil {
		j.update(func(s *Snapshot) { s.Phase = PhaseWaiting })
		tx, err := m.cache.Begin(ctx, key)
		if err != nil {
			return nil, false, fmt.Errorf("locking %s in the cache: %w", key, err)
		}
		defer tx.Abort()
		if meta = tx.Committed(); meta == nil {
			return nil, false, nil // removed meanwhile
		}
		change, err := tx.RawChange(ctx, nil)
		if err != nil {
			return nil, false, err
		}
		switch {
		case change == "" && !meta.FailedRawOnly():
		case raw || meta.DiskRaw != nil:
			if meta.DiskRaw != nil && change != "" {
				j.notice(change + "; converting again")
			}
			meta.Verified = nil // the raw disk is made anew from the proven disk
			for _, a := range meta.Assets {
				if _, err := tx.Keep(a.Role, nil); err != nil {
					return nil, false, nil // not intact: pull it again
				}
			}
			if err := m.convertTx(ctx, tx, j); err != nil {
				return nil, false, err
			}
			meta.LastUsed = m.now()
			if meta, err = tx.Commit(meta); err != nil {
				return nil, false, err
			}
		}
		tx.Abort()
	}
	_ = m.cache.Touch(key)
	m.logCached(key, meta.Build, "using the cached image; no network (only an update looks upstream)")
	img := m.prepared(key, meta)
	img.Signature = SignatureFromMeta(meta.Signature)
	j.update(func(s *Snapshot) {
		s.Key, s.Build = key, meta.Build
		s.BytesTotal = 0
		s.Assets = nil
		for _, a := range meta.Assets {
			s.Assets = append(s.Assets, AssetProgress{Role: a.Role, Name: a.File, Phase: PhaseDone, BytesDone: a.Size, BytesTotal: a.Size, Cached: true})
			s.BytesTotal += a.Size
		}
		s.BytesDone = s.BytesTotal
	})
	return img, true, nil
}

// sameAsset reports whether the committed build holds asset a: same role
// and the digest upstream publishes now. The bytes were proven when they
// arrived; Keep checks the file is in place, and `verify` re-proves them.
func sameAsset(old *cache.Meta, a catalog.Asset) bool {
	if old == nil {
		return false
	}
	am := old.Asset(a.Role)
	// A file the last verify found wrong is not trusted again.
	return am != nil && am.Digest == a.Digest && !old.Distrusts(am.File)
}

// progress folds a transfer's progress into the snapshot.
func (j *Job) progress(i int, p download.Progress) {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := &j.snap
	if i >= len(s.Assets) || !j.live {
		return
	}
	a := &s.Assets[i]
	a.BytesDone = p.BytesDone
	if p.BytesTotal > 0 {
		a.BytesTotal = p.BytesTotal
	}
	switch p.Phase {
	case download.PhaseVerifying:
		a.Phase = PhaseVerifying
	case download.PhaseWaiting:
		a.Phase = PhaseWaiting
	default:
		a.Phase = PhaseDownloading
	}
	s.Retrying = ""
	if p.Phase == download.PhaseRetrying && p.Err != nil {
		s.Retrying = p.Err.Error()
	}
	var done, total int64
	for _, x := range s.Assets {
		done += x.BytesDone
		if x.BytesTotal < 0 || total < 0 {
			total = -1
		} else {
			total += x.BytesTotal
		}
	}
	s.BytesDone, s.BytesTotal = done, total
	s.Speed = j.speed.add(time.Now(), done)
	s.ETA = 0
	if s.Speed > 0 && total > 0 {
		s.ETA = time.Duration(float64(total-done) / s.Speed * float64(time.Second))
	}
}

// prepared builds the result paths from metadata.
func (m *Manager) prepared(key cache.Key, meta *cache.Meta) *PreparedImage {
	dir := m.cache.Dir(key)
	img := &PreparedImage{Distro: key.Distro, Version: key.Version, Arch: key.Arch, Build: meta.Build}
	for _, a := range meta.Assets {
		p := filepath.Join(dir, a.File)
		switch a.Role {
		case catalog.RoleKernel:
			img.Kernel = p
		case catalog.RoleInitramfs:
			img.Initramfs = p
		case catalog.RoleDisk:
			img.Disk = p
		}
	}
	// On aarch64 the kernel handed out is the uncompressed Image.
	if a := meta.Asset(cache.RoleKernelImage); a != nil {
		img.Kernel = filepath.Join(dir, a.File)
	}
	img.KernelSource = kernelSource(meta)
	if meta.DiskRaw != nil {
		img.DiskRaw = filepath.Join(dir, meta.DiskRaw.File)
	}
	return img
}

// speedMeter is a moving average of bytes per second over ~5 s.
type speedMeter struct {
	samples []speedSample
}

type speedSample struct {
	t time.Time
	n int64
}

func (s *speedMeter) add(now time.Time, total int64) float64 {
	s.samples = append(s.samples, speedSample{now, total})
	for len(s.samples) > 2 && now.Sub(s.samples[0].t) > 5*time.Second {
		s.samples = s.samples[1:]
	}
	first := s.samples[0]
	dt := now.Sub(first.t).Seconds()
	if dt < 0.5 {
		return 0
	}
	return float64(total-first.n) / dt
}
