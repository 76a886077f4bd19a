package download

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"vmimages/core/manifest"
)

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrDigestMismatch: the downloaded bytes do not hash to the expected
	// digest. The error is a *DigestError with the details.
	ErrDigestMismatch = errors.New("digest mismatch")
	// ErrHTTPStatus: the server answered with a status that is not retried or
	// kept failing. The error is a *StatusError with the details.
	ErrHTTPStatus = errors.New("unexpected HTTP status")
	// ErrInsufficientSpace: the destination's file system has too little free
	// space for the rest of the file plus Request.ExtraSpace.
	ErrInsufficientSpace = errors.New("insufficient disk space")
	// ErrDigestRequired: the request carries no digest. Every file is verified.
	ErrDigestRequired = errors.New("a strong digest is required")
	// ErrSizeMismatch: the server sends a different number of bytes than
	// Request.Size announces.
	ErrSizeMismatch = errors.New("size mismatch")
	// ErrStalled: no bytes arrived for Options.StallTimeout. An attempt that
	// stalls is retried; this error ends a pull only when retries run out.
	ErrStalled = errors.New("transfer stalled")
	// ErrTooLarge: FetchSmall's response exceeds its cap.
	ErrTooLarge = errors.New("response too large")
	// ErrTooSlow: a small document did not arrive within
	// Options.SmallTimeout, retries included.
	ErrTooSlow = errors.New("server too slow")
)

// DigestError reports bytes that do not match the expected digest. The part
// file is removed; Dest is left as it was.
type DigestError struct {
	URL      string
	File     string // the destination the bytes were meant for
	Expected manifest.Digest
	Actual   manifest.Digest
}

// Error implements error.
func (e *DigestError) Error() string {
	return fmt.Sprintf("%s: %s: expected %s, got %s", e.URL, ErrDigestMismatch, e.Expected, e.Actual)
}

// Is makes errors.Is(err, ErrDigestMismatch) hold.
func (e *DigestError) Is(target error) bool { return target == ErrDigestMismatch }

// StatusError reports an HTTP status that ended a transfer.
type StatusError struct {
	URL  string
	Code int
}

// Error implements error.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: server answered %d %s", e.URL, e.Code, http.StatusText(e.Code))
}

// Is makes errors.Is(err, ErrHTTPStatus) hold.
func (e *StatusError) Is(target error) bool { return target == ErrHTTPStatus }

// retryableStatus reports whether a status is worth another attempt.
func retryableStatus(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// SpaceError reports too little free space for a transfer. It matches
// ErrInsufficientSpace.
type SpaceError struct {
	URL  string
	Dir  string // directory on the file system checked
	Need int64  // bytes still to download plus Request.ExtraSpace
	Free int64  // bytes available
}

// Error implements error.
func (e *SpaceError) Error() string {
	return fmt.Sprintf("%s: %s in %s: need %d bytes, %d bytes free", e.URL, ErrInsufficientSpace, e.Dir, e.Need, e.Free)
}

// Is makes errors.Is(err, ErrInsufficientSpace) hold.
func (e *SpaceError) Is(target error) bool { return target == ErrInsufficientSpace }

// retryError marks an attempt's failure as worth another attempt after a
// pause of at least after.
type retryError struct {
	err   error
	after time.Duration
}

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// restartError marks a part file that must not be resumed: it is dropped and
// the next attempt starts from zero at once.
type restartError struct{ err error }

func (e *restartError) Error() string { return e.err.Error() }
func (e *restartError) Unwrap() error { return e.err }

func restart(format string, args ...any) error {
	return &restartError{fmt.Errorf(format, args...)}
}
