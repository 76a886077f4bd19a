package cli

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

	"vmimages/core/catalog"
)

// completeCommand is the hidden subcommand the completion scripts call at
// completion time: `vmimages __complete WORD… CURRENT` prints one candidate
// a line ("value<TAB>description"), or a single line ":file" or ":dir" when
// the shell should complete paths itself. It never writes to stderr and
// always exits 0: a completion must not disturb the prompt.
const completeCommand = "__complete"

func runCompletion(ctx context.Context, r *runner, pos []string) error {
	if len(pos) != 1 {
		return usagef("completion needs one shell: bash, zsh or fish; see 'vmimages help completion'")
	}
	script, ok := completionScripts[pos[0]]
	if !ok {
		return usagef("completion: unknown shell %q; want bash, zsh or fish", pos[0])
	}
	_, err := fmt.Fprint(r.env.Stdout, script)
	return err
}

// complete prints the candidates for the last of words.
func (r *runner) complete(ctx context.Context, words []string) {
	if len(words) == 0 {
		words = []string{""}
	}
	for _, c := range r.candidates(ctx, words[:len(words)-1], words[len(words)-1]) {
		if strings.HasPrefix(c, words[len(words)-1]) || strings.HasPrefix(c, ":") {
			fmt.Fprintln(r.env.Stdout, c)
		}
	}
}

// candidates returns every completion of cur after the words before it,
// unfiltered.
func (r *runner) candidates(ctx context.Context, before []string, cur string) []string {
	// Read the words typed so far: the global flags' values (so that the
	// catalog and cache are the ones the command will use), the command and
	// its positionals, and whether cur is a flag's value.
	var cmd *command
	var pos []string
	fs := flag.NewFlagSet("vmimages", flag.ContinueOnError)
	r.g.register(fs)
	fs.Bool("version", false, "print the version")
	for i := 0; i < len(before); i++ {
		w := before[i]
		if w == "--" {
			pos = append(pos, before[i+1:]...)
			break
		}
		if name, ok := flagName(w); ok {
			f := fs.Lookup(name)
			if f == nil || isBoolFlag(f) || strings.Contains(w, "=") {
				if f != nil && strings.Contains(w, "=") {
					_ = f.Value.Set(w[strings.Index(w, "=")+1:])
				}
				continue
			}
			if i+1 < len(before) {
				_ = f.Value.Set(before[i+1])
				i++
				continue
			}
			return r.flagValues(ctx, f.Name, cmd, pos)
		}
		if cmd == nil {
			if cmd = findCommand(w); cmd == nil && w != "help" {
				return nil
			}
			if w == "help" {
				cmd = &command{name: "help"}
			}
			if cmd.flags != nil {
				cmd.flags(fs, &r.o)
			}
			continue
		}
		pos = append(pos, w)
	}
	if name, _, ok := strings.Cut(cur, "="); ok && strings.HasPrefix(cur, "-") {
		// "--arch=a": the flag's values, written whole as the shells
		// compare them with the word typed.
		n, _ := flagName(name)
		f := fs.Lookup(n)
		if f == nil || isBoolFlag(f) {
			return nil
		}
		var out []string
		for _, c := range r.flagValues(ctx, f.Name, cmd, pos) {
			if strings.HasPrefix(c, ":") {
				continue // a file or folder after '=' is left to the shell
			}
			out = append(out, name+"="+c)
		}
		return out
	}
	if strings.HasPrefix(cur, "-") {
		if cmd == nil {
			return []string{"--help\tshow help", "--version\tprint the version"}
		}
		var out []string
		fs.VisitAll(func(f *flag.Flag) {
			if f.Name == "version" {
				return
			}
			_, usage := flag.UnquoteUsage(f)
			dash := "--"
			if len(f.Name) == 1 {
				dash = "-"
			}
			out = append(out, dash+f.Name+"\t"+firstLine(usage))
		})
		return append(out, "--help\tshow help for "+cmd.name)
	}
	if cmd == nil {
		return commandCandidates()
	}
	switch cmd.name {
	case "help":
		if len(pos) == 0 {
			return commandCandidates()
		}
	case "completion":
		if len(pos) == 0 {
			return []string{"bash", "zsh", "fish"}
		}
	case "catalog":
		if len(pos) == 0 {
			return r.distroCandidates(ctx)
		}
	case "resolve", "pull":
		switch len(pos) {
		case 0:
			return r.distroCandidates(ctx)
		case 1:
			return r.versionCandidates(ctx, pos[0])
		}
	case "rm", "verify", "convert", "push":
		return r.cachedCandidates(ctx, pos)
	case "clone":
		if len(pos) < 2 {
			return r.cachedCandidates(ctx, pos)
		}
		if len(pos) == 2 {
			return []string{":file"} // DEST, a new file
		}
	}
	return nil
}

