package manifest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// MaxSize caps how many bytes of a manifest are ever read. Real manifests are
// a few KiB; anything past this is refused rather than buffered.
const MaxSize = 4 << 20

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrMalformed: the text is not a checksum manifest or holds a bad line.
	ErrMalformed = errors.New("malformed checksum manifest")
	// ErrTooLarge: the manifest exceeds MaxSize.
	ErrTooLarge = errors.New("checksum manifest too large")
	// ErrNotFound: the manifest lists no entry for the wanted name.
	ErrNotFound = errors.New("no checksum for file")
	// ErrUnsafeName: a listed name could escape a directory or hide characters.
	ErrUnsafeName = errors.New("unsafe file name in manifest")
	// ErrWeakDigest: only SHA-1 or MD5 is available, which never proves a file.
	ErrWeakDigest = errors.New("weak digest algorithm")
)

// Entry is one file's checksum. Name is "" for a bare-hash sidecar. Size is
// the byte count from a "# name: N bytes" comment, or -1 when not given.
type Entry struct {
	Name   string
	Digest Digest
	Size   int64
}

// Manifest is a parsed checksum file.
type Manifest struct {
	// Entries in file order. A name may appear with several algorithms.
	Entries []Entry
	// Clearsigned is true when the text came inside an OpenPGP cleartext
	// signature; Signature then holds the armored signature block.
	Clearsigned bool
	Signature   []byte
	// Raw is the whole input as read, for signature verification.
	Raw []byte
}

var (
	bsdLine  = regexp.MustCompile(`^([A-Za-z0-9-]+) ?\((.*)\) ?= ?([0-9A-Fa-f]+)$`)
	gnuLine  = regexp.MustCompile(`^([0-9A-Fa-f]{32,128})[ \t]{1,2}\*?(.+)$`)
	sizeLine = regexp.MustCompile(`^#\s*(.+):\s*(\d+)\s+bytes\s*$`)
	bareLine = regexp.MustCompile(`^([0-9A-Fa-f]{32,128})$`)
)

const (
	pgpSignedHeader = "-----BEGIN PGP SIGNED MESSAGE-----"
	pgpSigHeader    = "-----BEGIN PGP SIGNATURE-----"
	pgpSigFooter    = "-----END PGP SIGNATURE-----"
)

// Parse reads a manifest of any supported shape from r, at most MaxSize bytes.
func Parse(r io.Reader) (*Manifest, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading checksum manifest: %w", err)
	}
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxSize)
	}
	return ParseBytes(b)
}

// ParseBytes parses a manifest held in memory. Lines that are neither a
// checksum nor a size comment are skipped, as coreutils and BSD tools do; a
// manifest with no usable line at all is ErrMalformed.
func ParseBytes(b []byte) (*Manifest, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxSize)
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return nil, fmt.Errorf("%w: contains a NUL byte", ErrMalformed)
	}
	m := &Manifest{Raw: b}
	text := b
	if t, sig, ok, err := splitClearsigned(b); err != nil {
		return nil, err
	} else if ok {
		text, m.Clearsigned, m.Signature = t, true, sig
	}

	sizes := map[string]int64{}
	sc := bufio.NewScanner(bytes.NewReader(text))
	sc.Buffer(make([]byte, 0, 64*1024), MaxSize)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := strings.TrimRight(sc.Text(), " \t\r")
		if m.Clearsigned && strings.HasPrefix(line, "- ") {
			line = line[2:] // dash-escaped line (RFC 4880 §7.1)
		}
		if line == "" {
			continue
		}
		if sm := sizeLine.FindStringSubmatch(line); sm != nil {
			n, err := strconv.ParseInt(sm[2], 10, 64)
			if err == nil && checkName(sm[1]) == nil {
				sizes[sm[1]] = n
			}
			continue
		}
		if strings.HasPrefix(line, "#") {
			continue
		}
		e, ok, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
		if ok {
			m.Entries = append(m.Entries, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	if len(m.Entries) == 0 {
		return nil, fmt.Errorf("%w: no checksum lines", ErrMalformed)
	}
	bare := 0
	for i := range m.Entries {
		if m.Entries[i].Name == "" {
			bare++
		} else if n, ok := sizes[m.Entries[i].Name]; ok {
			m.Entries[i].Size = n
		}
	}
	if bare > 0 && len(m.Entries) > 1 {
		return nil, fmt.Errorf("%w: a bare digest mixed with other lines", ErrMalformed)
	}
	return m, nil
}

// parseLine turns one line into an entry. ok is false for a line that is not a
// checksum line at all; err is set for a checksum line that is unsafe or bad.
func parseLine(line string) (e Entry, ok bool, err error) {
	if sm := bsdLine.FindStringSubmatch(line); sm != nil {
		alg := bsdAlgorithm(sm[1])
		if alg == "" {
			return Entry{}, false, nil // an algorithm we do not know; skip the line
		}
		d, err := newDigest(alg, sm[3])
		if err != nil {
			return Entry{}, false, err
		}
		if err := checkName(sm[2]); err != nil {
			return Entry{}, false, err
		}
		return Entry{Name: sm[2], Digest: d, Size: -1}, true, nil
	}
	if sm := gnuLine.FindStringSubmatch(line); sm != nil {
		alg, known := algorithmForHexLen(len(sm[1]))
		if !known {
			return Entry{}, false, nil
		}
		d, err := newDigest(alg, sm[1])
		if err != nil {
			return Entry{}, false, err
		}
		name := sm[2]
		if err := checkName(name); err != nil {
			return Entry{}, false, err
		}
		return Entry{Name: name, Digest: d, Size: -1}, true, nil
	}
	if sm := bareLine.FindStringSubmatch(line); sm != nil {
		alg, known := algorithmForHexLen(len(sm[1]))
		if !known {
			return Entry{}, false, nil
		}
		d, err := newDigest(alg, sm[1])
		if err != nil {
			return Entry{}, false, err
		}
		return Entry{Digest: d, Size: -1}, true, nil
	}
	return Entry{}, false, nil
}

// bsdAlgorithm maps a BSD tag ("SHA256", "SHA2-256", "SHA512", "SHA1", "MD5").
func bsdAlgorithm(tag string) Algorithm {
	switch strings.ToUpper(tag) {
	case "SHA256", "SHA2-256":
		return SHA256
	case "SHA512", "SHA2-512":
		return SHA512
	case "SHA1":
		return SHA1
	case "MD5":
		return MD5
	}
	return ""
}

// checkName refuses names that could become a path or hide what they are.
// GNU tools prefix names with "./" at times; that prefix alone is allowed.
func checkName(name string) error {
	n := strings.TrimPrefix(name, "./")
	switch {
	case n == "", n == ".", n == "..":
		return fmt.Errorf("%w: %q", ErrUnsafeName, truncate(name))
	case strings.ContainsAny(n, "/\\"):
		return fmt.Errorf("%w: %q contains a path separator", ErrUnsafeName, truncate(name))
	case strings.Contains(n, ".."):
		return fmt.Errorf("%w: %q contains \"..\"", ErrUnsafeName, truncate(name))
	}
	for _, r := range n {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\uFFFD' {
			return fmt.Errorf("%w: %q contains a control character", ErrUnsafeName, truncate(name))
		}
	}
	return nil
}

