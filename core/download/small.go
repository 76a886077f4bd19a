package download

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
)

// FetchSmall GETs a small document (a checksum manifest, a signature, a
// directory listing) into memory, with the Client's transport, User-Agent
// and retry policy. It fails with ErrTooLarge when the body exceeds limit
// bytes, with a *StatusError on a non-2xx answer that is not retried, with
// a *RedirectError when the transport policy refuses a hop, and with
// ErrTooSlow when the document has not arrived whole within
// Options.SmallTimeout, retries included (a server trickling bytes never
// stalls, but must not hold a resolve forever). It does not take a transfer
// slot and is not rate limited.
//
// grab is not used here: its in-memory mode (NoStore) has no size cap.
func (c *Client) FetchSmall(ctx context.Context, url string, limit int64) ([]byte, error) {
	b, _, err := c.FetchSmallFinal(ctx, url, limit)
	return b, err
}

// FetchSmallFinal is FetchSmall that also returns the URL the document
// came from after redirects (url itself when there were none).
func (c *Client) FetchSmallFinal(ctx context.Context, url string, limit int64) ([]byte, string, error) {
	if err := checkURL(url); err != nil {
		return nil, "", fmt.Errorf("fetch %q: %w", url, err)
	}
	if err := checkFirst(ctx, url); err != nil {
		return nil, "", fmt.Errorf("fetch %s: %w", url, err)
	}
	// One deadline over every attempt: a server that trickles a byte now
	// and then never stalls, yet must not hold the caller forever.
	dctx, cancel := context.WithTimeoutCause(ctx, c.opts.SmallTimeout,
		fmt.Errorf("%w: %s did not arrive within %s", ErrTooSlow, url, c.opts.SmallTimeout))
	defer cancel()
	failures := 0
	for {
		b, final, err := c.getSmall(dctx, url, limit)
		if err == nil {
			return b, final, nil
		}
		if ctx.Err() != nil {
			return nil, "", fmt.Errorf("fetch %s: %w", url, ctx.Err())
		}
		if dctx.Err() != nil {
			return nil, "", context.Cause(dctx)
		}
		var rt *retryError
		if !errors.As(err, &rt) {
			return nil, "", err
		}
		if failures++; failures > min(c.opts.Retries, maxSmallRetries) {
			return nil, "", fmt.Errorf("%w (gave up after %d attempts)", rt.err, failures)
		}
		if notify, ok := ctx.Value(retryKey{}).(func(error)); ok {
			notify(rt.err)
		}
		if err := sleep(dctx, max(c.opts.Backoff(failures), rt.after)); err != nil {
			if ctx.Err() == nil && dctx.Err() != nil {
				return nil, "", context.Cause(dctx)
			}
			return nil, "", fmt.Errorf("fetch %s: %w", url, err)
		}
	}
}

type retryKey struct{}

// WithRetryNotice returns a context under which FetchSmall calls notice with
// the cause before each retry, so a front can say why a resolve is slow.
func WithRetryNotice(ctx context.Context, notice func(cause error)) context.Context {
	return context.WithValue(ctx, retryKey{}, notice)
}

// maxSmallRetries bounds retries of small documents: someone is usually
// waiting for a resolve, and a dead server should be reported in seconds
// (1+2+4 s with the default backoff), not after half a minute.
const maxSmallRetries = 3

func (c *Client) getSmall(ctx context.Context, url string, limit int64) ([]byte, string, error) {
	actx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	req, err := http.NewRequestWithContext(actx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", fmt.Errorf("fetch %s: %w", url, err)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	var read atomic.Int64
	go watchdog(actx, cancel, c.opts.StallTimeout, read.Load, nil)

	resp, err := c.httpClient.Do(req)
	if err != nil {
		if refused(err) {
			return nil, "", withURL(url, err)
		}
		return nil, "", c.smallErr(actx, url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		se := &StatusError{URL: url, Code: resp.StatusCode}
		if retryableStatus(se.Code) {
			return nil, "", &retryError{err: se, after: retryAfter(resp)}
		}
		return nil, "", se
	}
	if resp.ContentLength > limit {
		return nil, "", fmt.Errorf("fetch %s: %w: %d bytes, at most %d accepted", url, ErrTooLarge, resp.ContentLength, limit)
	}
	b, err := io.ReadAll(&countingReader{r: io.LimitReader(resp.Body, limit+1), n: &read})
	if err != nil {
		return nil, "", c.smallErr(actx, url, err)
	}
	if int64(len(b)) > limit {
		return nil, "", fmt.Errorf("fetch %s: %w: more than %d bytes", url, ErrTooLarge, limit)
	}
	// The URL the body came from: the last hop's, after redirects.
	return b, resp.Request.URL.String(), nil
}

// smallErr turns a transport or read error into a retryable one, naming a
// stall as such.
func (c *Client) smallErr(actx context.Context, url string, err error) error {
	if cause := context.Cause(actx); errors.Is(cause, ErrStalled) {
		err = cause
	}
	if te, ok := tlsFailure(url, err); ok {
		return te
	}
	return &retryError{err: withURL(url, err)}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Size asks the server for a file's size with a HEAD request, through the
// same client, policy and user agent as every other request; -1 when the
// server does not say. It is for showing a size before a download, not for
// deciding anything about the bytes.
func (c *Client) Size(ctx context.Context, url string) (int64, error) {
	if err := checkURL(url); err != nil {
		return -1, fmt.Errorf("size of %q: %w", url, err)
	}
	if err := checkFirst(ctx, url); err != nil {
		return -1, fmt.Errorf("size of %s: %w", url, err)
	}
	dctx, cancel := context.WithTimeout(ctx, c.opts.SmallTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(dctx, http.MethodHead, url, nil)
	if err != nil {
		return -1, fmt.Errorf("size of %s: %w", url, err)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	resp, err := c.httpClient.Do(req)
	if err != nil {
		return -1, withURL(url, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return -1, &StatusError{URL: url, Code: resp.StatusCode}
	}
	return resp.ContentLength, nil
}
