package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"

	"vmimages/core"
	"vmimages/core/boot"
	"vmimages/core/catalog"
	"vmimages/core/download"
	"vmimages/core/registry"
)

// Env is what a run of the command line talks to. Tests fill it with
// buffers; main passes the process's own.
type Env struct {
	Stdout, Stderr io.Writer
	// Version is printed by --version and sent in the User-Agent.
	Version string
	// Commit is the source revision the binary was built from, "" when
	// unknown (then the build's own VCS stamp is used, if any).
	Commit string
	// GUI says the window is built in (false in a -tags nogui build).
	GUI bool
	// StderrIsTerminal selects the progress bar over plain lines.
	StderrIsTerminal bool
	// Stdin is read by login; nil means os.Stdin.
	Stdin io.Reader
}

// command is one subcommand.
type command struct {
	name    string
	args    string // positional synopsis
	summary string
	flags   func(fs *flag.FlagSet, o *cmdOpts)
	run     func(ctx context.Context, r *runner, pos []string) error
}

// cmdOpts holds every command-specific flag; each command registers the
// ones it takes.
type cmdOpts struct {
	json      bool
	arch      string
	raw       bool
	keep      int
	olderThan string
	maxSize   string
	dryRun    bool
	update    bool
	check     bool
	refresh   bool
	kernel    bool
	size      string

	username      string
	passwordStdin bool
}

// runner carries one invocation's state.
type runner struct {
	env  Env
	g    globals
	o    cmdOpts
	mgr  *core.Manager
	open func(ctx context.Context) (*core.Manager, error)
	// doc is the --json document the command fills as it goes; when the
	// command fails before printing it, Run prints it with its error.
	doc errorDoc
	// printed says a --json document went to stdout.
	printed bool
	// set holds the names of the flags given on the command line.
	set map[string]bool
}

// errorDoc is a --json document that can carry the error that ended its
// command, so that --json always prints its document.
type errorDoc interface {
	setError(msg string)
}

// failedDoc is the document of a command that failed before it had one.
type failedDoc struct {
	Error string `json:"error"`
}

func (d *failedDoc) setError(msg string) { d.Error = msg }

func commands() []*command {
	return append([]*command{
		{name: "catalog", args: "[DISTRO]", summary: "list the distributions, versions and arches that can be pulled",
			flags: func(fs *flag.FlagSet, o *cmdOpts) {
				jsonFlag(fs, o)
				fs.BoolVar(&o.refresh, "refresh", false, "ask the distributions upstream which releases exist now, and remember it")
			}, run: runCatalog},
		{name: "resolve", args: "DISTRO VERSION", summary: "show the exact URLs, digests and sizes of an image upstream",
			flags: func(fs *flag.FlagSet, o *cmdOpts) { jsonFlag(fs, o); archFlag(fs, o) }, run: runResolve},
		{name: "pull", args: "DISTRO VERSION", summary: "download and verify an image into the cache",
			flags: func(fs *flag.FlagSet, o *cmdOpts) {
				jsonFlag(fs, o)
				archFlag(fs, o)
				fs.BoolVar(&o.raw, "raw", false, "also convert the disk to raw (disk.raw) with qemu-img")
				fs.BoolVar(&o.update, "update", false, "fetch a newer upstream build of a cached image (the old one stays until the new one is verified)")
				fs.BoolVar(&o.kernel, "kernel", false, "also provide kernel + initramfs for direct boot: upstream's, or extracted from the disk's /boot (on aarch64 the kernel is an uncompressed Image)")
			}, run: runPull},
		{name: "clone", args: "DISTRO VERSION DEST", summary: "make a writable disk for one VM from a cached image (reflink, qcow2 overlay when DEST ends in .qcow2, or sparse copy); never overwrites DEST",
			flags: func(fs *flag.FlagSet, o *cmdOpts) {
				jsonFlag(fs, o)
				archFlag(fs, o)
				fs.StringVar(&o.size, "size", "", "grow the new disk to `S` (e.g. 20G)")
			}, run: runClone},
		{name: "list", summary: "list cached images with their size and state",
			flags: func(fs *flag.FlagSet, o *cmdOpts) {
				jsonFlag(fs, o)
				fs.BoolVar(&o.check, "check", false, "ask upstream which cached images have a newer build")
			}, run: runList},
		{name: "verify", args: "[DISTRO VERSION]", summary: "re-hash cached images against their recorded digests",
			flags: func(fs *flag.FlagSet, o *cmdOpts) { jsonFlag(fs, o); archFlag(fs, o) }, run: runVerify},
		{name: "rm", args: "DISTRO VERSION", summary: "remove a cached image",
			flags: func(fs *flag.FlagSet, o *cmdOpts) { archFlag(fs, o) }, run: runRemove},
		{name: "prune", summary: "remove cached images by age, count or total size",
			flags: func(fs *flag.FlagSet, o *cmdOpts) {
				jsonFlag(fs, o)
				fs.IntVar(&o.keep, "keep", 0, "keep the `N` most recently pulled images of each distro")
				fs.StringVar(&o.olderThan, "older-than", "", "remove images not used for `D` (e.g. 30d, 2w, 12h)")
				fs.StringVar(&o.maxSize, "max-size", "", "remove least recently used images until the cache is under `S` (e.g. 20G)")
				fs.BoolVar(&o.dryRun, "dry-run", false, "only say what would be removed")
			}, run: runPrune},
		{name: "convert", args: "DISTRO VERSION", summary: "convert a cached disk to raw (disk.raw) with qemu-img",
			flags: func(fs *flag.FlagSet, o *cmdOpts) { archFlag(fs, o) }, run: runConvert},
		{name: "dir", summary: "print the cache folder", run: runDir},
		{name: "version", summary: "print the version, commit, Go version, pinned signing keys and whether the window is built in",
			flags: func(fs *flag.FlagSet, o *cmdOpts) { jsonFlag(fs, o) }, run: runVersion},
		{name: "completion", args: "bash|zsh|fish", summary: "print a shell completion script (see the README for where to put it)", run: runCompletion},
	}, registryCommands()...)
}

