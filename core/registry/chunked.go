package registry

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
)

// chunkThreshold: blobs larger than this are pushed in chunks (the OCI
// distribution chunked protocol), so a dropped connection resumes at the
// offset the registry holds instead of starting over.
var chunkThreshold int64 = 8 << 20

// chunkSize is the most one PATCH carries.
var chunkSize int64 = 8 << 20

// chunkRetries bounds how often one push resumes after a failed PATCH.
const chunkRetries = 5

// errChunksRefused: the registry does not take chunked uploads.
var errChunksRefused = errors.New("registry refuses chunked uploads")

// pushChunked uploads l's file in chunks: POST opens an upload session,
// each PATCH carries a Content-Range and its 202 gives the next Location;
// after a failed PATCH the session's Range says where to go on. PUT with
// the digest ends the upload. It returns errChunksRefused when the
// registry turns chunks down before any bytes are taken.
func (c *Client) pushChunked(ctx context.Context, repo *remote.Repository, desc ocispec.Descriptor, l *Layer, progress func(PushProgress)) error {
	ctx = auth.AppendRepositoryScope(ctx, repo.Reference, auth.ActionPull, auth.ActionPush)
	f, err := os.Open(l.Path)
	if err != nil {
		return fmt.Errorf("pushing the %s: %w", l.Role, err)
	}
	defer f.Close()
	scheme := "https"
	if repo.PlainHTTP {
		scheme = "http"
	}
	start, err := url.Parse(fmt.Sprintf("%s://%s/v2/%s/blobs/uploads/", scheme, repo.Reference.Host(), repo.Reference.Repository))
	if err != nil {
		return err
	}
	open := func() (*url.URL, error) {
		resp, err := c.do(ctx, http.MethodPost, start.String(), nil, 0, nil)
		if err != nil {
			return nil, fmt.Errorf("pushing the %s: starting the upload: %w", l.Role, err)
		}
		if resp.StatusCode != http.StatusAccepted {
			return nil, fmt.Errorf("pushing the %s: starting the upload: %s", l.Role, resp.Status)
		}
		return location(start, resp)
	}
	loc, err := open()
	if err != nil {
		return err
	}
	var offset int64
	retries := 0
	for offset < desc.Size {
		n := min(chunkSize, desc.Size-offset)
		body := &ctxReader{ctx: ctx, r: io.NewSectionReader(f, offset, n)}
		h := http.Header{
			"Content-Type":  {"application/octet-stream"},
			"Content-Range": {fmt.Sprintf("%d-%d", offset, offset+n-1)},
		}
		resp, err := c.do(ctx, http.MethodPatch, loc.String(), body, n, h)
		if err == nil && resp.StatusCode == http.StatusAccepted {
			if loc, err = location(loc, resp); err != nil {
				return fmt.Errorf("pushing the %s: %w", l.Role, err)
			}
			offset += n
			if end, ok := rangeEnd(resp.Header.Get("Range")); ok && end > 0 {
				offset = end + 1
			}
			progress(PushProgress{Role: l.Role, BytesDone: offset, BytesTotal: desc.Size})
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err == nil && offset == 0 && retries == 0 && resp.StatusCode >= 400 && resp.StatusCode < 500 &&
			resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			return errChunksRefused
		}
		if retries++; retries > chunkRetries {
			if err == nil {
				err = errors.New(resp.Status)
			}
			return fmt.Errorf("pushing the %s: %w", l.Role, err)
		}
		// Ask the registry how much of the upload it holds, and go on from
		// there. A registry that dropped the session (distribution does when
		// a chunk arrived only in part) gets a new one, from the start.
		st, serr := c.do(ctx, http.MethodGet, loc.String(), nil, 0, nil)
		if serr != nil {
			continue // the same offset again; bounded by retries
		}
		if st.StatusCode != http.StatusNoContent {
			if loc, err = open(); err != nil {
				return err
			}
			offset = 0
			continue
		}
		if nl, err := location(loc, st); err == nil {
			loc = nl
		}
		// "0-0" is also what a registry holding nothing says.
		if end, ok := rangeEnd(st.Header.Get("Range")); ok && end > 0 {
			offset = min(end+1, desc.Size)
		} else {
			offset = 0
		}
	}
	q := loc.Query()
	q.Set("digest", desc.Digest.String())
	done := *loc
	done.RawQuery = q.Encode()
	resp, err := c.do(ctx, http.MethodPut, done.String(), nil, 0, nil)
	if err != nil {
		return fmt.Errorf("pushing the %s: finishing the upload: %w", l.Role, err)
	}
	if resp.StatusCode != http.StatusCreated {
		return fmt.Errorf("pushing the %s: finishing the upload: %s", l.Role, resp.Status)
	}
	ok, err := repo.Exists(ctx, desc)
	if err != nil {
		return fmt.Errorf("pushing the %s: %w", l.Role, err)
	}
	if !ok {
		return fmt.Errorf("pushing the %s: the registry does not show the finished blob", l.Role)
	}
	progress(PushProgress{Role: l.Role, BytesDone: desc.Size, BytesTotal: desc.Size})
	return nil
}

// do sends one request through the authenticated client and drains the
// body (the registry's answers here are all in the status and headers).
func (c *Client) do(ctx context.Context, method, u string, body io.Reader, n int64, h http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	for k, v := range h {
		req.Header[k] = v
	}
	req.ContentLength = n
	if body != nil {
		// Replays (an auth challenge) must not re-read the stream.
		req.GetBody = nil
	}
	resp, err := c.auth.Do(req)
	if err != nil {
		return nil, err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return resp, nil
}

// location is the upload's next URL from a response's Location header.
func location(base *url.URL, resp *http.Response) (*url.URL, error) {
	l := resp.Header.Get("Location")
	if l == "" {
		return nil, errors.New("the registry gave no upload location")
	}
	u, err := base.Parse(l)
	if err != nil {
		return nil, fmt.Errorf("upload location %q: %w", l, err)
	}
	return u, nil
}

// rangeEnd reads the last byte index from a registry's "0-N" Range header.
func rangeEnd(s string) (int64, bool) {
	_, e, ok := strings.Cut(strings.TrimPrefix(strings.TrimSpace(s), "bytes="), "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(e, 10, 64)
	return n, err == nil && n >= 0
}
