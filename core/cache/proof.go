package cache

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"vmimages/core/localfs"
)

// Proof roles.
const (
	// ProofChecksums is a distribution's checksum file.
	ProofChecksums = "checksums"
	// ProofSignature is a detached signature over a checksum file.
	ProofSignature = "signature"
)

// proofDir holds an image's proof: the distribution's checksum files and
// their signatures exactly as downloaded, and proofIndex listing them.
const (
	proofDir   = "proof"
	proofIndex = "index.json"
	// maxProof bounds one proof file; checksum files are small.
	maxProof = 8 << 20
)

// ErrNoProof: the image has no recorded proof (it was pulled by a version
// that did not keep one, or its proof belongs to another build).
var ErrNoProof = errors.New("no checksum files kept for this image")

// Proof is one file of a distribution's own evidence for an image.
type Proof struct {
	// Role is ProofChecksums or ProofSignature.
	Role string `json:"role"`
	// URL is where the distribution published it.
	URL string `json:"url"`
	// Signs is, for a signature, the URL of the checksum file it signs.
	Signs string `json:"signs,omitempty"`
	// File is its name inside the proof folder; Path (filled by Proofs) the
	// full path.
	File string `json:"file"`
	Path string `json:"-"`
	// Data is its content: given to SaveProofs, returned by Proofs.
	Data []byte `json:"-"`
}

type proofIndexFile struct {
	Build  string  `json:"build"`
	Proofs []Proof `json:"proofs"`
}

// SetProofs gives the new build's proof: the distribution's checksum files
// and signatures, exactly as downloaded. Commit keeps them beside the build
// (replacing an earlier build's), and Proofs reads them back.
func (tx *Tx) SetProofs(proofs []Proof) {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.proofs = append([]Proof{}, proofs...)
}

// saveProofs writes a build's proof into dir, each file through a synced
// temporary and a rename, the index last.
func saveProofs(dir, build string, proofs []Proof) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("keep checksum files: %w", err)
	}
	idx := proofIndexFile{Build: build, Proofs: []Proof{}}
	for i, p := range proofs {
		if len(p.Data) > maxProof {
			return fmt.Errorf("keep checksum files: %s is %d bytes", truncate(p.URL), len(p.Data))
		}
		p.File = p.Role + "-" + strconv.Itoa(i+1)
		if err := localfs.WriteFile(filepath.Join(dir, p.File), p.Data, 0o644); err != nil {
			return fmt.Errorf("keep checksum files: %w", err)
		}
		p.Data, p.Path = nil, ""
		idx.Proofs = append(idx.Proofs, p)
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := localfs.WriteFile(filepath.Join(dir, proofIndex), append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("keep checksum files: %w", err)
	}
	return nil
}

// Proofs returns the proof kept for the image's build, with each file's
// content. It returns ErrNoProof when none was kept for that build.
func (c *Cache) Proofs(k Key, build string) ([]Proof, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	dir := filepath.Join(c.Dir(k), proofDir)
	b, err := os.ReadFile(filepath.Join(dir, proofIndex))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoProof, k)
	}
	if err != nil {
		return nil, err
	}
	var idx proofIndexFile
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("%w: %s: proof index: %w", ErrBadMeta, k, err)
	}
	if idx.Build != build {
		return nil, fmt.Errorf("%w: %s: kept for build %s, not %s", ErrNoProof, k, truncate(idx.Build), truncate(build))
	}
	out := idx.Proofs
	for i := range out {
		p := &out[i]
		if !validPart(p.File) || p.File == proofIndex || (p.Role != ProofChecksums && p.Role != ProofSignature) {
			return nil, fmt.Errorf("%w: %s: proof entry %q", ErrBadMeta, k, truncate(p.File))
		}
		p.Path = filepath.Join(dir, p.File)
		fi, err := os.Lstat(p.Path)
		if err != nil || !fi.Mode().IsRegular() || fi.Size() > maxProof {
			return nil, fmt.Errorf("%w: %s: proof file %s missing or not a small regular file", ErrBadMeta, k, p.File)
		}
		if p.Data, err = os.ReadFile(p.Path); err != nil {
			return nil, err
		}
	}
	return out, nil
}