// archUsage is --arch's help without the host's arch and closing
// parenthesis, which the man page leaves out: it describes every machine.
const archUsage = "`ARCH`: x86_64/amd64 or aarch64/arm64 (default: this machine's"

func jsonFlag(fs *flag.FlagSet, o *cmdOpts) {
	fs.BoolVar(&o.json, "json", false, "print one JSON document on stdout")
}

func archFlag(fs *flag.FlagSet, o *cmdOpts) {
	fs.StringVar(&o.arch, "arch", "", archUsage+", "+catalog.HostArch()+")")
}

// Run runs the command line and returns the process's exit code.
func Run(ctx context.Context, args []string, env Env) int {
	if env.Stdout == nil {
		env.Stdout = os.Stdout
	}
	if env.Stderr == nil {
		env.Stderr = os.Stderr
	}
	r := &runner{env: env}
	r.open = func(ctx context.Context) (*core.Manager, error) {
		opts, err := core.LoadOptions(r.g.config, r.g.cacheDir, r.g.mirrors)
		if err != nil {
			return nil, err
		}
		opts.Version = env.Version
		opts.Registry = r.g.registry
		if r.g.verbose {
			opts.Logger = slog.New(slog.NewTextHandler(env.Stderr, nil))
		}
		m, err := core.Open(ctx, opts)
		if err == nil && opts.Logger != nil {
			opts.Logger.Info("settings", "config", opts.ConfigPath, "cache", m.CacheDir(), "catalog_overlays", opts.OverlayDir)
		}
		return m, err
	}
	defer func() {
		if r.mgr != nil {
			r.mgr.Close()
		}
	}()
	err := r.dispatch(ctx, args)
	code, msg := r.classify(err)
	if msg != "" {
		fmt.Fprintf(r.env.Stderr, "vmimages: %s\n", msg)
	}
	if err != nil && r.o.json && !r.printed {
		doc := r.doc
		if doc == nil {
			doc = &failedDoc{}
		}
		if msg == "" {
			msg = err.Error()
		}
		doc.setError(msg)
		if perr := r.printJSON(doc); perr != nil {
			fmt.Fprintf(r.env.Stderr, "vmimages: %v\n", perr)
		}
	}
	return code
}

