package download

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cavaliergopher/grab/v3"

	"vmimages/core/localfs"
	"vmimages/core/manifest"
)

// progressEvery is the shortest interval between two progress callbacks of
// the same phase.
const progressEvery = 100 * time.Millisecond

// maxRetryAfter is the longest Retry-After the client honours; a longer one
// falls back to the usual backoff.
const maxRetryAfter = 2 * time.Minute

// job is one Fetch's transfer, run on one goroutine (the flight's). Only
// BeforeCopy runs on grab's goroutine; what it touches is either atomic or
// read back after grab's Response is done.
type job struct {
	c          *Client
	req        Request
	part, side string
	emitFn     func(Progress)

	hs        hashState
	size      atomic.Int64 // expected size, -1 when unknown
	validator string       // of the part file's bytes; "" forbids resuming
	// source is the URL the part file's bytes came from, after redirects:
	// the validator is that server's, so a resume asks it and no other.
	// Atomic: progress reads it while BeforeCopy sets it.
	source atomic.Pointer[string]
	// fromZero: the bytes being hashed came in one response from offset 0.
	// A digest mismatch of a file assembled from an earlier part may be the
	// local disk's fault; it earns one clean download before the server is
	// blamed (cleanRetried).
	fromZero     bool
	cleanRetried bool
	resumed      int64 // bytes of an earlier part kept at the start
	// spaceLate: the size was unknown up front, so free space is checked
	// again once the response tells it.
	spaceLate bool

	transferred int64 // body bytes of finished attempts
	attempt     int
	lastErr     error

	lastEmit  time.Time
	lastPhase Phase
	rate      float64
	rateAt    time.Time
	rateBytes int64
}

func newJob(c *Client, req Request, emit func(Progress)) *job {
	j := &job{c: c, req: req, emitFn: emit, lastPhase: -1}
	j.part, j.side = req.Part, req.Part+".json"
	j.size.Store(req.Size)
	return j
}

func (j *job) run(ctx context.Context) (Result, error) {
	h, err := j.req.Digest.NewHash()
	if err != nil {
		return Result{}, fmt.Errorf("download %s: %w", j.req.URL, err)
	}
	j.hs.h = h

	if res, ok, err := j.cached(ctx); err != nil || ok {
		return res, err
	}
	if err := os.MkdirAll(filepath.Dir(j.part), 0o755); err != nil {
		return Result{}, fmt.Errorf("download %s: %w", j.req.URL, err)
	}
	if err := j.loadPart(); err != nil {
		return Result{}, err
	}
	toCome := int64(0)
	if size := j.size.Load(); size >= 0 {
		toCome = size - j.resumed
	} else {
		j.spaceLate = true
	}
	if err := j.checkSpace(toCome); err != nil {
		return Result{}, err
	}

	failures, restarts := 0, 0
	for {
		j.attempt++
		res, err := j.try(ctx)
		if err == nil {
			return res, nil
		}
		if ctx.Err() != nil {
			return Result{}, fmt.Errorf("download %s: %w", j.req.URL, ctx.Err())
		}
		var rs *restartError
		var rt *retryError
		switch {
		case errors.As(err, &rs):
			// Bounded anyway (a restart follows a resumable attempt, and
			// only failures make those), but never loop on a bug.
			if restarts++; restarts > j.c.opts.Retries+2 {
				return Result{}, fmt.Errorf("%w (gave up after %d restarts)", rs.err, restarts)
			}
			j.lastErr = rs.err
			if err := j.dropPart(); err != nil {
				return Result{}, err
			}
		case errors.As(err, &rt):
			j.lastErr = rt.err
			if failures++; failures > j.c.opts.Retries {
				return Result{}, fmt.Errorf("%w (gave up after %d attempts)", rt.err, failures)
			}
			wait := max(j.c.opts.Backoff(failures), rt.after)
			j.emit(Progress{Phase: PhaseRetrying, BytesDone: fileSize(j.part)}, true)
			if err := sleep(ctx, wait); err != nil {
				return Result{}, fmt.Errorf("download %s: %w", j.req.URL, err)
			}
		default:
			if fileSize(j.part) == 0 {
				_ = removePart(j.part, j.side) // nothing worth resuming
			}
			return Result{}, err
		}
	}
}

