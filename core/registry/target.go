package registry

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
)

// ErrBadTarget: a registry address is not oci://HOST[:PORT][/REPO].
var ErrBadTarget = errors.New("not a registry address")

// Target is a place in a registry: a host and a repository prefix under
// which each distribution has its own repository.
type Target struct {
	// Host is "HOST" or "HOST:PORT".
	Host string
	// Repo is the repository prefix ("team/vmimages"); may be empty.
	Repo string
}

// repoComponent is one path component of a repository name, per the OCI
// distribution specification.
var repoComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$`)

var hostLabel = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$`)

// ParseTarget reads "oci://HOST[:PORT][/REPO]".
func ParseTarget(s string) (Target, error) {
	rest, ok := strings.CutPrefix(s, "oci://")
	if !ok {
		return Target{}, fmt.Errorf("%w: %q does not start with oci://", ErrBadTarget, truncate(s))
	}
	host, repo, _ := strings.Cut(rest, "/")
	repo = strings.TrimSuffix(repo, "/")
	if err := checkHost(host); err != nil {
		return Target{}, fmt.Errorf("%w: %q: %w", ErrBadTarget, truncate(s), err)
	}
	if repo != "" {
		if len(repo) > 200 {
			return Target{}, fmt.Errorf("%w: %q: repository name too long", ErrBadTarget, truncate(s))
		}
		for _, c := range strings.Split(repo, "/") {
			if !repoComponent.MatchString(c) {
				return Target{}, fmt.Errorf("%w: %q: %q is not a repository name (lower-case letters, digits, . _ -; no tag)", ErrBadTarget, truncate(s), truncate(c))
			}
		}
	}
	return Target{Host: strings.ToLower(host), Repo: repo}, nil
}

// checkHost accepts a DNS name, an IPv4 address or a bracketed IPv6
// address, each with an optional port.
func checkHost(h string) error {
	if h == "" {
		return errors.New("no host")
	}
	name, port := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.Index(h, "]")
		if end < 0 {
			return errors.New("unclosed [")
		}
		name, port = h[1:end], strings.TrimPrefix(h[end+1:], ":")
		if h[end+1:] != "" && !strings.HasPrefix(h[end+1:], ":") {
			return errors.New("junk after ]")
		}
		if ip := net.ParseIP(name); ip == nil || ip.To4() != nil {
			return fmt.Errorf("%q is not an IPv6 address", name)
		}
	} else {
		if i := strings.LastIndex(h, ":"); i >= 0 {
			name, port = h[:i], h[i+1:]
			if port == "" {
				return errors.New("empty port")
			}
		}
		if net.ParseIP(name) == nil {
			if len(name) > 253 {
				return errors.New("host name too long")
			}
			for _, l := range strings.Split(name, ".") {
				if !hostLabel.MatchString(l) {
					return fmt.Errorf("%q is not a host name", name)
				}
			}
		}
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || port[0] == '0' {
			return fmt.Errorf("bad port %q", port)
		}
	}
	return nil
}

// String gives the target back in its oci:// form.
func (t Target) String() string {
	if t.Repo == "" {
		return "oci://" + t.Host
	}
	return "oci://" + t.Host + "/" + t.Repo
}

// Repository is the repository of one distribution: REPO/<distro>.
func (t Target) Repository(distro string) string {
	if t.Repo == "" {
		return distro
	}
	return t.Repo + "/" + distro
}

// Reference is "HOST/REPO/<distro>:<tag>".
func (t Target) Reference(distro, tag string) string {
	return t.Host + "/" + t.Repository(distro) + ":" + tag
}

// hostname is the host without its port.
func (t Target) hostname() string {
	h := t.Host
	if strings.HasPrefix(h, "[") {
		return strings.Trim(h[:strings.Index(h, "]")+1], "[]")
	}
	if i := strings.LastIndex(h, ":"); i >= 0 {
		return h[:i]
	}
	return h
}

// IsLoopback reports whether the host is this machine (127.0.0.0/8, ::1 or
// localhost), where plain http is allowed.
func (t Target) IsLoopback() bool {
	h := t.hostname()
	if ip := net.ParseIP(h); ip != nil {
		return ip.IsLoopback()
	}
	return h == "localhost"
}

// Tag is the moving tag of an image, "<version>-<arch>".
func Tag(version, arch string) string { return version + "-" + arch }

// BuildTag is the pinned tag, "<version>-<arch>-<build>".
func BuildTag(version, arch, build string) string { return version + "-" + arch + "-" + build }

var tagRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`)

// ValidTag reports whether s may be an OCI tag.
func ValidTag(s string) bool { return tagRe.MatchString(s) }

func truncate(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
