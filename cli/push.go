package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"vmimages/core"
	"vmimages/core/catalog"
	"vmimages/core/registry"
	"vmimages/core/units"
)

// registryCommands are the commands that publish to and log in to OCI
// registries.
func registryCommands() []*command {
	return []*command{
		{name: "push", args: "DISTRO VERSION oci://…", summary: "publish a cached image with the distribution's checksums and signature to an OCI registry, oci://HOST[:PORT]/REPO",
			flags: func(fs *flag.FlagSet, o *cmdOpts) { jsonFlag(fs, o); archFlag(fs, o) }, run: runPush},
		{name: "login", args: "HOST[:PORT]", summary: "check and save credentials for an OCI registry (where docker and podman keep theirs)",
			flags: func(fs *flag.FlagSet, o *cmdOpts) {
				fs.StringVar(&o.username, "username", "", "user `NAME` (asked for when not given)")
				fs.StringVar(&o.username, "u", "", "short for --username")
				fs.BoolVar(&o.passwordStdin, "password-stdin", false, "read the password from standard input")
			}, run: runLogin},
	}
}

type pushDoc struct {
	Repository string   `json:"repository"`
	Digest     string   `json:"digest"`
	Tags       []string `json:"tags"`
	Sent       []string `json:"sent"`
	Skipped    []string `json:"skipped"`
	BytesSent  int64    `json:"bytes_sent"`
}

func runPush(ctx context.Context, r *runner, pos []string) error {
	if err := needArgs("push", pos, 3, "DISTRO VERSION oci://HOST[:PORT]/REPO"); err != nil {
		return err
	}
	if _, err := registry.ParseTarget(pos[2]); err != nil {
		return usagef("push: %v", err)
	}
	m, err := r.manager(ctx)
	if err != nil {
		return err
	}
	ref := catalog.Ref{Distro: pos[0], Version: pos[1], Arch: r.o.arch}
	var last time.Time
	var lastKey string
	res, err := m.Push(ctx, ref, pos[2], func(p core.PushProgress) {
		k := string(p.Phase) + p.Role
		if k == lastKey && time.Since(last) < progressEvery && p.BytesDone < p.BytesTotal {
			return
		}
		lastKey, last = k, time.Now()
		switch {
		case p.Skipped:
			r.infof("%s: already in the registry", p.Role)
		case p.Phase == core.PhaseVerifying:
			r.infof("%s: checking %s / %s", p.Role, units.Bytes(p.BytesDone), units.Bytes(p.BytesTotal))
		default:
			r.infof("%s: uploading %s / %s", p.Role, units.Bytes(p.BytesDone), units.Bytes(p.BytesTotal))
		}
	})
	if err != nil {
		return err
	}
	doc := pushDoc{Repository: res.Repository, Digest: string(res.Digest), Tags: res.Tags,
		Sent: nonNil(res.Sent), Skipped: nonNil(res.Skipped), BytesSent: res.BytesSent}
	if r.o.json {
		return r.printJSON(doc)
	}
	w := r.env.Stdout
	fmt.Fprintf(w, "pushed %s@%s\n", res.Repository, res.Digest)
	fmt.Fprintf(w, "  tags: %s\n", strings.Join(res.Tags, ", "))
	fmt.Fprintf(w, "  sent: %s (%s); already there: %s\n", listOrNone(res.Sent), units.Bytes(res.BytesSent), listOrNone(res.Skipped))
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "nothing"
	}
	return strings.Join(s, ", ")
}

func runLogin(ctx context.Context, r *runner, pos []string) error {
	if err := needArgs("login", pos, 1, "HOST[:PORT]"); err != nil {
		return err
	}
	host := strings.TrimPrefix(pos[0], "oci://")
	if _, err := registry.ParseTarget("oci://" + host); err != nil || strings.Contains(host, "/") {
		return usagef("login: %q is not a registry host (HOST or HOST:PORT)", pos[0])
	}
	stdin := r.env.Stdin
	if stdin == nil {
		stdin = os.Stdin
	}
	in := bufio.NewReader(stdin)
	user := r.o.username
	if user == "" {
		if r.o.passwordStdin {
			return usagef("login: --password-stdin needs --username")
		}
		fmt.Fprint(r.env.Stderr, "Username: ")
		line, err := in.ReadString('\n')
		if err != nil && line == "" {
			return usagef("login: no user name given")
		}
		user = strings.TrimSpace(line)
	}
	var password string
	if !r.o.passwordStdin && isTerminal(stdin) {
		fmt.Fprint(r.env.Stderr, "Password: ")
		b, err := term.ReadPassword(int(stdin.(*os.File).Fd()))
		fmt.Fprintln(r.env.Stderr)
		if err != nil {
			return err
		}
		password = string(b)
	} else {
		b, err := io.ReadAll(io.LimitReader(in, 64<<10))
		if err != nil {
			return err
		}
		password = strings.TrimRight(string(b), "\r\n")
	}
	if user == "" || password == "" {
		return usagef("login: a user name and a password are needed")
	}
	m, err := r.manager(ctx)
	if err != nil {
		return err
	}
	if err := m.Login(ctx, host, user, password); err != nil {
		return err
	}
	fmt.Fprintf(r.env.Stdout, "logged in to %s as %s\n", host, user)
	return nil
}

func isTerminal(rd io.Reader) bool {
	f, ok := rd.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// registryHint says what to do about a registry error, or "".
func registryHint(err error) string {
	var ne *registry.NetError
	switch {
	case errors.Is(err, registry.ErrUnauthorized):
		return "log in first: vmimages login HOST (credentials from docker login and podman login work too)"
	case errors.Is(err, registry.ErrPlainHTTP):
		return "use a registry that speaks https, or list the host under insecure_registries in the settings file"
	case errors.Is(err, core.ErrNoProof):
		return "this image was pulled by an older vmimages that did not keep the distribution's checksum files; remove it (vmimages rm) and pull it again"
	case errors.As(err, &ne):
		return "check that the registry is running and the address is right"
	case errors.Is(err, registry.ErrBadManifest), errors.Is(err, registry.ErrBlobDigest):
		return "the registry served something that does not prove out; nothing was cached — tell whoever runs the registry"
	}
	return ""
}
