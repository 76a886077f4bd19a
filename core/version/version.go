package version

import "strings"

// Compare orders version-like strings the way people read them: runs of
// digits compare as numbers, other runs as text, so "10.2" > "9.8",
// "20260720.10" > "20260720.9" and "3.23.4-r1" > "3.23.4-r0". Where a number
// meets text, the number sorts first at the start of the string (numbered
// releases before named ones: "12" < "sid") and last after it (a release
// after its candidates: "1.rc" < "1.0"). A string that is a prefix of another
// sorts first ("41" < "41-beta"). It returns -1, 0 or +1.
func Compare(a, b string) int {
	for first := true; a != "" && b != ""; first = false {
		ra, resta := nextRun(a)
		rb, restb := nextRun(b)
		c := compareRun(ra, rb)
		if first && isDigit(ra[0]) != isDigit(rb[0]) {
			c = -c
		}
		if c != 0 {
			return c
		}
		a, b = resta, restb
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	default:
		return 1
	}
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// nextRun splits off the leading run of digits or of letters, or a single
// other byte, so that separators never merge with text: "1.rc" is "1", ".",
// "rc".
func nextRun(s string) (run, rest string) {
	c := runClass(s[0])
	i := 1
	for c != otherRun && i < len(s) && runClass(s[i]) == c {
		i++
	}
	return s[:i], s[i:]
}

const (
	digitRun = iota
	letterRun
	otherRun
)

func runClass(c byte) int {
	switch {
	case isDigit(c):
		return digitRun
	case 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		return letterRun
	}
	return otherRun
}

func compareRun(a, b string) int {
	da, db := isDigit(a[0]), isDigit(b[0])
	switch {
	case da && db:
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	case da:
		return 1 // a number sorts after text: "1.0" > "1.rc"
	case db:
		return -1
	}
	return strings.Compare(a, b)
}
