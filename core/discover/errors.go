package discover

import (
	"errors"
	"fmt"
)

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrFormat: a document does not have the shape its upstream publishes.
	ErrFormat = errors.New("unexpected document format")
	// ErrNoReleases: an upstream document parsed but named no release,
	// which means the layout changed or a mirror served something else.
	ErrNoReleases = errors.New("no releases found")
)

// SourceError is a distro whose refresh failed, with the document that
// failed it. It wraps the fetcher's or the parser's error.
type SourceError struct {
	Distro string // catalog distro id
	URL    string
	Err    error
}

// Error says which distro failed and on which URL.
func (e *SourceError) Error() string {
	return fmt.Sprintf("discovering %s releases from %s: %v", e.Distro, e.URL, e.Err)
}

// Unwrap returns the cause.
func (e *SourceError) Unwrap() error { return e.Err }
