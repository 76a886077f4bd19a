package registry

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2"
	"oras.land/oras-go/v2/registry/remote"
)

// PushProgress is one layer's progress during a push.
type PushProgress struct {
	Role       string
	BytesDone  int64
	BytesTotal int64
	// Skipped: the registry already holds the blob; nothing is sent.
	Skipped bool
}

// PushResult says what a push did.
type PushResult struct {
	// Repository is "HOST/REPO/<distro>".
	Repository string
	// Digest is the manifest's.
	Digest digest.Digest
	Tags   []string
	// Sent and Skipped name the roles of the layers uploaded and of those
	// the registry already had.
	Sent, Skipped []string
	BytesSent     int64
}

// Push uploads an image's layers (each streamed from its file, and only
// when the registry does not have it yet), then its manifest, and tags it
// <version>-<arch> and <version>-<arch>-<build>.
func (c *Client) Push(ctx context.Context, t Target, im *Image, progress func(PushProgress)) (*PushResult, error) {
	if progress == nil {
		progress = func(PushProgress) {}
	}
	tags := []string{Tag(im.Version, im.Arch), BuildTag(im.Version, im.Arch, im.Build)}
	for _, tag := range tags {
		if !ValidTag(tag) {
			return nil, fmt.Errorf("%q cannot be an OCI tag", tag)
		}
	}
	repo, err := c.repository(ctx, t, im.Distro)
	if err != nil {
		return nil, err
	}
	res := &PushResult{Repository: t.Host + "/" + t.Repository(im.Distro), Tags: tags}
	var descs []ocispec.Descriptor
	for i := range im.Layers {
		l := &im.Layers[i]
		if l.Digest == "" {
			if l.Digest, l.Size, err = fileDigest(ctx, l.Path); err != nil {
				return nil, err
			}
		}
		desc := l.descriptor()
		ok, err := repo.Exists(ctx, desc)
		if err != nil {
			return nil, classify(t.Host, fmt.Errorf("checking for the %s blob: %w", l.Role, err))
		}
		if ok {
			res.Skipped = append(res.Skipped, l.Role)
			progress(PushProgress{Role: l.Role, BytesDone: l.Size, BytesTotal: l.Size, Skipped: true})
		} else {
			if err := c.pushFile(ctx, repo, desc, l, progress); err != nil {
				return nil, classify(t.Host, err)
			}
			res.Sent = append(res.Sent, l.Role)
			res.BytesSent += l.Size
		}
		descs = append(descs, desc)
	}
	mdesc, err := oras.PackManifest(ctx, repo, oras.PackManifestVersion1_1, ArtifactType,
		oras.PackManifestOptions{Layers: descs, ManifestAnnotations: im.annotations()})
	if err != nil {
		return nil, classify(t.Host, fmt.Errorf("pushing the manifest: %w", err))
	}
	for _, tag := range tags {
		if err := repo.Tag(ctx, mdesc, tag); err != nil {
			return nil, classify(t.Host, fmt.Errorf("tagging %s: %w", tag, err))
		}
	}
	res.Digest = mdesc.Digest
	return res, nil
}

// pushFile streams one file to the registry; memory stays flat at any size.
func (c *Client) pushFile(ctx context.Context, repo interface {
	Push(context.Context, ocispec.Descriptor, io.Reader) error
}, desc ocispec.Descriptor, l *Layer, progress func(PushProgress)) error {
	f, err := os.Open(l.Path)
	if err != nil {
		return fmt.Errorf("pushing the %s: %w", l.Role, err)
	}
	defer f.Close()
	if rp, ok := repo.(*remote.Repository); ok && desc.Size > chunkThreshold {
		err := c.pushChunked(ctx, rp, desc, l, progress)
		if !errors.Is(err, errChunksRefused) {
			return err
		}
	}
	r := &countingReader{r: f, fn: func(n int64) { progress(PushProgress{Role: l.Role, BytesDone: n, BytesTotal: l.Size}) }}
	if err := repo.Push(ctx, desc, r); err != nil {
		return fmt.Errorf("pushing the %s: %w", l.Role, err)
	}
	progress(PushProgress{Role: l.Role, BytesDone: l.Size, BytesTotal: l.Size})
	return nil
}

// fileDigest is the SHA-256 digest and size of a file.
func fileDigest(ctx context.Context, path string) (digest.Digest, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, &ctxReader{ctx: ctx, r: f})
	if err != nil {
		return "", 0, fmt.Errorf("hashing %s: %w", path, err)
	}
	return digest.NewDigest(digest.SHA256, h), n, nil
}

type countingReader struct {
	r    io.Reader
	n    atomic.Int64
	last int64
	fn   func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	total := c.n.Add(int64(n))
	if total-c.last >= 4<<20 {
		c.last = total
		c.fn(total)
	}
	return n, err
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
