package download

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"

	"vmimages/core/manifest"
)

// flight is one transfer to one destination, shared by every Fetch call for
// that destination while it runs.
type flight struct {
	req    Request
	ctx    context.Context
	cancel context.CancelCauseFunc
	done   chan struct{}

	// Guarded by Client.mu.
	refs      int
	abandoned bool // every caller left; the transfer is being stopped

	subMu sync.Mutex // held while callbacks run, so a leaving caller gets no more
	subs  map[int]func(Progress)
	next  int

	res Result
	err error
}

func (f *flight) subscribe(fn func(Progress)) int {
	f.subMu.Lock()
	defer f.subMu.Unlock()
	f.next++
	if fn != nil {
		f.subs[f.next] = fn
	}
	return f.next
}

func (f *flight) unsubscribe(id int) {
	f.subMu.Lock()
	defer f.subMu.Unlock()
	delete(f.subs, id)
}

func (f *flight) emit(p Progress) {
	f.subMu.Lock()
	defer f.subMu.Unlock()
	for _, fn := range f.subs {
		fn(p)
	}
}

// Fetch downloads req.URL to req.Dest and verifies it against req.Digest,
// blocking until done. If Dest already holds the right bytes it returns
// StatusCached without a transfer. A second Fetch of the same Dest while one
// runs waits for it and shares its Result; its progress callback is fed too.
// progress may be nil; it is called from the transfer's goroutine at most
// about ten times a second and must not block.
//
// Cancelling ctx stops the transfer at once, keeps the part file for a later
// resume and returns an error matching ctx.Err().
func (c *Client) Fetch(ctx context.Context, req Request, progress func(Progress)) (Result, error) {
	if err := req.validate(); err != nil {
		return Result{}, err
	}
	if err := checkFirst(ctx, req.URL); err != nil {
		return Result{}, fmt.Errorf("download %s: %w", req.URL, err)
	}
	key, err := filepath.Abs(req.Dest)
	if err != nil {
		return Result{}, fmt.Errorf("download %s: %w", req.URL, err)
	}
	req.Dest = key
	if req.Part, err = filepath.Abs(req.Part); err != nil {
		return Result{}, fmt.Errorf("download %s: %w", req.URL, err)
	}

	var f *flight
	var sub int
	for f == nil {
		c.mu.Lock()
		cur := c.flights[key]
		switch {
		case cur == nil:
			f = &flight{req: req, done: make(chan struct{}), refs: 1, subs: make(map[int]func(Progress))}
			// The transfer outlives the caller that started it as long as
			// another caller still waits for it.
			f.ctx, f.cancel = context.WithCancelCause(context.WithoutCancel(ctx))
			c.flights[key] = f
			sub = f.subscribe(progress)
			c.mu.Unlock()
			go c.runFlight(key, f)
		case cur.abandoned || !cur.req.same(req):
			// Another transfer owns this destination: wait for it to end,
			// then look again (the file may then be cached).
			c.mu.Unlock()
			select {
			case <-cur.done:
			case <-ctx.Done():
				return Result{}, fmt.Errorf("download %s: %w", req.URL, ctx.Err())
			}
		default:
			f = cur
			f.refs++
			sub = f.subscribe(progress)
			c.mu.Unlock()
		}
	}

	select {
	case <-f.done:
		f.unsubscribe(sub)
		return f.res, f.err
	case <-ctx.Done():
	}
	f.unsubscribe(sub)
	c.mu.Lock()
	f.refs--
	last := f.refs == 0
	if last {
		f.abandoned = true
		f.cancel(context.Cause(ctx))
	}
	c.mu.Unlock()
	if last {
		// Wait until nothing writes to the part file any more, so that the
		// caller may hand the directory on (the cache package unlocks it).
		<-f.done
		if f.err == nil {
			return f.res, nil
		}
	}
	return Result{}, fmt.Errorf("download %s: %w", req.URL, ctx.Err())
}

func (c *Client) runFlight(key string, f *flight) {
	j := newJob(c, f.req, f.emit)
	res, err := j.run(f.ctx)
	c.mu.Lock()
	f.res, f.err = res, err
	if c.flights[key] == f {
		delete(c.flights, key)
	}
	c.mu.Unlock()
	f.cancel(nil)
	close(f.done)
}

// validate refuses a request before any byte moves.
func (r Request) validate() error {
	if err := checkURL(r.URL); err != nil {
		return fmt.Errorf("download %q: %w", r.URL, err)
	}
	if r.Dest == "" {
		return fmt.Errorf("download %s: no destination path", r.URL)
	}
	if r.Part == "" || filepath.Clean(r.Part) == filepath.Clean(r.Dest) {
		return fmt.Errorf("download %s: no part file path apart from the destination", r.URL)
	}
	if r.Digest.IsZero() {
		return fmt.Errorf("download %s: %w", r.URL, ErrDigestRequired)
	}
	if !r.Digest.Strong() {
		return fmt.Errorf("download %s: %w: %s is not accepted as proof of an image", r.URL, manifest.ErrWeakDigest, r.Digest.Algorithm)
	}
	if _, err := manifest.ParseDigest(r.Digest.String()); err != nil {
		return fmt.Errorf("download %s: %w", r.URL, err)
	}
	return nil
}

// same reports whether two requests for one destination may share a transfer.
func (r Request) same(o Request) bool {
	return r.URL == o.URL && r.Digest == o.Digest && r.Size == o.Size && r.AllowDowngrade == o.AllowDowngrade
}

// checkURL accepts absolute http and https URLs.
func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("unsupported URL scheme %q", u.Scheme)
	}
	if u.Host == "" {
		return errors.New("no host in URL")
	}
	return nil
}
