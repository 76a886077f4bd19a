package download

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// The transport policy. Every request of a Client — small documents and
// grab's HEAD and GET alike — goes through one http.Client whose
// CheckRedirect judges each hop:
//
//   - a hop from https to plain http is never followed, except for a Fetch
//     whose Request.AllowDowngrade says a signature already proves the digest;
//   - the URL policy a caller put in the context (WithURLPolicy) judges the
//     first URL before anything is sent and every hop after it, so the final
//     URL is judged too;
//   - at most maxRedirects hops.
//
// A refused hop fails the request at once with a *RedirectError; it is never
// retried.

// maxRedirects bounds a redirect chain, as net/http's default does.
const maxRedirects = 10

// ErrDowngrade: a redirect from https to plain http was refused.
var ErrDowngrade = errors.New("redirect from https to plain http refused")

// RedirectError is a redirect hop the transport policy refused. Err is
// ErrDowngrade or the URL policy's error.
type RedirectError struct {
	From, To string
	Err      error
}

// Error implements error.
func (e *RedirectError) Error() string {
	return fmt.Sprintf("%s redirected to %s: %v", e.From, e.To, e.Err)
}

// Unwrap returns the cause.
func (e *RedirectError) Unwrap() error { return e.Err }

// URLPolicy judges one URL a request is about to go to; an error refuses it.
type URLPolicy func(u *url.URL) error

type policyKey struct{}

// WithURLPolicy returns a context under which every request of the Client
// — the first URL and each redirect hop — is judged by policy before it is
// sent.
func WithURLPolicy(ctx context.Context, policy URLPolicy) context.Context {
	return context.WithValue(ctx, policyKey{}, policy)
}

type downgradeKey struct{}

// checkFirst applies the context's URL policy to the first URL of a request.
func checkFirst(ctx context.Context, raw string) error {
	p, _ := ctx.Value(policyKey{}).(URLPolicy)
	if p == nil {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	return p(u)
}

// checkRedirect is the http.Client's CheckRedirect.
func checkRedirect(req *http.Request, via []*http.Request) error {
	prev := via[len(via)-1].URL
	if len(via) >= maxRedirects {
		return &RedirectError{From: prev.Redacted(), To: req.URL.Redacted(), Err: fmt.Errorf("more than %d redirects", maxRedirects)}
	}
	if req.URL.Scheme != "https" && req.Context().Value(downgradeKey{}) == nil {
		for _, v := range via {
			if v.URL.Scheme == "https" {
				return &RedirectError{From: prev.Redacted(), To: req.URL.Redacted(), Err: ErrDowngrade}
			}
		}
	}
	if p, _ := req.Context().Value(policyKey{}).(URLPolicy); p != nil {
		if err := p(req.URL); err != nil {
			return &RedirectError{From: prev.Redacted(), To: req.URL.Redacted(), Err: err}
		}
	}
	return nil
}

// refused reports whether err is a refusal of the transport policy, which
// no retry can change.
func refused(err error) bool {
	var re *RedirectError
	return errors.As(err, &re)
}

// finalURL is the URL a response came from, after redirects.
func finalURL(resp *http.Response) string {
	if resp == nil || resp.Request == nil || resp.Request.URL == nil {
		return ""
	}
	return resp.Request.URL.String()
}
