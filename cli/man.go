package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// manCommand is the hidden subcommand that prints the man page, vmimages.1,
// built from the same texts as `vmimages help` and each command's --help.
const manCommand = "__man"

// writeManPage writes the man page in roff (man macros). It holds no date,
// so that the page, like the release archives, is reproducible.
func (r *runner) writeManPage(w io.Writer) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format+"\n", a...) }
	p(`.TH VMIMAGES 1 "" "vmimages %s" "User Commands"`, roffEscape(r.env.Version))
	p(".SH NAME")
	p(`vmimages \- %s`, roffEscape(tagline))
	p(".SH SYNOPSIS")
	p(".B vmimages")
	p(".br")
	p(".B vmimages")
	p(`.I COMMAND`)
	p(`[\fIARGS\fR] [\fIFLAGS\fR]`)
	p(".SH DESCRIPTION")
	p("With no arguments, vmimages opens its window (a build made with")
	p(`.B \-tags nogui`)
	p("has none and exits 2). With a command it is the command line: progress and")
	p("messages go to standard error, results to standard output, and")
	p(`.B \-\-json`)
	p("prints one JSON document on standard output.")
	p(".SH COMMANDS")
	for _, c := range commands() {
		p(".TP")
		if c.args != "" {
			p(`.B %s \fI%s\fR`, roffEscape(c.name), roffEscape(c.args))
		} else {
			p(".B %s", roffEscape(c.name))
		}
		p("%s.", roffEscape(capitalize(c.summary)))
		if c.flags != nil {
			fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
			var o cmdOpts
			c.flags(fs, &o)
			manFlags(w, fs)
		}
	}
	p(".TP")
	p(`.B help \fR[\fICOMMAND\fR]`)
	p("Show help for a command.")
	p(".SH GLOBAL FLAGS")
	p("Every command accepts these, before or after its arguments.")
	fs := flag.NewFlagSet("vmimages", flag.ContinueOnError)
	var g globals
	g.register(fs)
	manFlags(w, fs)
	p(".SH ENVIRONMENT")
	for _, e := range environmentHelp {
		p(".TP")
		p(".B %s", roffEscape(e[0]))
		p("%s.", roffEscape(capitalize(e[1])))
	}
	p(".SH EXIT STATUS")
	for _, e := range exitCodes {
		p(".TP")
		p(".B %s", e[0])
		p("%s.", roffEscape(capitalize(e[1])))
	}
	p(".SH EXAMPLES")
	for _, e := range examples {
		p(".nf")
		p(`\f(CR%s\fR`, roffEscape(e))
		p(".fi")
	}
	p(".SH SEE ALSO")
	p(".BR qemu\\-img (1)")
}

// manFlags lists a flag set's flags as an indented list.
func manFlags(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintln(w, ".RS")
	fs.VisitAll(func(f *flag.Flag) {
		name, usage := flag.UnquoteUsage(f)
		if f.Name == "arch" {
			usage = strings.Replace(archUsage, "`", "", 2) + ")"
		}
		dash := `\-\-`
		if len(f.Name) == 1 {
			dash = `\-`
		}
		fmt.Fprintln(w, ".TP")
		if name != "" {
			fmt.Fprintf(w, ".B %s%s \\fI%s\\fR\n", dash, roffEscape(f.Name), roffEscape(name))
		} else {
			fmt.Fprintf(w, ".B %s%s\n", dash, roffEscape(f.Name))
		}
		fmt.Fprintln(w, roffEscape(usage))
	})
	fmt.Fprintln(w, ".RE")
}

// roffEscape makes s safe as roff text on a line of its own.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	// Non-ASCII text in the help (an ellipsis, a dash) is written as roff's
	// named glyphs or \[uXXXX], which every troff reads whatever its locale.
	var b strings.Builder
	for _, r := range s {
		switch {
		case r < 0x80:
			b.WriteRune(r)
		case r == '…':
			b.WriteString(`\&...`)
		case r == '—':
			b.WriteString(`\(em`)
		case r == '–':
			b.WriteString(`\(en`)
		default:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		}
	}
	s = b.String()
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}
