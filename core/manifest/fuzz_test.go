package manifest

import (
	"bytes"
	"errors"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds arbitrary bytes to ParseBytes. It must never panic; every
// error must carry a sentinel; and whatever parses must hold only safe names
// and well-formed digests. For clearsigned input, every entry must come from
// the text an OpenPGP verifier would consider signed.
func FuzzParse(f *testing.F) {
	for _, v := range allVectors {
		f.Add(readVector(f, v))
	}
	f.Add([]byte(clearsign("- " + hex64a + "  a.img\n- -----BEGIN PGP SIGNATURE-----\n" + hex64b + "  b.img\n")))
	f.Add([]byte(hex64b + "  evil.img\n" + clearsign(hex64a+"  a.img\n")))
	f.Add([]byte(hex64a + "  ../etc/passwd\n"))
	f.Add([]byte("SHA256 (a\x00b) = " + hex64a + "\n"))
	f.Add([]byte("# x: 5 bytes\nMD5 (x) = " + hex32 + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The regexp oracle is slow; on the big inputs grown from the
		// vectors it would starve the fuzzer (and its minimiser).
		if len(data) <= 512 {
			for _, line := range strings.Split(string(data), "\n") {
				checkSplitters(t, strings.TrimSuffix(line, "\r"))
			}
		}
		m, err := ParseBytes(data)
		if err != nil {
			if m != nil {
				t.Fatalf("manifest returned with error %v", err)
			}
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsafeName) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error without a sentinel: %v", err)
			}
			return
		}
		if len(m.Entries) == 0 {
			t.Fatal("parsed with no entries")
		}
		if !bytes.Equal(m.Raw, data) {
			t.Fatal("Raw differs from the input")
		}
		for _, e := range m.Entries {
			checkEntry(t, e, len(m.Entries))
		}
		for _, n := range m.Names() {
			if n == "" || strings.HasPrefix(n, "./") {
				t.Fatalf("Names() holds %q", n)
			}
			e, err := m.Lookup(n)
			switch {
			case err == nil:
				if strings.TrimPrefix(e.Name, "./") != n || !e.Digest.Strong() {
					t.Fatalf("Lookup(%q) = %+v", n, e)
				}
			case errors.Is(err, ErrWeakDigest), errors.Is(err, ErrMalformed):
			default:
				t.Fatalf("Lookup(%q) of a listed name: %v", n, err)
			}
		}

		ref, found := refClearsigned(data)
		if !m.Clearsigned {
			if found {
				t.Fatal("a verifier finds a clearsigned message that was parsed as plain text")
			}
			if m.Signature != nil {
				t.Fatal("Signature set on a plain manifest")
			}
			return
		}
		if !bytes.HasPrefix(m.Signature, []byte(pgpSigHeader)) || !bytes.HasSuffix(m.Signature, []byte(pgpSigFooter)) {
			t.Fatalf("Signature = %q", m.Signature)
		}
		if !found {
			t.Fatal("parsed as clearsigned, but a verifier finds no message")
		}
		signed := map[Entry]bool{}
		for _, line := range strings.Split(string(ref), "\n") {
			if e, ok, err := parseLine(line); err == nil && ok {
				e.Size = 0
				signed[e] = true
			}
		}
		for _, e := range m.Entries {
			e.Size = 0
			if !signed[e] {
				t.Fatalf("entry %+v is not in the signed text %q", e, ref)
			}
		}
	})
}

// checkEntry restates the package's promises independently of its code.
func checkEntry(t *testing.T, e Entry, n int) {
	t.Helper()
	if e.Name == "" && n != 1 {
		t.Fatalf("bare entry among %d entries", n)
	}
	if e.Name != "" {
		if err := checkName(e.Name); err != nil {
			t.Fatalf("entry name %q: %v", e.Name, err)
		}
		name := strings.TrimPrefix(e.Name, "./")
		if name == "" || name == "." || strings.Contains(name, "..") ||
			strings.ContainsAny(name, "/\\\x00") || !utf8.ValidString(name) {
			t.Fatalf("unsafe entry name %q", e.Name)
		}
		for _, r := range name {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
				t.Fatalf("control character in entry name %q", e.Name)
			}
		}
	}
	want, ok := hexLen[e.Digest.Algorithm]
	if !ok || len(e.Digest.Hex) != want || e.Digest.Hex != strings.ToLower(e.Digest.Hex) || !isHex(e.Digest.Hex) {
		t.Fatalf("bad digest %+v", e.Digest)
	}
	d, err := ParseDigest(e.Digest.String())
	if err != nil || d != e.Digest {
		t.Fatalf("ParseDigest(%q) = %+v, %v", e.Digest.String(), d, err)
	}
	if e.Size < -1 {
		t.Fatalf("size %d", e.Size)
	}
}