// cached reports whether Dest already holds the expected bytes.
func (j *job) cached(ctx context.Context) (Result, bool, error) {
	// A link planted at Dest is not taken for the file: its name goes.
	if _, err := localfs.DiscardForeign(j.req.Dest); err != nil {
		return Result{}, false, fmt.Errorf("download %s: %w", j.req.URL, err)
	}
	fi, err := os.Lstat(j.req.Dest)
	if err != nil || !fi.Mode().IsRegular() || (j.req.Size >= 0 && fi.Size() != j.req.Size) {
		return Result{}, false, nil
	}
	h, _ := j.req.Digest.NewHash()
	err = hashFile(ctx, j.req.Dest, h, 0, fi.Size(), func(done int64) {
		j.emit(Progress{Phase: PhaseVerifying, BytesDone: done, BytesTotal: fi.Size()}, false)
	})
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, false, fmt.Errorf("download %s: %w", j.req.URL, ctx.Err())
		}
		return Result{}, false, nil // unreadable: fetch it again and replace it
	}
	if !j.req.Digest.Matches(h.Sum(nil)) {
		return Result{}, false, nil
	}
	return Result{Status: StatusCached, Path: j.req.Dest, Size: fi.Size()}, true, nil
}

// loadPart keeps an earlier part file only if its sidecar proves it holds the
// start of this very file and names a validator to guard the resume with,
// and it is a file of our own (see discardForeign).
func (j *job) loadPart() error {
	if err := j.discardForeign(); err != nil {
		return err
	}
	partSize := fileSize(j.part)
	sc, ok := readSidecar(j.side)
	keep := partSize > 0 && ok && sc.URL == j.req.URL && sc.Digest == j.req.Digest &&
		sc.Validator != "" && (j.req.Size < 0 || sc.Size < 0 || sc.Size == j.req.Size) &&
		j.sourceOK(sc.Source)
	size := j.req.Size
	if keep && size < 0 {
		size = sc.Size
	}
	if keep && size >= 0 && partSize > size {
		keep = false
	}
	if !keep {
		_ = removePart(j.part, j.side) // best effort; try removes it again
		j.size.Store(j.req.Size)
		return nil
	}
	j.size.Store(size)
	j.validator = sc.Validator
	j.setSource(sc.Source)
	j.resumed = partSize
	return nil
}

// discardForeign unlinks the part file's name, and its sidecar, when it is
// not a file of our own: a symbolic or hard link (planted to make the
// transfer append to a file elsewhere), something not a regular file, or a
// file of another user. What the name pointed to is left untouched, and the
// transfer starts from zero in a new file.
func (j *job) discardForeign() error {
	discarded, err := localfs.DiscardForeign(j.part)
	if err != nil {
		return fmt.Errorf("download %s: %w", j.req.URL, err)
	}
	if discarded {
		j.validator = ""
		j.setSource("")
		j.resumed = 0
		if err := removeIfExists(j.side); err != nil {
			return fmt.Errorf("download %s: %w", j.req.URL, err)
		}
	}
	return nil
}

// partIsOwn reports whether the part file is missing or a file of our own
// (localfs.OwnFile), so that grab may write into it.
func (j *job) partIsOwn() bool {
	fi, err := os.Lstat(j.part)
	return errors.Is(err, fs.ErrNotExist) || (err == nil && localfs.OwnFile(fi))
}

func (j *job) setSource(u string) { j.source.Store(&u) }

func (j *job) getSource() string {
	if p := j.source.Load(); p != nil {
		return *p
	}
	return ""
}

// sourceOK reports whether a part's recorded source may be asked to resume
// it: an http(s) URL, and no https → http downgrade unless the request
// allows one.
func (j *job) sourceOK(src string) bool {
	if src == "" {
		return true // recorded before sources were: resume from the URL
	}
	u, err := url.Parse(src)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return false
	}
	return u.Scheme == "https" || j.req.AllowDowngrade || !strings.HasPrefix(j.req.URL, "https:")
}

