package catalog

import (
	"path"
	"regexp"
	"strings"
)

// groupRe finds the named groups of a discovery pattern.
var groupRe = regexp.MustCompile(`\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>`)

// NamePatterns returns, per asset role of the release ref names, a pattern
// that the asset's published file name must match: the entry's file
// template with what is known without the network filled in (version,
// codename, arch, major and the entry's own variables) and what discovery
// binds (a build, a point release) standing for any run of characters
// without a slash. It lets a copy of an image from elsewhere (a registry)
// be held to the release it claims to be: a file signed for another
// release of the same distribution does not match.
func (c *Catalog) NamePatterns(ref Ref) (map[string]*regexp.Regexp, error) {
	d, v, arch, err := c.Lookup(ref)
	if err != nil {
		return nil, err
	}
	s := d.spec(v)
	vars := mergeVars(s.Vars, s.ArchVars[arch])
	vars["version"] = v.Version
	vars["codename"] = v.Codename
	vars["arch"] = d.Arches[arch]
	vars["major"] = strings.SplitN(v.Version, ".", 2)[0]
	// What discovery binds is only known upstream, even where a default
	// exists.
	for _, st := range s.Discover {
		for _, g := range groupRe.FindAllStringSubmatch(st.Match, -1) {
			delete(vars, g[1])
		}
	}
	out := map[string]*regexp.Regexp{}
	for _, as := range s.Assets {
		t := path.Base(as.File)
		var b strings.Builder
		b.WriteString("^")
		last := 0
		for _, m := range varRe.FindAllStringSubmatchIndex(t, -1) {
			b.WriteString(regexp.QuoteMeta(t[last:m[0]]))
			if val, ok := vars[t[m[2]:m[3]]]; ok {
				b.WriteString(regexp.QuoteMeta(val))
			} else {
				b.WriteString(`[^/]*`)
			}
			last = m[1]
		}
		b.WriteString(regexp.QuoteMeta(t[last:]))
		b.WriteString("$")
		re, err := regexp.Compile(b.String())
		if err != nil {
			return nil, err
		}
		out[as.Role] = re
	}
	return out, nil
}