// refClearsigned finds a cleartext-signed message the way OpenPGP libraries
// do (a port of the framing in ProtonMail go-crypto's clearsign.Decode, with
// its header and armor checks left out) and returns the signed text with
// dash-escapes removed and trailing blanks trimmed, lines joined by "\n".
func refClearsigned(data []byte) ([]byte, bool) {
	const start = "\n-----BEGIN PGP SIGNED MESSAGE-----"
	rest := data
	if bytes.HasPrefix(data, []byte(start[1:])) {
		rest = rest[len(start)-1:]
	} else if i := bytes.Index(data, []byte(start)); i >= 0 {
		rest = rest[i+len(start):]
	} else {
		return nil, false
	}
	suffix, rest := refLine(rest)
	if len(suffix) != 0 {
		return nil, false
	}
	var line []byte
	for {
		if len(rest) == 0 {
			return nil, false
		}
		if line, rest = refLine(rest); len(strings.TrimSpace(string(line))) == 0 {
			break
		}
	}
	var text []byte
	for {
		start := rest
		line, rest = refLine(rest)
		if len(line) == 0 && len(rest) == 0 {
			return nil, false
		}
		if string(line) == pgpSigHeader {
			rest = start // the armor starts at the header line
			break
		}
		line = bytes.TrimPrefix(line, []byte("- "))
		text = append(text, bytes.TrimRight(line, " \t")...)
		text = append(text, '\n')
	}
	if !bytes.Contains(rest, []byte("\n"+pgpSigFooter)) {
		return nil, false
	}
	return text, true
}

func refLine(data []byte) (line, rest []byte) {
	i := bytes.IndexByte(data, '\n')
	j := 0
	if i < 0 {
		i = len(data)
		j = i
	} else {
		j = i + 1
		if i > 0 && data[i-1] == '\r' {
			i--
		}
	}
	return data[:i], data[j:]
}

// FuzzParseDigest checks that ParseDigest never panics and that whatever it
// accepts is canonical and survives a round trip through String and text
// marshalling.
func FuzzParseDigest(f *testing.F) {
	f.Add("sha256:" + helloSHA256)
	f.Add("SHA512:" + strings.ToUpper(helloSHA512))
	f.Add("md5:" + helloMD5)
	f.Add("sha1:" + helloSHA1)
	f.Add("sha256:" + helloSHA256[:63])
	f.Add("sha256" + helloSHA256)
	f.Add(":")
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDigest(s)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error without ErrMalformed: %v", err)
			}
			if !d.IsZero() {
				t.Fatalf("non-zero digest %+v with error", d)
			}
			return
		}
		if d.IsZero() {
			t.Fatal("zero digest without error")
		}
		want, ok := hexLen[d.Algorithm]
		if !ok || len(d.Hex) != want || d.Hex != strings.ToLower(d.Hex) || !isHex(d.Hex) {
			t.Fatalf("non-canonical digest %+v from %q", d, s)
		}
		if !strings.EqualFold(d.String(), s) {
			t.Fatalf("String() = %q, input %q", d.String(), s)
		}
		again, err := ParseDigest(d.String())
		if err != nil || again != d {
			t.Fatalf("round trip %q: %+v, %v", d.String(), again, err)
		}
		var u Digest
		txt, _ := d.MarshalText()
		if err := u.UnmarshalText(txt); err != nil || u != d {
			t.Fatalf("text round trip: %+v, %v", u, err)
		}
		if d.Strong() != (d.Algorithm == SHA256 || d.Algorithm == SHA512) {
			t.Fatalf("Strong() = %v for %s", d.Strong(), d.Algorithm)
		}
		if d.Matches(nil) {
			t.Fatal("Matches(nil) = true")
		}
	})
}

