package registry

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/content"
	"oras.land/oras-go/v2/registry/remote"
)

// ErrBlobDigest: bytes from the registry do not match the OCI digest that
// names them.
var ErrBlobDigest = errors.New("registry content does not match its digest")

// Remote is an image found in a registry: its parsed manifest and the way
// to its blobs.
type Remote struct {
	Image *Image
	// Reference is "HOST/REPO/<distro>:<tag>".
	Reference string
	// Digest is the manifest's.
	Digest digest.Digest

	repo *remote.Repository
	base string // "http(s)://HOST/v2/REPO/<distro>"
}

// Fetch reads the manifest tagged tag in REPO/<distro> and checks its form
// (ParseManifest). A missing tag or repository is ErrNotFound; a registry
// that cannot be reached is a *NetError.
func (c *Client) Fetch(ctx context.Context, t Target, distro, tag string) (*Remote, error) {
	if !ValidTag(tag) {
		return nil, fmt.Errorf("%q cannot be an OCI tag", tag)
	}
	repo, err := c.repository(ctx, t, distro)
	if err != nil {
		return nil, err
	}
	desc, rc, err := repo.FetchReference(ctx, tag)
	if err != nil {
		return nil, classify(t.Host, err)
	}
	defer rc.Close()
	if desc.MediaType != ocispec.MediaTypeImageManifest {
		return nil, fmt.Errorf("%w: %s is a %q", ErrBadManifest, t.Reference(distro, tag), desc.MediaType)
	}
	if desc.Size > maxManifest {
		return nil, fmt.Errorf("%w: manifest of %d bytes", ErrBadManifest, desc.Size)
	}
	b, err := content.ReadAll(rc, desc)
	if err != nil {
		if errors.Is(err, content.ErrMismatchedDigest) || errors.Is(err, content.ErrTrailingData) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: manifest %s: %w", ErrBlobDigest, t.Reference(distro, tag), err)
		}
		return nil, classify(t.Host, err)
	}
	im, err := ParseManifest(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", t.Reference(distro, tag), err)
	}
	scheme := "https://"
	if repo.PlainHTTP {
		scheme = "http://"
	}
	return &Remote{Image: im, Reference: t.Reference(distro, tag), Digest: desc.Digest, repo: repo,
		base: scheme + t.Host + "/v2/" + t.Repository(distro)}, nil
}

// ReadSmall reads a small layer (checksums, signature) into memory and
// proves it against its OCI digest.
func (r *Remote) ReadSmall(ctx context.Context, l Layer) ([]byte, error) {
	if l.Size > MaxProofSize {
		return nil, fmt.Errorf("%w: %s layer of %d bytes", ErrBadManifest, l.Role, l.Size)
	}
	desc := l.descriptor()
	rc, err := r.repo.Fetch(ctx, desc)
	if err != nil {
		return nil, classify(r.repo.Reference.Registry, fmt.Errorf("fetching the %s %s: %w", l.Role, l.Name, err))
	}
	defer rc.Close()
	b, err := content.ReadAll(rc, desc)
	if err != nil {
		if errors.Is(err, content.ErrMismatchedDigest) || errors.Is(err, content.ErrTrailingData) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("%w: the %s %s from %s: %w", ErrBlobDigest, l.Role, l.Name, r.Reference, err)
		}
		return nil, classify(r.repo.Reference.Registry, err)
	}
	return b, nil
}

// BlobURL is the address of a layer's blob, for a transfer that resumes
// with HTTP Range requests; send it through Client.Transport.
func (r *Remote) BlobURL(l Layer) string { return r.base + "/blobs/" + string(l.Digest) }
