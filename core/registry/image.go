package registry

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"vmimages/core/manifest"
)

// ErrBadManifest: a registry manifest is not a vmimages image, or says
// something inconsistent. Callers treat it as an integrity failure: a
// registry is not trusted to describe an image.
var ErrBadManifest = errors.New("not a valid vmimages artifact")

// ArtifactType marks a vmimages image in a registry.
const ArtifactType = "application/vnd.vmimages.image.v1"

// Media types of the layers.
const (
	// MediaTypeDisk is the disk's prefix: MediaTypeDisk + "." + its format
	// ("application/vnd.vmimages.disk.qcow2", "….disk.raw").
	MediaTypeDisk      = "application/vnd.vmimages.disk"
	MediaTypeKernel    = "application/vnd.vmimages.kernel"
	MediaTypeInitramfs = "application/vnd.vmimages.initramfs"
	// MediaTypeChecksums is a distribution's checksum file (GNU, BSD or
	// clearsigned), byte for byte as published.
	MediaTypeChecksums = "application/vnd.vmimages.checksums"
	// MediaTypeSignature is a detached OpenPGP signature (RFC 3156).
	MediaTypeSignature = "application/pgp-signature"
)

// Layer roles.
const (
	RoleDisk      = "disk"
	RoleKernel    = "kernel"
	RoleInitramfs = "initramfs"
	RoleChecksums = "checksums"
	RoleSignature = "signature"
)

// Annotation keys. Layer annotations also carry
// org.opencontainers.image.title (the upstream file name).
const (
	AnnotationRole           = "dev.vmimages.role"
	AnnotationFormat         = "dev.vmimages.format"
	AnnotationUpstreamURL    = "dev.vmimages.upstream.url"
	AnnotationUpstreamDigest = "dev.vmimages.upstream.digest"
	// AnnotationChecksums on an asset: the URL of the checksums layer that
	// vouches for its digest. On a signature: the checksums it signs.
	AnnotationChecksums = "dev.vmimages.checksums.url"

	AnnotationDistro          = "dev.vmimages.distro"
	AnnotationVersion         = "dev.vmimages.version"
	AnnotationArch            = "dev.vmimages.arch"
	AnnotationBuild           = "dev.vmimages.build"
	AnnotationSignatureStatus = "dev.vmimages.signature.status"
	AnnotationSigner          = "dev.vmimages.signature.signer"
	AnnotationSignedAt        = "dev.vmimages.signature.signed_at"
	AnnotationPulledAt        = "dev.vmimages.pulled_at"
)

// Limits on what a manifest may describe.
const (
	maxManifest = 1 << 20
	maxLayers   = 32
	// MaxProofSize bounds a checksums or signature layer; they are read
	// into memory.
	MaxProofSize = manifest.MaxSize
)

// Image is a vmimages image as stored in a registry.
type Image struct {
	Distro, Version, Arch, Build string
	// Signature is what the pusher's cache recorded about the upstream
	// signature. Informative only: a puller checks the signature itself.
	SignatureStatus string
	Signer          string
	SignedAt        time.Time
	PulledAt        time.Time
	Layers          []Layer
}

// Layer is one file of an image.
type Layer struct {
	Role string
	// Name is the upstream file name.
	Name string
	// Format is the disk's format ("qcow2", "raw"); empty otherwise.
	Format string
	// URL is where the distribution published the file.
	URL string
	// UpstreamDigest is the digest the distribution published for an
	// asset (disk, kernel, initramfs); zero for checksums and signatures.
	UpstreamDigest manifest.Digest
	// Checksums is, for an asset, the URL of the checksums layer holding
	// its digest; for a signature, the URL of the checksums it signs.
	Checksums string
	// Digest and Size are the OCI blob's; on push a zero Digest means
	// "compute it".
	Digest digest.Digest
	Size   int64
	// Path is the local file (push only).
	Path string
}

// IsAsset reports whether the layer is a disk, kernel or initramfs.
func (l Layer) IsAsset() bool {
	return l.Role == RoleDisk || l.Role == RoleKernel || l.Role == RoleInitramfs
}

// MediaType is the layer's media type.
func (l Layer) MediaType() string {
	switch l.Role {
	case RoleDisk:
		if formatRe.MatchString(l.Format) {
			return MediaTypeDisk + "." + l.Format
		}
		return MediaTypeDisk
	case RoleKernel:
		return MediaTypeKernel
	case RoleInitramfs:
		return MediaTypeInitramfs
	case RoleChecksums:
		return MediaTypeChecksums
	case RoleSignature:
		return MediaTypeSignature
	}
	return "application/octet-stream"
}