func (j *job) dropPart() error {
	j.validator = ""
	j.setSource("")
	j.resumed = 0
	if err := removePart(j.part, j.side); err != nil {
		return fmt.Errorf("download %s: %w", j.req.URL, err)
	}
	return nil
}

// checkSpace fails when Dest's file system lacks toCome + ExtraSpace bytes.
func (j *job) checkSpace(toCome int64) error {
	need := max(toCome, 0) + j.req.ExtraSpace
	if need <= 0 {
		return nil
	}
	dir := filepath.Dir(j.req.Dest)
	free, err := j.c.opts.FreeSpace(dir)
	if err != nil {
		return fmt.Errorf("download %s: free space in %s: %w", j.req.URL, dir, err)
	}
	if free >= 0 && free < need {
		return &SpaceError{URL: j.req.URL, Dir: dir, Need: need, Free: free}
	}
	return nil
}

// try runs one attempt. Its error is a *restartError or a *retryError when
// another attempt may help, anything else when not.
func (j *job) try(ctx context.Context) (Result, error) {
	if err := j.discardForeign(); err != nil {
		return Result{}, err
	}
	partSize := fileSize(j.part)
	size := j.size.Load()
	resume := partSize > 0 && j.validator != "" && (size < 0 || partSize <= size)
	if partSize > 0 && !resume {
		if err := j.dropPart(); err != nil {
			return Result{}, err
		}
		partSize = 0
	}
	if resume {
		if err := j.hashPart(ctx, partSize); err != nil {
			return Result{}, err
		}
		j.fromZero = false
		if partSize == size {
			// Complete on disk (a run that ended before the rename); grab
			// would do nothing here either.
			return j.finish(ctx)
		}
	} else {
		j.hs.reset()
		j.fromZero = true
	}

	j.emit(Progress{Phase: PhaseWaiting, BytesDone: partSize}, true)
	if err := j.c.sem.acquire(ctx); err != nil {
		return Result{}, fmt.Errorf("download %s: %w", j.req.URL, err)
	}
	resp, read, err := j.transfer(ctx, resume, partSize)
	j.c.sem.release()
	j.transferred += read
	if err != nil {
		return Result{}, err
	}
	if err := resp.Err(); err != nil {
		return Result{}, j.classify(ctx, resp, err, resume)
	}
	return j.finish(ctx)
}

// transfer drives grab for one attempt and returns once grab is done and
// every byte it read is hashed.
func (j *job) transfer(ctx context.Context, resume bool, partSize int64) (*grab.Response, int64, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// A resume asks the server the part's bytes came from: its validator
	// means nothing to another mirror behind the same redirector.
	from := j.req.URL
	if resume && j.getSource() != "" {
		from = j.getSource()
	}
	if err := checkFirst(ctx, from); err != nil {
		if from != j.req.URL {
			// The policy changed since the part was made: start over
			// from the URL asked for, which the policy judges again.
			return nil, 0, &restartError{fmt.Errorf("%s: %w", from, err)}
		}
		return nil, 0, fmt.Errorf("download %s: %w", from, err)
	}
	if j.req.AllowDowngrade {
		actx = context.WithValue(actx, downgradeKey{}, true)
	}
	greq, err := grab.NewRequest(j.part, from)
	if err != nil {
		return nil, 0, fmt.Errorf("download %s: %w", j.req.URL, err)
	}
	// A new grab.Request every attempt: WithContext shares the header map,
	// so a reused request would leak the last attempt's Range.
	greq = greq.WithContext(actx)
	greq.HTTPRequest.Header.Set("Accept-Encoding", "identity")
	greq.NoCreateDirectories = true
	greq.IgnoreRemoteTime = true
	if size := j.size.Load(); size > 0 {
		greq.Size = size
	}
	if resume {
		greq.HTTPRequest.Header.Set("If-Range", j.validator)
	} else {
		greq.NoResume = true
	}

	var read atomic.Int64    // body bytes received in this attempt
	var base atomic.Int64    // bytes of the part the body is appended to
	var limiting atomic.Bool // the rate limiter, not the server, holds us
	base.Store(partSize)
	greq.RateLimiter = &attemptLimiter{lim: j.c.limiter, waiting: &limiting}
	greq.BeforeCopy = func(r *grab.Response) error { return j.beforeCopy(r, resume, partSize, &base) }

	pipe := newHashPipe(actx, &j.hs)
	gc := &grab.Client{
		HTTPClient: &teeClient{inner: j.c.httpClient, pipe: pipe, read: &read},
		UserAgent:  j.c.opts.UserAgent,
		BufferSize: copyBufferSize,
	}
	go watchdog(actx, cancel, j.c.opts.StallTimeout, read.Load, limiting.Load)

	done := make(chan *grab.Response, 1)
	go func() {
		r := gc.Do(greq)
		<-r.Done
		done <- r
	}()
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case r := <-done:
			pipe.finish()
			if err := r.Err(); err != nil && ctx.Err() == nil {
				// Name the stall rather than grab's "context canceled".
				if cause := context.Cause(actx); errors.Is(cause, ErrStalled) {
					return nil, read.Load(), &retryError{err: fmt.Errorf("%s: %w", j.req.URL, cause)}
				}
			}
			return r, read.Load(), nil
		case now := <-tick.C:
			j.emitTransfer(now, base.Load()+read.Load(), j.transferred+read.Load())
		}
	}
}

