package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"os"
	"path"

	"github.com/opencontainers/go-digest"

	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/download"
	"vmimages/core/manifest"
	"vmimages/core/registry"
)

// Where a pull's bytes come from (Snapshot.Source), besides a registry's
// oci:// address.
const SourceUpstream = "upstream"

// ErrNoProof: a cached image has no checksum file kept with it (it was
// pulled by an older version), so it cannot be published with its proof.
var ErrNoProof = cache.ErrNoProof

// registryClient returns the Manager's registry client, made on first use
// so that a broken credentials file only affects registry commands.
func (m *Manager) registryClient() (*registry.Client, *download.Client, error) {
	m.regOnce.Do(func() {
		base := m.opts.Transport
		if base == nil {
			base = download.NewTransport()
		}
		m.reg, m.regErr = registry.New(registry.Options{Transport: base, Insecure: m.Config().InsecureRegistries,
			Credentials: m.opts.RegistryCredentials, UserAgent: m.userAgent})
		if m.regErr != nil {
			return
		}
		cfg := m.Config()
		m.regdl = download.New(download.Options{
			Parallel:  cfg.ParallelOrDefault(),
			RateLimit: cfg.BandwidthBytes(),
			UserAgent: m.userAgent,
			Transport: m.reg.Transport(),
			Backoff:   m.opts.Backoff,
		})
	})
	return m.reg, m.regdl, m.regErr
}

// Registry is the registry pulls try first ("oci://…"), "" for none.
func (m *Manager) Registry() string { return m.opts.registryRef(m.Config()) }

// Login checks credentials against a registry host and saves them where
// container tools keep theirs.
func (m *Manager) Login(ctx context.Context, host, user, password string) error {
	c, _, err := m.registryClient()
	if err != nil {
		return err
	}
	return c.Login(ctx, host, user, password)
}

// PushProgress is a push's progress.
type PushProgress struct {
	// Phase is PhaseVerifying while the cached files are re-hashed and
	// PhaseDownloading (bytes moving, here upwards) while they upload.
	Phase      Phase
	Role       string
	BytesDone  int64
	BytesTotal int64
	Skipped    bool
}

