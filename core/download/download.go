package download

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"vmimages/core/manifest"
)

// Defaults applied by New to zero Options fields.
const (
	DefaultParallel     = 3
	DefaultStallTimeout = 30 * time.Second
	DefaultRetries      = 5
	DefaultUserAgent    = "vmimages"
	DefaultSmallTimeout = 2 * time.Minute
)

// copyBufferSize is grab's read/write buffer per transfer. It is also the
// rate limiter's burst: grab asks the limiter for up to this many bytes at a
// time, and x/time/rate refuses requests larger than the burst.
const copyBufferSize = 128 << 10

// Options configures a Client. Zero values select the defaults.
type Options struct {
	// Parallel is how many transfers may run at once (default 3).
	Parallel int
	// RateLimit caps the bytes per second of all transfers together; 0 means
	// no cap.
	RateLimit int64
	// StallTimeout cancels and retries an attempt that received no bytes for
	// this long (default 30s).
	StallTimeout time.Duration
	// Retries is how many times a failed attempt is retried (default 5; a
	// negative value means none).
	Retries int
	// Backoff gives the pause before retry number attempt (1-based). The
	// default doubles from 1s up to 30s.
	Backoff func(attempt int) time.Duration
	// UserAgent is sent with every request, e.g. "vmimages/1.2.0".
	UserAgent string
	// Transport carries the requests; nil means NewTransport().
	Transport http.RoundTripper
	// SmallTimeout bounds one FetchSmall call, retries included, so that a
	// server trickling a listing or manifest byte by byte cannot hold a
	// resolve forever (default 2 minutes).
	SmallTimeout time.Duration
	// FreeSpace reports the bytes available to an unprivileged user on the
	// file system holding dir. The default asks the operating system.
	FreeSpace func(dir string) (int64, error)
}

// Request describes one file to fetch.
type Request struct {
	// URL is the file's http or https address.
	URL string
	// Dest is where the verified file is put, by rename from Part.
	Dest string
	// Part is where the bytes go while the transfer runs, with a sidecar
	// at Part + ".json" that says what they are, so a later Fetch may resume
	// them. It must be on Dest's file system. The caller (the cache) names
	// both; this package derives no path.
	Part string
	// Digest is the expected digest; it must be a strong one (SHA-256 or
	// SHA-512).
	Digest manifest.Digest
	// Size is the expected size in bytes, or -1 when unknown.
	Size int64
	// ExtraSpace is how many bytes the caller needs later on the same file
	// system (for example a raw conversion); it is checked up front.
	ExtraSpace int64
	// AllowDowngrade lets a redirect lead from https to plain http. Set it
	// only when the digest is proven without the transport (a signature by
	// a pinned key covers it): the bytes are then checked against it
	// whichever server sends them.
	AllowDowngrade bool
}

// Phase names what a transfer is doing.
type Phase int

// The phases a Progress reports.
const (
	// PhaseWaiting: queued behind other transfers.
	PhaseWaiting Phase = iota
	// PhaseDownloading: bytes are moving.
	PhaseDownloading
	// PhaseVerifying: hashing bytes already on disk or checking the digest.
	PhaseVerifying
	// PhaseRetrying: pausing before another attempt; Progress.Err says why.
	PhaseRetrying
)

// String returns the phase's name in lower case.
func (p Phase) String() string {
	switch p {
	case PhaseWaiting:
		return "waiting"
	case PhaseDownloading:
		return "downloading"
	case PhaseVerifying:
		return "verifying"
	case PhaseRetrying:
		return "retrying"
	}
	return fmt.Sprintf("phase(%d)", int(p))
}

// Progress is a snapshot of one transfer, passed to Fetch's callback at most
// about ten times a second.
type Progress struct {
	URL string
	// FinalURL is where the bytes come from, after redirects; "" until the
	// server answered.
	FinalURL       string
	Phase          Phase
	BytesDone      int64         // bytes in the part file (or hashed, while verifying)
	BytesTotal     int64         // -1 when unknown
	Resumed        int64         // bytes already on disk when the call started
	BytesPerSecond float64       // recent network rate
	ETA            time.Duration // 0 when unknown
	Attempt        int           // 1-based
	Err            error         // why the last attempt failed, if it did
}

