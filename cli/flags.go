package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes, the command-line contract.
const (
	ExitOK        = 0
	ExitFailure   = 1
	ExitUsage     = 2
	ExitIntegrity = 3
)

// usageError is a mistake in the command line; it exits 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// globals are the flags every command accepts.
type globals struct {
	cacheDir string
	mirrors  mirrorFlag
	config   string
	registry string
	quiet    bool
	verbose  bool
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.cacheDir, "cache-dir", g.cacheDir, "cache folder (default: $VMIMAGES_CACHE_DIR, config, or the XDG cache)")
	fs.Var(&g.mirrors, "mirror", "use `DISTRO=URL` as that distro's base URL (repeatable)")
	fs.StringVar(&g.config, "config", g.config, "settings `FILE` (default: $XDG_CONFIG_HOME/vmimages/config.toml)")
	fs.StringVar(&g.registry, "registry", g.registry, "try the OCI registry `oci://HOST[:PORT]/REPO` before upstream (\"none\": never, whatever the settings say)")
	fs.BoolVar(&g.quiet, "q", g.quiet, "quiet: print results and errors only")
	fs.BoolVar(&g.verbose, "v", g.verbose, "verbose: say more about what happens")
}

// mirrorFlag collects DISTRO=URL pairs.
type mirrorFlag map[string]string

func (m *mirrorFlag) String() string {
	if m == nil {
		return ""
	}
	var parts []string
	for k, v := range *m {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, ",")
}

func (m *mirrorFlag) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" || v == "" {
		return fmt.Errorf("want DISTRO=URL, got %q", s)
	}
	if *m == nil {
		*m = mirrorFlag{}
	}
	(*m)[strings.ToLower(k)] = v
	return nil
}

// parse parses flags that may stand before, between or after positional
// arguments ("resolve ubuntu 24.04 --arch arm64"), returning the positionals.
// "--" ends flag parsing.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagHelp renders a FlagSet's defaults.
func flagHelp(fs *flag.FlagSet) string {
	var b strings.Builder
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	return b.String()
}