func (r *runner) dispatch(ctx context.Context, args []string) error {
	if len(args) == 1 && args[0] == manCommand {
		r.writeManPage(r.env.Stdout)
		return nil
	}
	if len(args) > 0 && args[0] == completeCommand {
		r.env.Stderr = io.Discard
		r.complete(ctx, args[1:])
		return nil
	}
	// Global flags may come before the command.
	top := flag.NewFlagSet("vmimages", flag.ContinueOnError)
	r.g.register(top)
	showVersion := top.Bool("version", false, "print the version")
	top.SetOutput(io.Discard)
	if err := top.Parse(args); err != nil {
		if err == flag.ErrHelp {
			r.printHelp(r.env.Stdout)
			return nil
		}
		return usagef("%v", err)
	}
	if *showVersion {
		fmt.Fprintf(r.env.Stdout, "vmimages %s\n", r.env.Version)
		return nil
	}
	rest := top.Args()
	if len(rest) == 0 {
		r.printHelp(r.env.Stdout)
		return nil
	}
	name := rest[0]
	if name == "help" {
		if len(rest) > 1 {
			if c := findCommand(rest[1]); c != nil {
				r.printCommandHelp(r.env.Stdout, c)
				return nil
			}
			return usagef("unknown command %q; commands: %s", rest[1], strings.Join(commandNames(), ", "))
		}
		r.printHelp(r.env.Stdout)
		return nil
	}
	c := findCommand(name)
	if c == nil {
		return usagef("unknown command %q; commands: %s (see 'vmimages help')", name, strings.Join(commandNames(), ", "))
	}
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	r.g.register(fs)
	if c.flags != nil {
		c.flags(fs, &r.o)
	}
	pos, err := parse(fs, rest[1:])
	if err == flag.ErrHelp {
		r.printCommandHelp(r.env.Stdout, c)
		return nil
	}
	if err != nil {
		// Parsing stopped at the mistake: a --json after it still asks
		// for a document.
		if fs.Lookup("json") != nil && (slices.Contains(rest, "--json") || slices.Contains(rest, "-json")) {
			r.o.json = true
		}
		return usagef("%s: %v (see 'vmimages help %s')", c.name, err, c.name)
	}
	r.set = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { r.set[f.Name] = true })
	return c.run(ctx, r, pos)
}

func findCommand(name string) *command {
	for _, c := range commands() {
		if c.name == name {
			return c
		}
	}
	return nil
}

func commandNames() []string {
	var out []string
	for _, c := range commands() {
		out = append(out, c.name)
	}
	return out
}

func (r *runner) printHelp(w io.Writer) {
	fmt.Fprintf(w, `vmimages %s — %s.

Usage:
  vmimages                      open the window
  vmimages COMMAND [ARGS] [FLAGS]

Commands:
`, r.env.Version, tagline)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-28s %s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintf(w, "  %-28s %s\n\nGlobal flags (any command):\n  %s\n", "help [COMMAND]", "show help for a command", globalSynopsis)
	fmt.Fprintln(w, "\nEnvironment:")
	for _, e := range environmentHelp {
		fmt.Fprintf(w, "  %-34s %s\n", e[0], e[1])
	}
	fmt.Fprint(w, "\nExit codes:")
	for i, e := range exitCodes {
		sep := ","
		if i == 0 {
			sep = ""
		}
		fmt.Fprintf(w, "%s %s %s", sep, e[0], e[1])
	}
	fmt.Fprintln(w, ".\n\nExamples:")
	for _, e := range examples {
		fmt.Fprintf(w, "  %s\n", e)
	}
}

// The help texts shared by `vmimages help` and the man page.
const (
	tagline        = "official VM cloud images, verified, on disk"
	globalSynopsis = "--cache-dir DIR   --mirror DISTRO=URL (repeatable)   --registry oci://HOST/REPO   --config FILE   -q   -v"
)