// Status says how Fetch satisfied a request.
type Status int

// The statuses of a Result.
const (
	// StatusDownloaded: the file was transferred (fully or by resuming).
	StatusDownloaded Status = iota + 1
	// StatusCached: Dest already held the right bytes; nothing moved.
	StatusCached
)

// String returns the status's name in lower case.
func (s Status) String() string {
	switch s {
	case StatusDownloaded:
		return "downloaded"
	case StatusCached:
		return "cached"
	}
	return fmt.Sprintf("status(%d)", int(s))
}

// Result describes a finished Fetch.
type Result struct {
	Status      Status
	Path        string // Dest
	Size        int64
	Transferred int64  // bytes received over the network during this call
	Validator   string // the server's ETag or Last-Modified, if it sent one
	Resumed     int64  // bytes of an earlier part file that were kept
	// FinalURL is where the bytes came from, after redirects (Request.URL
	// when there were none); "" for StatusCached.
	FinalURL string
}

// Client runs transfers. It is safe for concurrent use; create one per
// process and share it.
type Client struct {
	opts       Options
	httpClient *http.Client
	sem        *semaphore
	limiter    *rate.Limiter

	mu      sync.Mutex
	flights map[string]*flight
}

// New returns a Client with opts, zero fields replaced by their defaults.
func New(opts Options) *Client {
	if opts.Parallel < 1 {
		opts.Parallel = DefaultParallel
	}
	if opts.StallTimeout <= 0 {
		opts.StallTimeout = DefaultStallTimeout
	}
	if opts.SmallTimeout <= 0 {
		opts.SmallTimeout = DefaultSmallTimeout
	}
	switch {
	case opts.Retries == 0:
		opts.Retries = DefaultRetries
	case opts.Retries < 0:
		opts.Retries = 0
	}
	if opts.Backoff == nil {
		opts.Backoff = DefaultBackoff
	}
	if opts.UserAgent == "" {
		opts.UserAgent = DefaultUserAgent
	}
	if opts.Transport == nil {
		opts.Transport = NewTransport()
	}
	if opts.FreeSpace == nil {
		opts.FreeSpace = freeSpace
	}
	c := &Client{
		opts: opts,
		// No Timeout: it would kill long downloads. Stalls are detected by
		// the watchdog instead.
		httpClient: &http.Client{Transport: opts.Transport, CheckRedirect: checkRedirect},
		sem:        newSemaphore(opts.Parallel),
		limiter:    rate.NewLimiter(rate.Inf, copyBufferSize),
		flights:    make(map[string]*flight),
	}
	c.SetRateLimit(opts.RateLimit)
	return c
}

// SetParallel changes how many transfers may run at once; n < 1 means 1.
// Running transfers are not interrupted when the limit shrinks.
func (c *Client) SetParallel(n int) {
	c.sem.setLimit(max(n, 1))
}

// SetRateLimit changes the shared cap in bytes per second; 0 or less removes
// it. Running transfers follow the new cap from their next read on.
func (c *Client) SetRateLimit(bps int64) {
	if bps <= 0 {
		c.limiter.SetLimit(rate.Inf)
		return
	}
	c.limiter.SetLimit(rate.Limit(bps))
}

// DefaultBackoff doubles the pause from one second for the first retry up to
// thirty seconds.
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt > 6 {
		return 30 * time.Second
	}
	return min(time.Second<<(attempt-1), 30*time.Second)
}

// NewTransport returns the HTTP transport all of vmimages' requests use:
// proxies from the environment, bounded dial, TLS and response-header waits,
// HTTP/2 when the server offers it, and no transparent compression (it would
// hide Content-Length and break ranges).
func NewTransport() *http.Transport {
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		TLSHandshakeTimeout:   15 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          32,
		MaxIdleConnsPerHost:   8,
		DisableCompression:    true,
		ForceAttemptHTTP2:     true,
	}
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