// splitClearsigned separates the signed text and the armored signature of a
// cleartext-signed message. ok is false when b is not clearsigned.
func splitClearsigned(b []byte) (text, sig []byte, ok bool, err error) {
	trimmed := bytes.TrimLeft(b, " \t\r\n")
	if !bytes.HasPrefix(trimmed, []byte(pgpSignedHeader)) {
		return nil, nil, false, nil
	}
	rest := trimmed[len(pgpSignedHeader):]
	// Armor headers ("Hash: SHA256") end at the first empty line.
	end := bytes.Index(rest, []byte("\n\n"))
	endCR := bytes.Index(rest, []byte("\n\r\n"))
	switch {
	case end < 0 && endCR < 0:
		return nil, nil, false, fmt.Errorf("%w: clearsigned text without a body", ErrMalformed)
	case end < 0 || (endCR >= 0 && endCR < end):
		rest = rest[endCR+3:]
	default:
		rest = rest[end+2:]
	}
	si := bytes.Index(rest, []byte(pgpSigHeader))
	if si < 0 {
		return nil, nil, false, fmt.Errorf("%w: clearsigned text without a signature block", ErrMalformed)
	}
	fi := bytes.Index(rest[si:], []byte(pgpSigFooter))
	if fi < 0 {
		return nil, nil, false, fmt.Errorf("%w: unterminated signature block", ErrMalformed)
	}
	return rest[:si], rest[si : si+fi+len(pgpSigFooter)], true, nil
}

// Lookup returns the strongest entry for name. A bare-hash sidecar answers for
// any name. It returns ErrNotFound when the name is absent and ErrWeakDigest
// when only SHA-1 or MD5 digests are listed for it.
func (m *Manifest) Lookup(name string) (Entry, error) {
	var best Entry
	found := false
	for _, e := range m.Entries {
		if e.Name != "" && strings.TrimPrefix(e.Name, "./") != name {
			continue
		}
		if !found || e.Digest.Algorithm.rank() > best.Digest.Algorithm.rank() {
			best, found = e, true
		}
	}
	if !found {
		return Entry{}, fmt.Errorf("%w %q", ErrNotFound, truncate(name))
	}
	if !best.Digest.Strong() {
		return Entry{}, fmt.Errorf("%w: only %s is listed for %q", ErrWeakDigest, best.Digest.Algorithm, truncate(name))
	}
	return best, nil
}

// Names lists the distinct names in the manifest, in file order.
func (m *Manifest) Names() []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range m.Entries {
		n := strings.TrimPrefix(e.Name, "./")
		if n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