// beforeCopy is grab's BeforeCopy hook: the resume guard. It runs after the
// response headers arrived and before grab writes (or truncates) anything.
func (j *job) beforeCopy(r *grab.Response, resume bool, partSize int64, base *atomic.Int64) error {
	hr := r.HTTPResponse
	// grab opened the part by its name: if a link replaced it since try
	// checked it, write nothing and start again from zero.
	if !j.partIsOwn() {
		return restart("%s: %s was replaced by a link or another file", j.req.URL, j.part)
	}
	if r.DidResume {
		if !resume {
			return restart("%s: unexpected resume", j.req.URL)
		}
		if hr.StatusCode != http.StatusPartialContent {
			return restart("%s: server answered %d to a range request", j.req.URL, hr.StatusCode)
		}
		cr := hr.Header.Get("Content-Range")
		first, last, total, ok := parseContentRange(cr)
		switch {
		case !ok:
			return restart("%s: bad Content-Range %q", j.req.URL, cr)
		case first != partSize || r.BytesComplete() != partSize || j.hs.n != partSize:
			return restart("%s: range starts at %d, the part file holds %d bytes", j.req.URL, first, partSize)
		case total >= 0 && last != total-1:
			return restart("%s: range %q stops before the end", j.req.URL, cr)
		case total >= 0 && j.size.Load() >= 0 && total != j.size.Load():
			return restart("%s: remote size changed to %d bytes", j.req.URL, total)
		case hr.ContentLength >= 0 && hr.ContentLength != last-first+1:
			return restart("%s: Content-Length %d disagrees with Content-Range %q", j.req.URL, hr.ContentLength, cr)
		}
		if v := validatorOf(hr.Header); v != "" && v != j.validator {
			return restart("%s: validator changed from %s to %s", j.req.URL, j.validator, v)
		}
		if got := finalURL(hr); j.getSource() != "" && got != j.getSource() {
			return restart("%s: the rest came from %s, not from %s whose validator the part holds", j.req.URL, got, j.getSource())
		}
		return nil
	}

	if hr.StatusCode == http.StatusPartialContent {
		return &retryError{err: fmt.Errorf("%s: partial content to a request for the whole file", j.req.URL)}
	}
	// From zero. Empty the part before the sidecar names a new validator, so
	// that no crash can leave old bytes under a new validator.
	base.Store(0)
	if partSize > 0 {
		if err := os.Truncate(j.part, 0); err != nil {
			return err
		}
	}
	j.hs.reset()
	size := j.req.Size
	if size < 0 {
		size = r.Size() // Content-Length, or -1
	}
	j.size.Store(size)
	j.validator = validatorOf(hr.Header)
	j.setSource(finalURL(hr))
	if err := writeSidecar(j.side, sidecar{URL: j.req.URL, Source: j.getSource(), Validator: j.validator, Size: size, Digest: j.req.Digest}); err != nil {
		return err
	}
	if j.spaceLate && size >= 0 {
		return j.checkSpace(size)
	}
	return nil
}