// The regular expressions the hand-written splitters stand for; the
// splitters must agree with them on every line.
var (
	refBSD  = regexp.MustCompile(`^([A-Za-z0-9-]+) ?\((.*)\) ?= ?([0-9A-Fa-f]+)$`)
	refGNU  = regexp.MustCompile(`^([0-9A-Fa-f]{32,128})(?: \*|  | |\t)(.+)$`)
	refBare = regexp.MustCompile(`^[0-9A-Fa-f]{32,128}$`)
	refSize = regexp.MustCompile(`^#\s*(.+):\s*(\d+)\s+bytes\s*$`)
)

// checkSplitters compares each splitter with its regular expression.
func checkSplitters(t *testing.T, line string) {
	t.Helper()
	tag, name, val, ok := splitBSD(line)
	if sm := refBSD.FindStringSubmatch(line); (sm != nil) != ok || ok && (sm[1] != tag || sm[2] != name || sm[3] != val) {
		t.Errorf("splitBSD(%q) = %q %q %q %v, regexp %q", line, tag, name, val, ok, sm)
	}
	val, name, ok = splitGNU(line)
	if sm := refGNU.FindStringSubmatch(line); (sm != nil) != ok || ok && (sm[1] != val || sm[2] != name) {
		t.Errorf("splitGNU(%q) = %q %q %v, regexp %q", line, val, name, ok, sm)
	}
	n := hexPrefix(line)
	if bare := n == len(line) && n >= minHex && n <= maxHex; bare != refBare.MatchString(line) {
		t.Errorf("bare(%q) = %v, regexp disagrees", line, bare)
	}
	name, digits, ok := splitSizeComment(line)
	if sm := refSize.FindStringSubmatch(line); (sm != nil) != ok || ok && (sm[1] != name || sm[2] != digits) {
		t.Errorf("splitSizeComment(%q) = %q %q %v, regexp %q", line, name, digits, ok, sm)
	}
}

func TestSplittersMatchRegexps(t *testing.T) {
	lines := []string{
		"", "#", "# bytes", "#: 1 bytes", "# : 1 bytes", "#  : 5 bytes", "#\t\t:5 bytes", "# a: 5 bytes",
		"# a :5  bytes \t", "# a:5bytes", "# a: 5 Bytes", "# a: b: 12 bytes", "# a: 1 2 bytes", "#a:012 bytes",
		"# a: 5 bytes x", "# a: -5 bytes", "# x: 99999999999999999999 bytes", "#\x85: 1 bytes", "#\f a\r: 3\f bytes\r",
		"SHA256 (a) = " + hex64a, "SHA256(a)=" + hex64a, "SHA256 (a)= ab", "SHA256 (a) =ab", "SHA256  (a) = ab",
		"SHA256 (a)  = ab", "SHA256 (a) =  ab", "SHA256 () = ab", "SHA256 (a) = ", "SHA256 (a) = xy", "SHA-2 ((a)) = 0",
		"SHA256 (a) = b) = cd", "(a) = b", "SHA256 a) = b", "SHA256 (a = b", "SHA256 (= ab", "S (\x00) = 1", "SHA256 (a) = ab ",
		"SHA256 (ab", "S(=0", "S()=0", "S ()=0", "S ( ) = 0", "S (a)b) = 0",
		hex64a, hex64a + "0", hex32[:31], hex128, hex128 + "a", hex64a + "  a", hex64a + " *a", hex64a + " a",
		hex64a + "\ta", hex64a + "\t\ta", hex64a + " \ta", hex64a + "   a", hex64a + " *", hex64a + "  *", hex64a + "  ",
		hex64a + " ", hex64a + "*a", hex64a + " (x) = ab", hex128 + "f a", hex32[:31] + " a", hex64a + "  a\x00",
		strings.Repeat("f", 128) + "  x", strings.Repeat("f", 129) + "  x", hex64a + "\xff x",
	}
	for _, l := range lines {
		checkSplitters(t, l)
	}
}
