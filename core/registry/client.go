package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"oras.land/oras-go/v2/errdef"
	"oras.land/oras-go/v2/registry/remote"
	"oras.land/oras-go/v2/registry/remote/auth"
	"oras.land/oras-go/v2/registry/remote/credentials"
	"oras.land/oras-go/v2/registry/remote/errcode"
)

// Errors callers branch on.
var (
	// ErrNotFound: the registry has no image under that tag.
	ErrNotFound = errors.New("not in the registry")
	// ErrUnauthorized: the registry refused the credentials (or asked for
	// some and none were found).
	ErrUnauthorized = errors.New("registry refused access")
	// ErrPlainHTTP: the registry speaks plain http, which is only used for
	// loopback hosts and hosts listed as insecure.
	ErrPlainHTTP = errors.New("registry speaks plain http")
)

// Options configure a Client. The zero value reads the user's credential
// files and uses http.DefaultTransport.
type Options struct {
	// Transport carries every request; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Insecure lists hosts ("host" or "host:port") allowed to be reached
	// over plain http besides loopback ones.
	Insecure []string
	// Credentials replaces the user's credential store (tests).
	Credentials credentials.Store
	// UserAgent is sent with every request.
	UserAgent string
}

// Client talks to registries on behalf of one user. It is safe for
// concurrent use.
type Client struct {
	opts  Options
	store credentials.Store
	auth  *auth.Client

	mu    sync.Mutex
	plain map[string]bool // host → plain http, decided once
}

// New builds a Client.
func New(o Options) (*Client, error) {
	if o.Transport == nil {
		o.Transport = http.DefaultTransport
	}
	store := o.Credentials
	if store == nil {
		var err error
		if store, err = DefaultStore(); err != nil {
			return nil, err
		}
	}
	h := http.Header{}
	if o.UserAgent != "" {
		h.Set("User-Agent", o.UserAgent)
	}
	c := &Client{opts: o, store: store, plain: map[string]bool{}}
	c.auth = &auth.Client{
		Client:     &http.Client{Transport: o.Transport},
		Header:     h,
		Credential: credentials.Credential(store),
		Cache:      auth.NewCache(),
	}
	return c, nil
}

// DefaultStore reads credentials the way container tools do: the Docker
// configuration ($DOCKER_CONFIG/config.json or ~/.docker/config.json, with
// its credential helpers) first, then Podman's ($REGISTRY_AUTH_FILE, or
// $XDG_RUNTIME_DIR/containers/auth.json). Login saves into the Docker
// configuration (through its credential helper when one is configured).
func DefaultStore() (credentials.Store, error) {
	opts := credentials.StoreOptions{AllowPlaintextPut: true, DetectDefaultNativeStore: true}
	primary, err := credentials.NewStoreFromDocker(opts)
	if err != nil {
		return nil, fmt.Errorf("reading the Docker credentials file: %w", err)
	}
	var fallbacks []credentials.Store
	var podman []string
	if p := os.Getenv("REGISTRY_AUTH_FILE"); p != "" {
		podman = append(podman, p)
	}
	if d := os.Getenv("XDG_RUNTIME_DIR"); d != "" {
		podman = append(podman, filepath.Join(d, "containers", "auth.json"))
	}
	for _, p := range podman {
		s, err := credentials.NewStore(p, credentials.StoreOptions{})
		if err != nil {
			return nil, fmt.Errorf("reading the Podman credentials file %s: %w", p, err)
		}
		fallbacks = append(fallbacks, s)
	}
	return credentials.NewStoreWithFallbacks(primary, fallbacks...), nil
}

// Transport is an http.RoundTripper that authenticates to registries the
// way the Client does (basic or bearer, from the user's credentials), for
// transfers the caller runs itself, such as resumable blob downloads.
func (c *Client) Transport() http.RoundTripper { return authTransport{c.auth} }

type authTransport struct{ c *auth.Client }

// RoundTrip implements http.RoundTripper.
func (t authTransport) RoundTrip(req *http.Request) (*http.Response, error) { return t.c.Do(req) }

// allowedPlain reports whether plain http may be used for the host.
func (c *Client) allowedPlain(t Target) bool {
	if t.IsLoopback() {
		return true
	}
	for _, h := range c.opts.Insecure {
		if strings.EqualFold(h, t.Host) || strings.EqualFold(h, t.hostname()) {
			return true
		}
	}
	return false
}

// plainHTTP decides, once per host, whether to speak plain http: https is
// tried first, and plain http is used only when the host answered a TLS
// hello with http and is allowed to.
func (c *Client) plainHTTP(ctx context.Context, t Target) (bool, error) {
	c.mu.Lock()
	p, ok := c.plain[t.Host]
	c.mu.Unlock()
	if ok {
		return p, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+t.Host+"/v2/", nil)
	if err != nil {
		return false, err
	}
	resp, err := (&http.Client{Transport: c.opts.Transport}).Do(req)
	if err == nil {
		resp.Body.Close()
	}
	var rh tls.RecordHeaderError
	switch {
	case err == nil:
		p = false
	case errors.As(err, &rh) || strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		if !c.allowedPlain(t) {
			return false, fmt.Errorf("%w: %s answers plain http; only loopback hosts and hosts listed in insecure_registries may", ErrPlainHTTP, t.Host)
		}
		p = true
	default:
		return false, &NetError{Host: t.Host, Err: err}
	}
	c.mu.Lock()
	c.plain[t.Host] = p
	c.mu.Unlock()
	return p, nil
}

// NetError: the registry could not be reached at all.
type NetError struct {
	Host string
	Err  error
}

func (e *NetError) Error() string { return fmt.Sprintf("registry %s unreachable: %v", e.Host, e.Err) }

// Unwrap returns the cause.
func (e *NetError) Unwrap() error { return e.Err }

// repository opens REPO/<distro> at the target.
func (c *Client) repository(ctx context.Context, t Target, distro string) (*remote.Repository, error) {
	plain, err := c.plainHTTP(ctx, t)
	if err != nil {
		return nil, err
	}
	repo, err := remote.NewRepository(t.Host + "/" + t.Repository(distro))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadTarget, err)
	}
	repo.PlainHTTP = plain
	repo.Client = c.auth
	return repo, nil
}

// Login checks user and password against the registry and saves them in
// the user's credential store.
func (c *Client) Login(ctx context.Context, host, user, password string) error {
	t, err := ParseTarget("oci://" + host)
	if err != nil {
		return err
	}
	plain, err := c.plainHTTP(ctx, t)
	if err != nil {
		return err
	}
	reg, err := remote.NewRegistry(t.Host)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadTarget, err)
	}
	reg.PlainHTTP = plain
	reg.Client = &auth.Client{Client: c.auth.Client, Header: c.auth.Header}
	if err := credentials.Login(ctx, c.store, reg, auth.Credential{Username: user, Password: password}); err != nil {
		return classify(t.Host, err)
	}
	return nil
}

// classify maps oras and transport errors to this package's.
func classify(host string, err error) error {
	var ec *errcode.ErrorResponse
	var ne *NetError
	var oe *net.OpError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ne):
		return err
	case errors.Is(err, errdef.ErrNotFound):
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.As(err, &ec) && ec.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrNotFound, err)
	case errors.Is(err, auth.ErrBasicCredentialNotFound),
		errors.As(err, &ec) && (ec.StatusCode == http.StatusUnauthorized || ec.StatusCode == http.StatusForbidden):
		return fmt.Errorf("%w: %w", ErrUnauthorized, err)
	case errors.As(err, &oe):
		return &NetError{Host: host, Err: err}
	}
	return err
}