// Push publishes a cached image to a registry ("oci://HOST[:PORT]/REPO")
// as REPO/<distro>:<version>-<arch> and …-<build>, with the distribution's
// checksum files and signatures as kept in the cache. Before anything is
// sent, every cached file is re-hashed against its recorded digest and the
// kept proof is checked to vouch for those digests, so a damaged cache is
// never published.
func (m *Manager) Push(ctx context.Context, ref catalog.Ref, target string, progress func(PushProgress)) (*registry.PushResult, error) {
	if progress == nil {
		progress = func(PushProgress) {}
	}
	t, err := registry.ParseTarget(target)
	if err != nil {
		return nil, err
	}
	key, err := m.Key(ref)
	if err != nil {
		return nil, err
	}
	c, _, err := m.registryClient()
	if err != nil {
		return nil, err
	}
	im, err := m.cache.Image(key)
	if err != nil {
		return nil, err
	}
	if im.State != cache.StateReady || im.Meta == nil {
		return nil, fmt.Errorf("%w: %s is %s (%s)", ErrNotCached, key, im.State, im.Reason)
	}
	// The image's lock, so no update replaces files while they upload; the
	// transaction is never committed.
	tx, err := m.cache.Begin(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("locking %s in the cache: %w", key, err)
	}
	defer tx.Abort()
	meta := tx.Committed()
	if meta == nil {
		return nil, fmt.Errorf("%w: %s", ErrNotCached, key)
	}
	proofs, err := m.cache.Proofs(key, meta.Build)
	if err != nil {
		return nil, err
	}
	files, sigs := map[string][]byte{}, map[string][]byte{}
	sigURL := map[string]string{}
	for _, p := range proofs {
		if p.Role == cache.ProofChecksums {
			files[p.URL] = p.Data
		} else {
			sigs[p.Signs], sigURL[p.Signs] = p.Data, p.URL
		}
	}
	d, v, _, err := m.Catalog().Lookup(ref)
	if err != nil {
		return nil, err
	}
	out := &registry.Image{Distro: key.Distro, Version: key.Version, Arch: key.Arch, Build: meta.Build, PulledAt: meta.PulledAt}
	var claims []claim
	for _, a := range meta.Assets {
		checksums := checksumsOf(a, proofs)
		name := assetName(a.URL)
		p := tx.Path(a.File)
		progress(PushProgress{Phase: PhaseVerifying, Role: a.Role, BytesTotal: a.Size})
		oci, err := hashBoth(ctx, p, a.Digest, func(n int64) {
			progress(PushProgress{Phase: PhaseVerifying, Role: a.Role, BytesDone: n, BytesTotal: a.Size})
		})
		if err != nil {
			return nil, fmt.Errorf("the cached %s of %s: %w", a.Role, key, err)
		}
		claims = append(claims, claim{Role: a.Role, Name: name, Digest: a.Digest, Size: a.Size, Checksums: checksums})
		out.Layers = append(out.Layers, registry.Layer{Role: a.Role, Name: name, Format: a.Format, URL: a.URL,
			UpstreamDigest: a.Digest, Checksums: checksums, Digest: oci, Size: a.Size, Path: p})
	}
	info, _, err := m.proveClaims(d.ID, d.Name, d.SignatureFor(v), claims, files, sigs)
	if err != nil {
		return nil, err
	}
	out.SignatureStatus, out.Signer = info.Status, info.Signer
	if info.SignedAt != nil {
		out.SignedAt = *info.SignedAt
	}
	for _, p := range proofs {
		if p.Role == cache.ProofChecksums {
			out.Layers = append(out.Layers, registry.Layer{Role: registry.RoleChecksums, Name: assetName(p.URL), URL: p.URL, Path: p.Path})
		} else {
			out.Layers = append(out.Layers, registry.Layer{Role: registry.RoleSignature, Name: assetName(p.URL), URL: p.URL, Checksums: p.Signs, Path: p.Path})
		}
	}
	return c.Push(ctx, t, out, func(p registry.PushProgress) {
		progress(PushProgress{Phase: PhaseDownloading, Role: p.Role, BytesDone: p.BytesDone, BytesTotal: p.BytesTotal, Skipped: p.Skipped})
	})
}

// checksumsOf finds the checksum file an asset's digest came from: the
// one recorded for it, or the only one kept.
func checksumsOf(a cache.AssetMeta, proofs []cache.Proof) string {
	var urls []string
	for _, p := range proofs {
		if p.Role == cache.ProofChecksums {
			urls = append(urls, p.URL)
		}
	}
	if len(urls) == 1 {
		return urls[0]
	}
	// Several (Ubuntu: the disk's and unpacked/'s): the one in the
	// asset's own folder.
	dir := a.URL[:len(a.URL)-len(path.Base(a.URL))]
	for _, u := range urls {
		if u[:len(u)-len(path.Base(u))] == dir {
			return u
		}
	}
	return ""
}

// assetName is the file name at the end of a URL.
func assetName(u string) string {
	if p, err := url.Parse(u); err == nil {
		return path.Base(p.Path)
	}
	return path.Base(u)
}

// hashBoth reads a file once, checking it against its recorded digest and
// returning its SHA-256 OCI digest.
func hashBoth(ctx context.Context, p string, want manifest.Digest, progress func(int64)) (digest.Digest, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	oci := sha256.New()
	var up hash.Hash
	if want.Algorithm != manifest.SHA256 {
		if up, err = want.NewHash(); err != nil {
			return "", err
		}
	}
	buf := make([]byte, 1<<20)
	var n int64
	for {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		k, rerr := f.Read(buf)
		oci.Write(buf[:k])
		if up != nil {
			up.Write(buf[:k])
		}
		n += int64(k)
		if n%(64<<20) < int64(k) {
			progress(n)
		}
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return "", rerr
		}
	}
	sum := oci.Sum(nil)
	if up != nil {
		if !want.Matches(up.Sum(nil)) {
			return "", fmt.Errorf("%w: it no longer matches its recorded %s digest (run verify)", ErrIntegrity, want.Algorithm)
		}
	} else if !want.Matches(sum) {
		return "", fmt.Errorf("%w: it no longer matches its recorded digest %s (run verify)", ErrIntegrity, want)
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(sum)), nil
}
