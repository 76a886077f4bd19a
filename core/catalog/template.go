package catalog

import (
	"fmt"
	"regexp"
)

// varRe matches a template variable. Only lower-case names count, so regular
// expression quantifiers such as \d{8} are left alone.
var varRe = regexp.MustCompile(`\{([a-z_]+)\}`)

// expand fills a path template. An unknown variable is an error: a catalog
// entry must never produce a URL with a literal "{…}" in it.
func expand(t string, vars map[string]string) (string, error) {
	var missing string
	out := varRe.ReplaceAllStringFunc(t, func(m string) string {
		name := m[1 : len(m)-1]
		v, ok := vars[name]
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("template %q uses unknown variable {%s}", t, missing)
	}
	return out, nil
}

// expandRegexp fills a regular expression template, quoting each value. An
// unknown variable stays as its plain name, which only validation relies on.
func expandRegexp(t string, vars map[string]string) string {
	return varRe.ReplaceAllStringFunc(t, func(m string) string {
		name := m[1 : len(m)-1]
		if v, ok := vars[name]; ok {
			return regexp.QuoteMeta(v)
		}
		return name
	})
}