var environmentHelp = [][2]string{
	{"VMIMAGES_CACHE_DIR", "the cache folder (--cache-dir wins)"},
	{"VMIMAGES_MIRROR_<DISTRO>", "a distro's base URL (--mirror wins)"},
	{"XDG_CACHE_HOME, XDG_CONFIG_HOME", "where the cache and the settings live by default"},
	{"HTTPS_PROXY, HTTP_PROXY, NO_PROXY", "the proxy for requests, and hosts that bypass it"},
	{"SSL_CERT_FILE, SSL_CERT_DIR", "certificate authorities to trust instead of the system's"},
}

var exitCodes = [][2]string{
	{"0", "ok"}, {"1", "failure"}, {"2", "usage"}, {"3", "integrity (digest or signature mismatch)"},
}

var examples = []string{
	"vmimages catalog",
	"vmimages resolve ubuntu 24.04 --arch arm64",
	"vmimages pull debian latest",
	"vmimages prune --keep 1 --dry-run",
}

func (r *runner) printCommandHelp(w io.Writer, c *command) {
	fmt.Fprintf(w, "Usage: vmimages %s\n\n%s.\n\nFlags:\n", strings.TrimSpace(c.name+" "+c.args+" [flags]"), capitalize(c.summary))
	fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
	var o cmdOpts
	if c.flags != nil {
		c.flags(fs, &o)
	}
	var g globals
	g.register(fs)
	fmt.Fprint(w, flagHelp(fs))
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// manager opens the core Manager once per invocation.
func (r *runner) manager(ctx context.Context) (*core.Manager, error) {
	if r.mgr != nil {
		return r.mgr, nil
	}
	m, err := r.open(ctx)
	if err != nil {
		return nil, err
	}
	r.mgr = m
	for _, p := range m.CatalogProblems() {
		r.warnf("skipped: %v", p.Err)
	}
	return m, nil
}

// classify maps err to the contract's exit codes and words it as the
// sentence to print after "vmimages: " ("" when it was already said).
func (r *runner) classify(err error) (int, string) {
	if err == nil {
		return ExitOK, ""
	}
	var ue *usageError
	var nf *catalog.NotFoundError
	var se *silentError
	var unsupported *boot.UnsupportedError
	switch {
	case errors.As(err, &unsupported):
		return ExitFailure, fmt.Sprintf("%v; boot this disk with firmware", unsupported)
	case errors.As(err, &se):
		return se.code, ""
	case errors.As(err, &ue):
		return ExitUsage, err.Error()
	case errors.As(err, &nf), errors.Is(err, registry.ErrBadTarget):
		return ExitUsage, err.Error()
	case errors.Is(err, context.Canceled):
		return ExitFailure, "interrupted"
	}
	msg := explain(err)
	if hint := tlsHint(err); hint != "" {
		msg += "\n  → " + hint
	} else if h := registryHint(err); h != "" {
		msg = err.Error() + "\n  → " + h
	}
	if core.IsIntegrity(err) {
		return ExitIntegrity, msg
	}
	return ExitFailure, msg
}

func (r *runner) warnf(format string, a ...any) {
	fmt.Fprintf(r.env.Stderr, "vmimages: warning: "+format+"\n", a...)
}

func (r *runner) infof(format string, a ...any) {
	if !r.g.quiet {
		fmt.Fprintf(r.env.Stderr, format+"\n", a...)
	}
}

func (r *runner) printJSON(v any) error {
	r.printed = true
	enc := json.NewEncoder(r.env.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// needArgs checks the positional count.
func needArgs(cmd string, pos []string, n int, what string) error {
	if len(pos) != n {
		return usagef("%s needs %s (got %d argument(s)); see 'vmimages help %s'", cmd, what, len(pos), cmd)
	}
	return nil
}

// tlsHint says what to do about a certificate the client refused.
func tlsHint(err error) string {
	var te *download.TLSError
	if !errors.As(err, &te) {
		return ""
	}
	switch te.Reason {
	case download.TLSUnknownAuthority:
		return "if the mirror or a proxy on the way uses its own certificate authority, put that authority's certificate (PEM) in a file and name it in SSL_CERT_FILE"
	case download.TLSExpired:
		return "check this machine's clock; if it is right, the server's certificate must be renewed by its operator"
	case download.TLSWrongHost:
		return "check the host name in the mirror URL"
	}
	return ""
}