var formatRe = regexp.MustCompile(`^[a-z0-9]{1,16}$`)

// Layer returns the first layer with the role, or nil.
func (im *Image) Layer(role string) *Layer {
	for i := range im.Layers {
		if im.Layers[i].Role == role {
			return &im.Layers[i]
		}
	}
	return nil
}

// ChecksumsFor returns the checksums layer with the URL, or nil.
func (im *Image) ChecksumsFor(url string) *Layer {
	for i := range im.Layers {
		if im.Layers[i].Role == RoleChecksums && im.Layers[i].URL == url {
			return &im.Layers[i]
		}
	}
	return nil
}

// SignatureFor returns the signature layer over the checksums at url, or nil.
func (im *Image) SignatureFor(url string) *Layer {
	for i := range im.Layers {
		if im.Layers[i].Role == RoleSignature && im.Layers[i].Checksums == url {
			return &im.Layers[i]
		}
	}
	return nil
}

func (l Layer) descriptor() ocispec.Descriptor {
	a := map[string]string{AnnotationRole: l.Role}
	if l.Name != "" {
		a[ocispec.AnnotationTitle] = l.Name
	}
	if l.Format != "" {
		a[AnnotationFormat] = l.Format
	}
	if l.URL != "" {
		a[AnnotationUpstreamURL] = l.URL
	}
	if !l.UpstreamDigest.IsZero() {
		a[AnnotationUpstreamDigest] = l.UpstreamDigest.String()
	}
	if l.Checksums != "" {
		a[AnnotationChecksums] = l.Checksums
	}
	return ocispec.Descriptor{MediaType: l.MediaType(), Digest: l.Digest, Size: l.Size, Annotations: a}
}

func (im *Image) annotations() map[string]string {
	a := map[string]string{
		AnnotationDistro:  im.Distro,
		AnnotationVersion: im.Version,
		AnnotationArch:    im.Arch,
		AnnotationBuild:   im.Build,
		// The build, for tools that show OCI's own keys.
		ocispec.AnnotationVersion: im.Build,
	}
	if im.SignatureStatus != "" {
		a[AnnotationSignatureStatus] = im.SignatureStatus
	}
	if im.Signer != "" {
		a[AnnotationSigner] = im.Signer
	}
	if !im.SignedAt.IsZero() {
		a[AnnotationSignedAt] = im.SignedAt.UTC().Format(time.RFC3339)
	}
	if !im.PulledAt.IsZero() {
		a[AnnotationPulledAt] = im.PulledAt.UTC().Format(time.RFC3339)
	}
	return a
}

