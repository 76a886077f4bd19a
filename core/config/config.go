// Package config owns the user's settings file, $XDG_CONFIG_HOME/vmimages/
// config.toml, which the command line and the window both read and the
// window writes: cache folder, mirrors, parallel downloads, bandwidth cap,
// raw conversion default and extra signing keys. It also knows where catalog
// overlays live.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/BurntSushi/toml"
	"github.com/adrg/xdg"

	"vmimages/core/localfs"
	"vmimages/core/registry"
	"vmimages/core/units"
)

// Convert policies for raw disk conversion.
const (
	ConvertAuto   = "auto"   // macOS yes, elsewhere no
	ConvertAlways = "always" //
	ConvertNever  = "never"  //
)

// DefaultParallel is the number of transfers run at once by default.
const DefaultParallel = 3

// ErrInvalid: the settings file breaks the schema.
var ErrInvalid = errors.New("invalid settings")

// Config is the settings file. The zero value is usable: every field has a
// default applied by the code that reads it.
type Config struct {
	// CacheDir overrides the cache root.
	CacheDir string `toml:"cache_dir,omitempty"`
	// Parallel is how many transfers run at once (default 3).
	Parallel int `toml:"parallel,omitempty"`
	// Bandwidth caps all transfers together, like "20M" (bytes per second;
	// K, M, G suffixes are powers of 1024). Empty or "0" means no cap.
	Bandwidth string `toml:"bandwidth,omitempty"`
	// Convert is "auto", "always" or "never".
	Convert string `toml:"convert,omitempty"`
	// Mirrors maps a distro id to a base URL that mirrors its layout.
	Mirrors map[string]string `toml:"mirrors,omitempty"`
	// Insecure lists distro ids whose plain-http mirror is accepted even
	// though the distro signs nothing.
	Insecure []string `toml:"allow_insecure,omitempty"`
	// Keys are extra OpenPGP keys for the user's own catalog entries.
	Keys []Key `toml:"keys,omitempty"`
	// Registry is an OCI registry ("oci://HOST[:PORT]/REPO") that pulls
	// try first, falling back to upstream.
	Registry string `toml:"registry,omitempty"`
	// RegistryOff keeps Registry's address but pulls from upstream only
	// (the window's "Try the team registry first", unticked).
	RegistryOff bool `toml:"registry_off,omitempty"`
	// InsecureRegistries are registry hosts ("host" or "host:port") that
	// may be reached over plain http; loopback hosts always may.
	InsecureRegistries []string `toml:"insecure_registries,omitempty"`
}

// Key is an extra signing key, pinned by fingerprint.
type Key struct {
	Distro      string `toml:"distro"`
	Fingerprint string `toml:"fingerprint"`
	// File is an armored public key; relative paths are relative to the
	// settings file's folder.
	File string `toml:"file"`
}

// Dir is the settings folder, $XDG_CONFIG_HOME/vmimages.
func Dir() string { return filepath.Join(xdg.ConfigHome, "vmimages") }

// DefaultPath is the settings file's default location.
func DefaultPath() string { return filepath.Join(Dir(), "config.toml") }

// OverlayDir is where catalog overlays (*.toml) are read from.
func OverlayDir() string { return filepath.Join(Dir(), "catalog.d") }

// Load reads the settings file. A missing file gives the zero Config.
func Load(path string) (Config, error) {
	var c Config
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return c, fmt.Errorf("reading settings: %w", err)
	}
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return Config{}, fmt.Errorf("%w: %s:%d: %s", ErrInvalid, path, pe.Position.Line, pe.Message)
		}
		return Config{}, fmt.Errorf("%w: %s: %w", ErrInvalid, path, err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		return Config{}, fmt.Errorf("%w: %s: unknown setting %q", ErrInvalid, path, und[0].String())
	}
	for i, k := range c.Keys {
		if k.File != "" && !filepath.IsAbs(k.File) {
			c.Keys[i].File = filepath.Join(filepath.Dir(path), k.File)
		}
	}
	return c, c.Validate()
}

// Validate checks values that the TOML types cannot.
func (c Config) Validate() error {
	switch c.Convert {
	case "", ConvertAuto, ConvertAlways, ConvertNever:
	default:
		return fmt.Errorf("%w: convert must be auto, always or never, not %q", ErrInvalid, c.Convert)
	}
	if c.Parallel < 0 || c.Parallel > 32 {
		return fmt.Errorf("%w: parallel must be between 1 and 32", ErrInvalid)
	}
	if _, err := units.ParseSize(c.Bandwidth); err != nil {
		return fmt.Errorf("%w: bandwidth: %w", ErrInvalid, err)
	}
	if c.Registry != "" {
		if _, err := registry.ParseTarget(c.Registry); err != nil {
			return fmt.Errorf("%w: registry: %w", ErrInvalid, err)
		}
	}
	return nil
}

// Save writes the settings atomically and durably (localfs.WriteFile).
func (c Config) Save(path string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	var buf bytes.Buffer
	buf.WriteString("# vmimages settings; the window and the command line share this file.\n")
	if err := toml.NewEncoder(&buf).Encode(c); err != nil {
		return fmt.Errorf("encoding settings: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	if err := localfs.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("saving settings: %w", err)
	}
	return nil
}

// ParallelOrDefault is Parallel, or DefaultParallel when unset.
func (c Config) ParallelOrDefault() int {
	if c.Parallel <= 0 {
		return DefaultParallel
	}
	return c.Parallel
}

// BandwidthBytes is the bandwidth cap in bytes per second, 0 for none.
func (c Config) BandwidthBytes() int64 {
	n, _ := units.ParseSize(c.Bandwidth)
	return n
}
