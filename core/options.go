package core

import (
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"oras.land/oras-go/v2/registry/remote/credentials"

	"vmimages/core/cache"
	"vmimages/core/config"
)

// Options configure a Manager. The zero value reads nothing and uses the
// defaults; LoadOptions fills it from the settings file and environment.
type Options struct {
	// CacheDir is the cache root; "" means cache.DefaultRoot().
	CacheDir string
	// Config is the user's settings.
	Config config.Config
	// ConfigPath is where Config came from and where SaveConfig writes.
	ConfigPath string
	// Mirrors maps distro ids to base URLs; they win over Config.Mirrors.
	Mirrors map[string]string
	// SoftMirrors are mirrors from the settings file and the environment:
	// an entry naming no distro is reported as a problem, not an error.
	// Mirrors wins over it.
	SoftMirrors map[string]string
	// OverlayDir holds catalog overlays; "" means none.
	OverlayDir string
	// Version is the program's version, sent in the User-Agent.
	Version string
	// Transport replaces the HTTP transport (tests); nil means the default.
	Transport http.RoundTripper
	// QemuImg is the qemu-img path; "" means look it up in PATH.
	QemuImg string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Backoff replaces the pause between transfer retries (tests); nil
	// means the download package's default.
	Backoff func(attempt int) time.Duration
	// GOOS decides the "auto" conversion policy; "" means runtime.GOOS.
	GOOS string
	// SmallTimeout bounds the fetch of one listing, manifest or signature,
	// retries included (tests); 0 means the download package's default.
	SmallTimeout time.Duration
	// Logger receives what happens, for a front's verbose mode: each HTTP
	// request (method, URL, status, bytes, time, attempt) and each decision
	// (which build, which manifest, which key, cache hits). nil logs nothing.
	// The core never prints; it only logs here.
	Logger *slog.Logger
	// Registry overrides the settings' registry ("oci://…"); "none"
	// turns the registry off for this run.
	Registry string
	// RegistryCredentials replaces the user's registry credential files
	// (tests); nil means the Docker and Podman files.
	RegistryCredentials credentials.Store
}

// registryRef is the registry pulls try first, "" for none: the
// override, else the settings' registry unless it is switched off.
func (o Options) registryRef(c config.Config) string {
	switch o.Registry {
	case "":
		if c.RegistryOff {
			return ""
		}
		return c.Registry
	case "none":
		return ""
	}
	return o.Registry
}

// LoadOptions builds Options the way both fronts do: the settings file at
// configPath ("" for the default), then the environment
// (VMIMAGES_CACHE_DIR, VMIMAGES_MIRROR_<DISTRO>), then explicit overrides
// from the command line (cacheDir, mirrors), each winning over the previous.
func LoadOptions(configPath, cacheDir string, mirrors map[string]string) (Options, error) {
	if configPath == "" {
		configPath = config.DefaultPath()
	}
	cfg, err := config.Load(configPath)
	if err != nil {
		return Options{}, err
	}
	// Overlays live in $XDG_CONFIG_HOME/vmimages/catalog.d; a settings
	// file given elsewhere (--config) brings its own catalog.d when it has one.
	overlays := config.OverlayDir()
	if beside := filepath.Join(filepath.Dir(configPath), "catalog.d"); isDir(beside) {
		overlays = beside
	}
	o := Options{Config: cfg, ConfigPath: configPath, OverlayDir: overlays,
		Mirrors: map[string]string{}, SoftMirrors: map[string]string{}}
	o.CacheDir = cfg.CacheDir
	if v := os.Getenv("VMIMAGES_CACHE_DIR"); v != "" {
		o.CacheDir = v
	}
	if cacheDir != "" {
		o.CacheDir = cacheDir
	}
	if o.CacheDir != "" {
		abs, err := filepath.Abs(o.CacheDir)
		if err != nil {
			return Options{}, fmt.Errorf("cache folder %q: %w", o.CacheDir, err)
		}
		o.CacheDir = abs
	}
	for k, v := range cfg.Mirrors {
		o.SoftMirrors[strings.ToLower(k)] = v
	}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if d, ok := strings.CutPrefix(k, "VMIMAGES_MIRROR_"); ok && v != "" {
			// VMIMAGES_MIRROR_CENTOS_STREAM names the distro "centos-stream".
			o.SoftMirrors[strings.ReplaceAll(strings.ToLower(d), "_", "-")] = v
		}
	}
	for k, v := range mirrors {
		o.Mirrors[strings.ToLower(k)] = v
	}
	return o, nil
}

func (o Options) cacheRoot() (string, error) {
	if o.CacheDir != "" {
		return o.CacheDir, nil
	}
	return cache.DefaultRoot()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