// ParseManifest reads an OCI image manifest and checks that it describes a
// vmimages image consistently: known roles and media types, one disk, at
// most one kernel and initramfs, strong upstream digests, every asset tied
// to a checksums layer, proof layers small, names without slashes.
func ParseManifest(b []byte) (*Image, error) {
	if len(b) > maxManifest {
		return nil, fmt.Errorf("%w: manifest larger than %d bytes", ErrBadManifest, maxManifest)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadManifest, err)
	}
	if m.SchemaVersion != 2 || (m.MediaType != "" && m.MediaType != ocispec.MediaTypeImageManifest) {
		return nil, fmt.Errorf("%w: not an OCI image manifest (schema %d, %q)", ErrBadManifest, m.SchemaVersion, m.MediaType)
	}
	if m.ArtifactType != ArtifactType && m.Config.MediaType != ArtifactType {
		return nil, fmt.Errorf("%w: artifact type %q, want %q", ErrBadManifest, m.ArtifactType, ArtifactType)
	}
	if len(m.Layers) == 0 || len(m.Layers) > maxLayers {
		return nil, fmt.Errorf("%w: %d layers", ErrBadManifest, len(m.Layers))
	}
	a := m.Annotations
	im := &Image{Distro: a[AnnotationDistro], Version: a[AnnotationVersion], Arch: a[AnnotationArch], Build: a[AnnotationBuild],
		SignatureStatus: a[AnnotationSignatureStatus], Signer: a[AnnotationSigner]}
	for _, f := range []string{im.Distro, im.Version, im.Arch, im.Build} {
		if f == "" || len(f) > 128 || strings.ContainsAny(f, "/\\\x00\n") {
			return nil, fmt.Errorf("%w: distro, version, arch and build must be set and plain (got %q %q %q %q)",
				ErrBadManifest, truncate(im.Distro), truncate(im.Version), truncate(im.Arch), truncate(im.Build))
		}
	}
	for k, p := range map[string]*time.Time{AnnotationSignedAt: &im.SignedAt, AnnotationPulledAt: &im.PulledAt} {
		if s := a[k]; s != "" {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return nil, fmt.Errorf("%w: %s: %w", ErrBadManifest, k, err)
			}
			*p = t
		}
	}
	seen := map[string]bool{}
	for i, d := range m.Layers {
		l, err := parseLayer(d)
		if err != nil {
			return nil, fmt.Errorf("%w: layer %d: %w", ErrBadManifest, i+1, err)
		}
		if l.IsAsset() {
			if seen[l.Role] {
				return nil, fmt.Errorf("%w: two %s layers", ErrBadManifest, l.Role)
			}
			seen[l.Role] = true
		}
		im.Layers = append(im.Layers, l)
	}
	if !seen[RoleDisk] {
		return nil, fmt.Errorf("%w: no disk layer", ErrBadManifest)
	}
	urls := map[string]bool{}
	for _, l := range im.Layers {
		if l.Role == RoleChecksums {
			if urls[l.URL] {
				return nil, fmt.Errorf("%w: checksums %s listed twice", ErrBadManifest, truncate(l.URL))
			}
			urls[l.URL] = true
		}
	}
	sigs := map[string]bool{}
	for _, l := range im.Layers {
		switch {
		case l.IsAsset() && !urls[l.Checksums]:
			return nil, fmt.Errorf("%w: the %s's checksums %s are not in the artifact", ErrBadManifest, l.Role, truncate(l.Checksums))
		case l.Role == RoleSignature && !urls[l.Checksums]:
			return nil, fmt.Errorf("%w: a signature over %s, which is not in the artifact", ErrBadManifest, truncate(l.Checksums))
		case l.Role == RoleSignature && sigs[l.Checksums]:
			return nil, fmt.Errorf("%w: two signatures over %s", ErrBadManifest, truncate(l.Checksums))
		case l.Role == RoleSignature:
			sigs[l.Checksums] = true
		}
	}
	return im, nil
}

func parseLayer(d ocispec.Descriptor) (Layer, error) {
	a := d.Annotations
	l := Layer{Role: a[AnnotationRole], Name: a[ocispec.AnnotationTitle], Format: a[AnnotationFormat],
		URL: a[AnnotationUpstreamURL], Checksums: a[AnnotationChecksums], Digest: d.Digest, Size: d.Size}
	if err := d.Digest.Validate(); err != nil || d.Digest.Algorithm() != digest.SHA256 && d.Digest.Algorithm() != digest.SHA512 {
		return l, fmt.Errorf("blob digest %q is not sha256 or sha512", truncate(string(d.Digest)))
	}
	if d.Size < 0 || d.Size > 1<<42 {
		return l, fmt.Errorf("size %d out of range", d.Size)
	}
	if l.Format != "" && !formatRe.MatchString(l.Format) {
		return l, fmt.Errorf("format %q", truncate(l.Format))
	}
	if d.MediaType != l.MediaType() {
		return l, fmt.Errorf("media type %q does not fit role %q", truncate(d.MediaType), truncate(l.Role))
	}
	if l.Name == "" || len(l.Name) > 255 || strings.ContainsAny(l.Name, "/\\\x00") || l.Name == "." || l.Name == ".." {
		return l, fmt.Errorf("file name %q", truncate(l.Name))
	}
	if !strings.HasPrefix(l.URL, "https://") && !strings.HasPrefix(l.URL, "http://") {
		return l, fmt.Errorf("upstream URL %q", truncate(l.URL))
	}
	switch l.Role {
	case RoleDisk, RoleKernel, RoleInitramfs:
		s := a[AnnotationUpstreamDigest]
		dg, err := manifest.ParseDigest(s)
		if err != nil {
			return l, fmt.Errorf("upstream digest: %w", err)
		}
		if !dg.Strong() {
			return l, fmt.Errorf("upstream digest %s is not SHA-256 or SHA-512", truncate(s))
		}
		l.UpstreamDigest = dg
		if l.Checksums == "" {
			return l, errors.New("no checksums URL")
		}
	case RoleChecksums:
		if d.Size > MaxProofSize {
			return l, fmt.Errorf("checksums of %d bytes", d.Size)
		}
	case RoleSignature:
		if d.Size > 1<<20 {
			return l, fmt.Errorf("signature of %d bytes", d.Size)
		}
		if l.Checksums == "" {
			return l, errors.New("a signature that names no checksums")
		}
	default:
		return l, fmt.Errorf("unknown role %q", truncate(l.Role))
	}
	return l, nil
}