// flagName returns the name of a flag word ("-v", "--arch", "--arch=x").
func flagName(w string) (string, bool) {
	if len(w) < 2 || w[0] != '-' || w == "--" {
		return "", false
	}
	name := strings.TrimLeft(w, "-")
	name, _, _ = strings.Cut(name, "=")
	return name, name != ""
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

func commandCandidates() []string {
	var out []string
	for _, c := range commands() {
		out = append(out, c.name+"\t"+c.summary)
	}
	return append(out, "help\tshow help for a command")
}

// flagValues completes the value of flag name.
func (r *runner) flagValues(ctx context.Context, name string, cmd *command, pos []string) []string {
	switch name {
	case "cache-dir":
		return []string{":dir"}
	case "config":
		return []string{":file"}
	case "arch":
		return r.archCandidates(ctx, pos)
	case "mirror":
		var out []string
		for _, d := range r.catalogForCompletion(ctx) {
			out = append(out, d.ID+"=\t"+d.Name+" mirror base URL")
		}
		return out
	}
	return nil
}

// catalogForCompletion is the catalog the command would use (overlays,
// refreshed releases); nil when it cannot be read.
func (r *runner) catalogForCompletion(ctx context.Context) []*catalog.Distro {
	m, err := r.manager(ctx)
	if err != nil {
		return nil
	}
	return m.Catalog().Distros
}

func (r *runner) distroCandidates(ctx context.Context) []string {
	var out []string
	for _, d := range r.catalogForCompletion(ctx) {
		out = append(out, d.ID+"\t"+d.Name)
	}
	return out
}

// versionCandidates lists a distro's versions, their codenames and latest.
func (r *runner) versionCandidates(ctx context.Context, distro string) []string {
	m, err := r.manager(ctx)
	if err != nil {
		return nil
	}
	d, err := m.Catalog().Distro(distro)
	if err != nil {
		return nil
	}
	var out []string
	if l := d.Latest(); l != nil {
		out = append(out, "latest\t"+d.Name+" "+l.Version)
	}
	for _, v := range d.Versions {
		desc := d.Name + " " + v.Version
		if v.Codename != "" {
			desc += " (" + v.Codename + ")"
		}
		out = append(out, v.Version+"\t"+desc)
		if v.Codename != "" && !strings.EqualFold(v.Codename, v.Version) {
			out = append(out, v.Codename+"\t"+d.Name+" "+v.Version)
		}
	}
	return out
}

// archCandidates lists the arches of the distro and version typed, or every
// arch the catalog knows.
func (r *runner) archCandidates(ctx context.Context, pos []string) []string {
	m, err := r.manager(ctx)
	if err != nil {
		return nil
	}
	var arches []string
	if len(pos) >= 2 {
		if d, v, _, err := m.Catalog().Lookup(catalog.Ref{Distro: pos[0], Version: pos[1]}); err == nil {
			arches = d.ArchList(v)
		}
	}
	if arches == nil {
		for _, d := range m.Catalog().Distros {
			for _, v := range d.Versions {
				arches = append(arches, d.ArchList(v)...)
			}
		}
	}
	slices.Sort(arches)
	return slices.Compact(arches)
}

// cachedCandidates completes DISTRO VERSION from the images in the cache.
func (r *runner) cachedCandidates(ctx context.Context, pos []string) []string {
	if len(pos) >= 2 {
		return nil
	}
	m, err := r.manager(ctx)
	if err != nil {
		return nil
	}
	images, err := m.List(ctx)
	if err != nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	add := func(value, desc string) {
		if !seen[value] {
			seen[value] = true
			out = append(out, value+"\t"+desc)
		}
	}
	for _, im := range images {
		switch {
		case len(pos) == 0:
			add(im.Distro, "cached")
		case strings.EqualFold(pos[0], im.Distro):
			add(im.Version, "cached, "+im.Arch+" build "+im.Build)
		}
	}
	return out
}
