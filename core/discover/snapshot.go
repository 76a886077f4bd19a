package discover

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
	"vmimages/core/localfs"
)

// MaxSnapshotSize caps a snapshot file read by LoadSnapshot.
const MaxSnapshotSize = 16 << 20

// Snapshot is what Refresh found upstream at one moment.
type Snapshot struct {
	// Taken is when Refresh ran.
	Taken time.Time `json:"taken"`
	// Distros maps a catalog distro id to its releases upstream, oldest
	// first. A distro whose refresh failed is absent.
	Distros map[string][]Found `json:"distros"`
}

// Found is one release seen upstream. Fields upstream does not publish stay
// empty.
type Found struct {
	Version  string `json:"version"`
	Codename string `json:"codename,omitempty"`
	// Supported is upstream's word on whether the release is supported; nil
	// when upstream does not say.
	Supported *bool `json:"supported,omitempty"`
	// EOL is the end of support, YYYY-MM-DD, when upstream gives it.
	EOL string `json:"eol,omitempty"`
	// Arches are the canonical arches upstream publishes images for that
	// the catalog entry can spell; empty when unknown.
	Arches []string `json:"arches,omitempty"`
	// LatestBuild is the newest build id (an Ubuntu serial, a Fedora
	// compose id), when known.
	LatestBuild string `json:"latest_build,omitempty"`
}

// Save writes the snapshot to path as JSON, atomically and durably
// (localfs.WriteFile), so a reader never sees half of it. The directory is created if needed.
func (s *Snapshot) Save(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding snapshot: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("saving snapshot: %w", err)
	}
	if err := localfs.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("saving snapshot: %w", err)
	}
	return nil
}

// LoadSnapshot reads a snapshot written by Save. A missing file gives an
// error that matches fs.ErrNotExist.
func LoadSnapshot(path string) (*Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("loading snapshot: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxSnapshotSize+1))
	if err != nil {
		return nil, fmt.Errorf("loading snapshot %s: %w", path, err)
	}
	if len(b) > MaxSnapshotSize {
		return nil, fmt.Errorf("loading snapshot %s: %w: larger than %d bytes", path, ErrFormat, MaxSnapshotSize)
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("loading snapshot %s: %w: %w", path, ErrFormat, err)
	}
	if s.Distros == nil {
		if s.Taken.IsZero() {
			return nil, fmt.Errorf("loading snapshot %s: %w: not a snapshot", path, ErrFormat)
		}
		s.Distros = map[string][]Found{}
	}
	return &s, nil
}