// classify sorts a failed attempt into retry, restart or give up.
func (j *job) classify(ctx context.Context, resp *grab.Response, err error, resume bool) error {
	if ctx.Err() != nil {
		return fmt.Errorf("download %s: %w", j.req.URL, ctx.Err())
	}
	var rt *retryError
	var rs *restartError
	var sp *SpaceError
	if errors.As(err, &rt) || errors.As(err, &rs) || errors.As(err, &sp) {
		return err
	}
	if refused(err) {
		return fmt.Errorf("download %s: %w", j.req.URL, err) // the policy will not change
	}
	var code grab.StatusCodeError
	if errors.As(err, &code) {
		se := &StatusError{URL: j.req.URL, Code: int(code)}
		switch {
		case resume && se.Code == http.StatusRequestedRangeNotSatisfiable:
			return &restartError{se}
		case resume && j.getSource() != "" && j.getSource() != j.req.URL && !retryableStatus(se.Code):
			// The mirror the part came from lost the file: start again
			// from the URL asked for.
			return &restartError{&StatusError{URL: j.getSource(), Code: se.Code}}
		case retryableStatus(se.Code):
			return &retryError{err: se, after: retryAfter(resp.HTTPResponse)}
		}
		return se
	}
	if errors.Is(err, grab.ErrBadLength) {
		if resume {
			// Remote size differs from what the part was started with, or a
			// whole body came back to a range request.
			return &restartError{fmt.Errorf("%s: %w", j.req.URL, err)}
		}
		size := j.size.Load()
		if hr := resp.HTTPResponse; hr != nil && hr.ContentLength >= 0 && hr.ContentLength != size {
			return fmt.Errorf("download %s: %w: server sends %d bytes, expected %d", j.req.URL, ErrSizeMismatch, hr.ContentLength, size)
		}
		if n := fileSize(j.part); n < size {
			return &retryError{err: fmt.Errorf("%s: body ended after %d of %d bytes", j.req.URL, n, size)}
		}
		_ = removePart(j.part, j.side)
		return fmt.Errorf("download %s: %w: server sent more than %d bytes", j.req.URL, ErrSizeMismatch, size)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("download %s: %w", j.req.URL, err) // the local disk: retrying will not help
	}
	if te, ok := tlsFailure(j.req.URL, err); ok {
		return te
	}
	// Connection refused, reset, unexpected EOF, timeouts, HEAD failures.
	return &retryError{err: withURL(j.req.URL, err)}
}

// finish checks the part file against the digest and moves it into place.
func (j *job) finish(ctx context.Context) (Result, error) {
	size := fileSize(j.part)
	j.emit(Progress{Phase: PhaseVerifying, BytesDone: size, BytesTotal: size}, true)
	if j.hs.n != size {
		// Bytes were read that did not reach the file (or the reverse):
		// trust only the file.
		j.hs.reset()
		if err := j.hashPart(ctx, size); err != nil {
			return Result{}, err
		}
	}
	if want := j.size.Load(); want >= 0 && size != want {
		_ = removePart(j.part, j.side)
		return Result{}, fmt.Errorf("download %s: %w: got %d bytes, expected %d", j.req.URL, ErrSizeMismatch, size, want)
	}
	sum := j.hs.h.Sum(nil)
	if !j.req.Digest.Matches(sum) && !j.fromZero && !j.cleanRetried {
		// Part of these bytes were on disk before this attempt: a power
		// loss or a bad disk may have changed them. One clean download
		// decides whether the server is to blame.
		j.cleanRetried = true
		return Result{}, restart("%s: the bytes kept from an earlier attempt do not match; downloading the file again from the start", j.req.URL)
	}
	if !j.req.Digest.Matches(sum) {
		_ = removePart(j.part, j.side)
		return Result{}, &DigestError{
			URL:      j.req.URL,
			File:     j.req.Dest,
			Expected: j.req.Digest,
			Actual:   manifest.Digest{Algorithm: j.req.Digest.Algorithm, Hex: hex.EncodeToString(sum)},
		}
	}
	// Flush before the rename: after a power loss the final name must
	// never hold bytes that are not on the disk.
	if err := syncPath(j.part); err != nil {
		return Result{}, fmt.Errorf("download %s: %w", j.req.URL, err)
	}
	if err := os.Rename(j.part, j.req.Dest); err != nil {
		return Result{}, fmt.Errorf("download %s: %w", j.req.URL, err)
	}
	_ = removeIfExists(j.side)
	return Result{
		Status:      StatusDownloaded,
		Path:        j.req.Dest,
		Size:        size,
		Transferred: j.transferred,
		Validator:   j.validator,
		Resumed:     j.resumed,
		FinalURL:    cmp.Or(j.getSource(), j.req.URL),
	}, nil
}

