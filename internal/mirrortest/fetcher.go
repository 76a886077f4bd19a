package mirrortest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// ErrStatus marks a response other than 200 OK.
var ErrStatus = errors.New("unexpected HTTP status")

// Fetcher is a plain net/http fetcher for small documents (it satisfies
// catalog.Fetcher): GET, status checked, size capped. It records the cap
// asked for each URL, so tests can check that callers bound what they read.
type Fetcher struct {
	Client *http.Client
	mu     sync.Mutex
	caps   map[string]int64
}

// NewFetcher returns a Fetcher using the server's client.
func (s *Server) NewFetcher() *Fetcher { return &Fetcher{Client: s.Client()} }

// FetchSmall fetches url into memory, failing past limit bytes.
func (f *Fetcher) FetchSmall(ctx context.Context, url string, limit int64) ([]byte, error) {
	b, _, err := f.FetchSmallFinal(ctx, url, limit)
	return b, err
}

// FetchSmallFinal is FetchSmall that also returns the URL the body came
// from after redirects (it satisfies catalog.FinalURLFetcher).
func (f *Fetcher) FetchSmallFinal(ctx context.Context, url string, limit int64) ([]byte, string, error) {
	f.mu.Lock()
	if f.caps == nil {
		f.caps = map[string]int64{}
	}
	f.caps[url] = limit
	f.mu.Unlock()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	c := f.Client
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("%w: %s", ErrStatus, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, "", err
	}
	if int64(len(b)) > limit {
		return nil, "", fmt.Errorf("response larger than %d bytes", limit)
	}
	return b, resp.Request.URL.String(), nil
}

// Caps returns a copy of the limit asked for each URL fetched.
func (f *Fetcher) Caps() map[string]int64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[string]int64, len(f.caps))
	for k, v := range f.caps {
		out[k] = v
	}
	return out
}
