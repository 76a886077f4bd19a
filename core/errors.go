package core

import (
	"errors"
	"fmt"
	"net"

	"vmimages/core/cache"
	"vmimages/core/download"
	"vmimages/core/manifest"
	"vmimages/core/qemuimg"
	"vmimages/core/trust"
)

// Sentinel errors of the core, for callers to branch on with errors.Is.
var (
	// ErrIntegrity wraps every failure that means the bytes or the
	// manifest are not what the distribution published: a digest mismatch,
	// a bad or missing signature, a weak algorithm.
	ErrIntegrity = errors.New("integrity check failed")
	// ErrInsecure: a plain-http source for a distro that signs nothing.
	ErrInsecure = errors.New("insecure source")
	// ErrNotCached: the image asked for is not in the cache.
	ErrNotCached = cache.ErrNotCached
)

// IsIntegrity reports whether err means the bytes could not be proven.
func IsIntegrity(err error) bool {
	return errors.Is(err, ErrIntegrity) ||
		errors.Is(err, download.ErrDigestMismatch) ||
		errors.Is(err, trust.ErrBadSignature) ||
		errors.Is(err, trust.ErrUnknownSigner) ||
		errors.Is(err, trust.ErrWeakHash) ||
		errors.Is(err, trust.ErrNoSignature) ||
		errors.Is(err, manifest.ErrWeakDigest) ||
		errors.Is(err, manifest.ErrOutsideSignature) ||
		errors.Is(err, cache.ErrNotVerified)
}

// NotCachedError: the image asked for is not in the cache (or has no
// metadata yet). It matches ErrNotCached with errors.Is.
type NotCachedError struct {
	Key cache.Key
	Err error // the cache's own error
}

func (e *NotCachedError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("%v: %s", ErrNotCached, e.Key)
}

// Unwrap returns the cache's error.
func (e *NotCachedError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrNotCached) hold.
func (e *NotCachedError) Is(target error) bool { return target == ErrNotCached }

// notCached wraps a cache error that means "not cached" in a *NotCachedError.
func notCached(k cache.Key, err error) error {
	var nc *NotCachedError
	if err != nil && errors.Is(err, ErrNotCached) && !errors.As(err, &nc) {
		return &NotCachedError{Key: k, Err: err}
	}
	return err
}

// SpaceError: too little free space for a transfer (Need and Free bytes
// in Dir). It matches ErrInsufficientSpace with errors.Is.
type SpaceError = download.SpaceError

// InUseError lists images another holder had locked, so an operation left
// them alone. It matches ErrInUse with errors.Is.
type InUseError = cache.InUseError

// More sentinels, re-exported so a front needs only this package to word
// its advice.
var (
	// ErrInsufficientSpace: the cache's file system has too little room.
	ErrInsufficientSpace = download.ErrInsufficientSpace
	// ErrInUse: another process or job holds the image.
	ErrInUse = cache.ErrInUse
	// ErrQemuImgMissing: qemu-img is not installed, so nothing can be
	// converted.
	ErrQemuImgMissing = qemuimg.ErrMissing
)

// IsStatus reports whether err is an HTTP answer with the given status code.
func IsStatus(err error, code int) bool { return isStatus(err, code) }

// IsNetwork reports a failure to reach a server at all (refused, no route,
// name not found, timed out).
func IsNetwork(err error) bool { return isNetwork(err) }

func isStatus(err error, code int) bool {
	var se *download.StatusError
	return errors.As(err, &se) && se.Code == code
}

// isNetwork reports a failure to reach a server at all (refused, no route,
// name not found, timed out).
func isNetwork(err error) bool {
	var ne net.Error
	var oe *net.OpError
	var de *net.DNSError
	return errors.As(err, &oe) || errors.As(err, &de) || (errors.As(err, &ne) && ne.Timeout())
}