// hashPart brings the running hash up to the part file's first upto bytes,
// reading from disk only what it has not seen.
func (j *job) hashPart(ctx context.Context, upto int64) error {
	if j.hs.n > upto {
		j.hs.reset()
	}
	if j.hs.n == upto {
		return nil
	}
	total := j.size.Load()
	err := hashFile(ctx, j.part, j.hs.h, j.hs.n, upto, func(done int64) {
		j.emit(Progress{Phase: PhaseVerifying, BytesDone: done, BytesTotal: total}, false)
	})
	if err != nil {
		j.hs.reset()
		if ctx.Err() != nil {
			return fmt.Errorf("download %s: %w", j.req.URL, ctx.Err())
		}
		return fmt.Errorf("download %s: %w", j.req.URL, err)
	}
	j.hs.n = upto
	return nil
}

// hashFile feeds bytes [from, to) of path to h, reporting how far it got.
func hashFile(ctx context.Context, path string, h hash.Hash, from, to int64, progress func(done int64)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	buf := make([]byte, pipeBufferSize)
	r := io.NewSectionReader(f, from, to-from)
	done := from
	for done < to {
		if err := ctx.Err(); err != nil {
			return err
		}
		n, err := io.ReadFull(r, buf[:min(int64(len(buf)), to-done)])
		h.Write(buf[:n])
		done += int64(n)
		if err != nil {
			return err
		}
		progress(done)
	}
	return nil
}

// emitTransfer reports download progress and keeps a smoothed rate.
func (j *job) emitTransfer(now time.Time, done, net int64) {
	if j.rateAt.IsZero() {
		j.rateAt, j.rateBytes = now, net
	} else if dt := now.Sub(j.rateAt).Seconds(); dt > 0 {
		inst := float64(net-j.rateBytes) / dt
		if j.rate == 0 {
			j.rate = inst
		} else {
			j.rate = 0.3*inst + 0.7*j.rate
		}
		j.rateAt, j.rateBytes = now, net
	}
	p := Progress{Phase: PhaseDownloading, BytesDone: done, BytesTotal: j.size.Load(), BytesPerSecond: j.rate}
	if p.BytesTotal >= 0 && j.rate > 0 {
		p.ETA = time.Duration(float64(p.BytesTotal-done) / j.rate * float64(time.Second))
	}
	j.emit(p, false)
}

// emit fills the common fields and calls the callbacks, at most every
// progressEvery per phase unless force is set.
func (j *job) emit(p Progress, force bool) {
	now := time.Now()
	if !force && p.Phase == j.lastPhase && now.Sub(j.lastEmit) < progressEvery*9/10 {
		return
	}
	j.lastEmit, j.lastPhase = now, p.Phase
	p.URL = j.req.URL
	p.FinalURL = j.getSource()
	p.Attempt = max(j.attempt, 1)
	p.Resumed = j.resumed
	p.Err = j.lastErr
	if p.BytesTotal == 0 && p.Phase != PhaseVerifying {
		p.BytesTotal = j.size.Load()
	}
	j.emitFn(p)
}

// retryAfter reads a small Retry-After given in seconds.
func retryAfter(resp *http.Response) time.Duration {
	if resp == nil {
		return 0
	}
	s, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || s <= 0 {
		return 0
	}
	if d := time.Duration(s) * time.Second; d <= maxRetryAfter {
		return d
	}
	return 0
}

// fileSize returns path's size, or 0 when it does not exist.
func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// withURL prefixes err with u, dropping a *url.Error's own copy of it, so
// that a message names the URL once.
func withURL(u string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("%s: %w", u, err)
}

// syncPath flushes a file's data to its disk.
func syncPath(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
