package catalog

import (
	"strconv"
	"strings"
)

// CompareVersions orders version-like strings the way people read them:
// runs of digits compare as numbers, other runs as text, so "10.2" > "9.8",
// "20260720.10" > "20260720.9" and "3.23.4-r1" > "3.23.4-r0". It returns -1, 0
// or +1.
func CompareVersions(a, b string) int {
	for a != "" && b != "" {
		ra, resta := nextRun(a)
		rb, restb := nextRun(b)
		if c := compareRun(ra, rb); c != 0 {
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

// isNumericVersion reports whether v starts with a digit ("24.04", "10"),
// which sets it apart from rolling names such as "tumbleweed".
func isNumericVersion(v string) bool {
	if v == "" || !isDigit(v[0]) {
		return false
	}
	_, err := strconv.Atoi(strings.SplitN(v, ".", 2)[0])
	return err == nil
}
