package manifest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSize caps how many bytes of a manifest are ever read. Real manifests are
// a few KiB; anything past this is refused rather than buffered.
const MaxSize = 4 << 20

// Sentinel errors; callers branch on them with errors.Is.
var (
	// ErrMalformed: the text is not a checksum manifest or holds a bad line.
	ErrMalformed = errors.New("malformed checksum manifest")
	// ErrOutsideSignature: a clearsigned manifest carries text outside its
	// signed message, as when a mirror adds lines around it. Such errors
	// match ErrMalformed too; callers treat them as integrity failures.
	ErrOutsideSignature = errors.New("text outside the signed message")
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
//
// When the input holds an OpenPGP cleartext-signed message, entries come only
// from its signed text: any other text before the message or after its
// signature block is refused with ErrMalformed, so that nothing unsigned can
// ride along with a signature that verifies.
func ParseBytes(b []byte) (*Manifest, error) {
	if len(b) > MaxSize {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxSize)
	}
	m := &Manifest{Raw: b}
	text := bytes.TrimPrefix(b, utf8BOM) // a BOM only ever starts plain text
	if t, sig, ok, err := splitClearsigned(b); err != nil {
		return nil, err
	} else if ok {
		text, m.Clearsigned, m.Signature = t, true, sig
	}

	sizes := map[string]int64{}
	for lineNo := 1; len(text) > 0; lineNo++ {
		var raw []byte
		raw, text = getLine(text)
		line := strings.TrimRight(string(raw), " \t")
		if m.Clearsigned && strings.HasPrefix(line, "- ") {
			line = line[2:] // dash-escaped line (RFC 9580 §7.2)
		}
		if line == "" {
			continue
		}
		if name, digits, ok := splitSizeComment(line); ok {
			n, err := strconv.ParseInt(digits, 10, 64)
			if err == nil && checkName(name) == nil {
				sizes[strings.TrimPrefix(name, "./")] = n
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
	if len(m.Entries) == 0 {
		return nil, fmt.Errorf("%w: no checksum lines", ErrMalformed)
	}
	bare := 0
	for i := range m.Entries {
		if m.Entries[i].Name == "" {
			bare++
		} else if n, ok := sizes[strings.TrimPrefix(m.Entries[i].Name, "./")]; ok {
			m.Entries[i].Size = n
		}
	}
	if bare > 0 && len(m.Entries) > 1 {
		return nil, fmt.Errorf("%w: a bare digest mixed with other lines", ErrMalformed)
	}
	return m, nil
}

var utf8BOM = []byte("\uFEFF")

// getLine splits off the first line of data, without its "\n" or "\r\n".
func getLine(data []byte) (line, rest []byte) {
	i := bytes.IndexByte(data, '\n')
	if i < 0 {
		return data, nil
	}
	line, rest = data[:i], data[i+1:]
	if len(line) > 0 && line[len(line)-1] == '\r' {
		line = line[:len(line)-1]
	}
	return line, rest
}

// parseLine turns one line into an entry. ok is false for a line that is not a
// checksum line at all; err is set for a checksum line that is unsafe or bad.
func parseLine(line string) (e Entry, ok bool, err error) {
	// A tag we do not know (SHA384, BLAKE2b, …) is not a BSD line of ours; the
	// line may still be a GNU line whose name merely looks like "(x) = y".
	if tag, name, val, ok := splitBSD(line); ok && bsdAlgorithm(tag) != "" {
		d, err := newDigest(bsdAlgorithm(tag), val)
		if err != nil {
			return Entry{}, false, err
		}
		if err := checkName(name); err != nil {
			return Entry{}, false, err
		}
		return Entry{Name: name, Digest: d, Size: -1}, true, nil
	}
	if val, name, ok := splitGNU(line); ok {
		alg, known := algorithmForHexLen(len(val))
		if !known {
			return Entry{}, false, nil
		}
		d, err := newDigest(alg, val)
		if err != nil {
			return Entry{}, false, err
		}
		if err := checkName(name); err != nil {
			return Entry{}, false, err
		}
		return Entry{Name: name, Digest: d, Size: -1}, true, nil
	}
	if n := hexPrefix(line); n == len(line) && n >= minHex && n <= maxHex {
		alg, known := algorithmForHexLen(n)
		if !known {
			return Entry{}, false, nil
		}
		d, err := newDigest(alg, line)
		if err != nil {
			return Entry{}, false, err
		}
		return Entry{Digest: d, Size: -1}, true, nil
	}
	return Entry{}, false, nil
}

// The line shapes are matched by hand rather than with regexp: each splitter
// runs in one pass over the line. In regexp terms they are
//
//	BSD:  ^([A-Za-z0-9-]+) ?\((.*)\) ?= ?([0-9A-Fa-f]+)$
//	GNU:  ^([0-9A-Fa-f]{32,128})(?: \*|  | |\t)(.+)$
//	bare: ^[0-9A-Fa-f]{32,128}$
//	size: ^#\s*(.+):\s*(\d+)\s+bytes\s*$
//
// and the tests hold them to exactly that.
const (
	minHex = 32  // MD5
	maxHex = 128 // SHA-512
)

// splitBSD splits "TAG (name) = hex"; the spaces around "=" and before "(" are
// optional, and name is everything between the first "(" and the last ")".
func splitBSD(line string) (tag, name, val string, ok bool) {
	i := 0
	for i < len(line) && isTagByte(line[i]) {
		i++
	}
	if i == 0 {
		return "", "", "", false
	}
	tag, rest := line[:i], line[i:]
	rest = strings.TrimPrefix(rest, " ")
	if !strings.HasPrefix(rest, "(") {
		return "", "", "", false
	}
	rest = rest[1:]
	j := len(rest)
	for j > 0 && isHexByte(rest[j-1]) {
		j--
	}
	if j == len(rest) {
		return "", "", "", false
	}
	val, rest = rest[j:], rest[:j]
	rest = strings.TrimSuffix(rest, " ")
	if !strings.HasSuffix(rest, "=") {
		return "", "", "", false
	}
	rest = strings.TrimSuffix(rest[:len(rest)-1], " ")
	if !strings.HasSuffix(rest, ")") {
		return "", "", "", false
	}
	return tag, rest[:len(rest)-1], val, true
}

// splitGNU splits "hex  name", "hex *name", "hex name" or "hex<TAB>name".
func splitGNU(line string) (val, name string, ok bool) {
	n := hexPrefix(line)
	if n < minHex || n > maxHex {
		return "", "", false
	}
	val, rest := line[:n], line[n:]
	switch {
	case len(rest) > 2 && (rest[:2] == " *" || rest[:2] == "  "):
		return val, rest[2:], true
	case len(rest) > 1 && (rest[0] == ' ' || rest[0] == '\t'):
		return val, rest[1:], true
	}
	return "", "", false
}

// splitSizeComment splits "# name: 123 bytes".
func splitSizeComment(line string) (name, digits string, ok bool) {
	const ws = " \t\n\f\r"
	rest, found := strings.CutPrefix(line, "#")
	if !found {
		return "", "", false
	}
	rest, found = strings.CutSuffix(strings.TrimRight(rest, ws), "bytes")
	if !found {
		return "", "", false
	}
	trimmed := strings.TrimRight(rest, ws)
	if len(trimmed) == len(rest) {
		return "", "", false // "\s+" before "bytes"
	}
	j := len(trimmed)
	for j > 0 && '0' <= trimmed[j-1] && trimmed[j-1] <= '9' {
		j--
	}
	if j == len(trimmed) {
		return "", "", false
	}
	digits, rest = trimmed[j:], strings.TrimRight(trimmed[:j], ws)
	rest, found = strings.CutSuffix(rest, ":")
	if !found || rest == "" {
		return "", "", false
	}
	// "\s*(.+)": leading blanks go, but the name keeps at least one byte.
	if name = strings.TrimLeft(rest, ws); name == "" {
		name = rest[len(rest)-1:]
	}
	return name, digits, true
}

// hexPrefix counts the hex digits that start s.
func hexPrefix(s string) int {
	i := 0
	for i < len(s) && isHexByte(s[i]) {
		i++
	}
	return i
}

func isHexByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isTagByte(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-'
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
// Besides separators and "..", it refuses invalid UTF-8 and every rune that
// does not print as itself: C0/C1 controls, DEL, format characters such as
// bidirectional overrides and zero-width spaces, line/paragraph separators and
// spaces other than U+0020.
func checkName(name string) error {
	n := strings.TrimPrefix(name, "./")
	switch {
	case n == "", n == ".", n == "..":
		return fmt.Errorf("%w: %q", ErrUnsafeName, truncate(name))
	case strings.ContainsAny(n, "/\\"):
		return fmt.Errorf("%w: %q contains a path separator", ErrUnsafeName, truncate(name))
	case strings.Contains(n, ".."):
		return fmt.Errorf("%w: %q contains \"..\"", ErrUnsafeName, truncate(name))
	case !utf8.ValidString(n):
		return fmt.Errorf("%w: %q is not valid UTF-8", ErrUnsafeName, truncate(name))
	}
	for _, r := range n {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return fmt.Errorf("%w: %q contains a control or invisible character", ErrUnsafeName, truncate(name))
		}
	}
	return nil
}

// splitClearsigned separates the signed text and the armored signature of a
// cleartext-signed message (RFC 9580 §7). ok is false when b holds no
// "-----BEGIN PGP SIGNED MESSAGE-----" line. It finds the message the way
// OpenPGP implementations do (the header at the start of any line) and refuses
// any non-blank text around the message, which a verifier would skip but a
// plain-text reading would take as entries.
func splitClearsigned(b []byte) (text, sig []byte, ok bool, err error) {
	start := -1
	if bytes.HasPrefix(b, []byte(pgpSignedHeader)) {
		start = 0
	} else if i := bytes.Index(b, []byte("\n"+pgpSignedHeader)); i >= 0 {
		start = i + 1
	}
	if start < 0 {
		if bytes.Contains(b, []byte(pgpSignedHeader)) {
			// Not at the start of a line (after a BOM, say): verifiers do not
			// see a message there, so neither can the text be trusted as plain.
			return nil, nil, false, fmt.Errorf("%w: %w (a misplaced clearsigned header)", ErrMalformed, ErrOutsideSignature)
		}
		return nil, nil, false, nil
	}
	if len(bytes.TrimSpace(b[:start])) != 0 {
		return nil, nil, false, fmt.Errorf("%w: %w (before it)", ErrMalformed, ErrOutsideSignature)
	}
	first, rest := getLine(b[start+len(pgpSignedHeader):])
	if len(first) != 0 {
		return nil, nil, false, fmt.Errorf("%w: bad clearsigned header line", ErrMalformed)
	}
	// Armor headers ("Hash: SHA256") end at the first blank line.
	for {
		if len(rest) == 0 {
			return nil, nil, false, fmt.Errorf("%w: clearsigned text without a body", ErrMalformed)
		}
		var line []byte
		line, rest = getLine(rest)
		if len(bytes.TrimSpace(line)) == 0 {
			break
		}
	}
	// The signed text runs up to the line that is exactly the signature
	// header; a dash-escaped "- -----BEGIN PGP SIGNATURE-----" is text.
	body := rest
	pos := 0
	for {
		if pos >= len(body) {
			return nil, nil, false, fmt.Errorf("%w: clearsigned text without a signature block", ErrMalformed)
		}
		line, next := getLine(body[pos:])
		if string(line) == pgpSigHeader {
			break
		}
		pos = len(body) - len(next)
	}
	armored := body[pos:]
	fi := bytes.Index(armored, []byte("\n"+pgpSigFooter))
	if fi < 0 {
		return nil, nil, false, fmt.Errorf("%w: unterminated signature block", ErrMalformed)
	}
	fi += 1 + len(pgpSigFooter)
	if len(bytes.TrimSpace(armored[fi:])) != 0 {
		return nil, nil, false, fmt.Errorf("%w: %w (after its signature)", ErrMalformed, ErrOutsideSignature)
	}
	return body[:pos], armored[:fi], true, nil
}

// Lookup returns the strongest entry for name, which must equal a listed name
// exactly (a leading "./" on either side is ignored). A bare-hash sidecar
// answers for any name. It returns ErrNotFound when the name is absent,
// ErrWeakDigest when only SHA-1 or MD5 digests are listed for it, and
// ErrMalformed when the manifest lists two different digests of the strongest
// algorithm for it (a file could then never match every line).
func (m *Manifest) Lookup(name string) (Entry, error) {
	name = strings.TrimPrefix(name, "./")
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
	for _, e := range m.Entries {
		if (e.Name == "" || strings.TrimPrefix(e.Name, "./") == name) &&
			e.Digest.Algorithm == best.Digest.Algorithm && e.Digest.Hex != best.Digest.Hex {
			return Entry{}, fmt.Errorf("%w: conflicting %s digests for %q", ErrMalformed, best.Digest.Algorithm, truncate(name))
		}
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
