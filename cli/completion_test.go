package cli_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// needTool returns the path of a program a test needs: missing, the test is
// skipped locally and fails in CI (make deps installs it).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not installed; 'make deps' installs it", name)
		}
		t.Skipf("%s is not installed ('make deps' installs it)", name)
	}
	return p
}

// TestCompletionScriptsParse: each printed script is valid for its shell.
func TestCompletionScriptsParse(t *testing.T) {
	t.Parallel()
	bin := vmimagesBinary(t)
	for _, sh := range []string{"bash", "zsh", "fish"} {
		t.Run(sh, func(t *testing.T) {
			shell := needTool(t, sh)
			r := runProc(t, bin, procEnv(t), "completion", sh)
			if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "__complete") {
				t.Fatalf("%s", r)
			}
			file := filepath.Join(t.TempDir(), "vmimages."+sh)
			writeFile(t, file, r.stdout)
			if out, err := exec.Command(shell, "-n", file).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", sh, err, out)
			}
		})
	}
	if r := run(t, "completion", "tcsh"); r.code != 2 {
		t.Errorf("unknown shell: %s", r)
	}
}

// complete runs `vmimages __complete words…` in the sandbox and returns the
// candidates' values.
func (s *sandbox) complete(words ...string) []string {
	s.t.Helper()
	args := append([]string{"__complete", "--config", s.config, "--cache-dir", s.cache}, words...)
	r := run(s.t, args...)
	if r.code != 0 || r.stderr != "" {
		s.t.Fatalf("%s", r)
	}
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if l != "" {
			v, _, _ := strings.Cut(l, "\t")
			out = append(out, v)
		}
	}
	return out
}

// TestCompletionCandidates: subcommands, flags, distros, versions with
// codenames and latest, arches, and the images in the cache, computed when
// asked.
func TestCompletionCandidates(t *testing.T) {
	s := newSandbox(t)
	srv, _ := debianMirror(t)
	want := func(words []string, must []string, mustNot ...string) {
		t.Helper()
		got := s.complete(words...)
		for _, m := range must {
			if !slices.Contains(got, m) {
				t.Errorf("complete %q: %q missing from %q", words, m, got)
			}
		}
		for _, m := range mustNot {
			if slices.Contains(got, m) {
				t.Errorf("complete %q: %q should not be in %q", words, m, got)
			}
		}
	}
	want([]string{""}, []string{"catalog", "pull", "resolve", "list", "verify", "rm", "prune", "convert", "clone", "dir", "version", "completion", "help"}, "__complete")
	want([]string{"pu"}, []string{"pull"}, "prune")
	want([]string{"pull", "--a"}, []string{"--arch"}, "--raw")
	want([]string{"pull", "-"}, []string{"--arch", "--raw", "--update", "--kernel", "--json", "--cache-dir", "--mirror", "-v", "-q"})
	want([]string{"pull", ""}, []string{"debian", "ubuntu", "fedora"})
	want([]string{"pull", "debian", ""}, []string{"latest", "12", "bookworm", "13", "trixie"}, "debian")
	want([]string{"resolve", "ubuntu", "no"}, []string{"noble"}, "latest")
	want([]string{"pull", "debian", "12", "--arch", ""}, []string{"x86_64", "aarch64"})
	want([]string{"pull", "debian", "12", "--arch="}, []string{"--arch=x86_64", "--arch=aarch64"})
	want([]string{"pull", "debian", "12", "--arch=a"}, []string{"--arch=aarch64"}, "--arch=x86_64")
	want([]string{"pull", "--arch=arm64", "debian", "1"}, []string{"12", "13"})
	want([]string{"completion", ""}, []string{"bash", "zsh", "fish"})
	want([]string{"--cache-dir", ""}, []string{":dir"})
	want([]string{"--mirror", "deb"}, []string{"debian="})
	want([]string{"rm", ""}, nil, "debian")

	s.run("pull", "-q", "debian", "12", "--arch", "amd64", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	want([]string{"rm", ""}, []string{"debian"}, "ubuntu")
	want([]string{"verify", "debian", ""}, []string{"12"}, "13")
	want([]string{"rm", "debian", "12", ""}, nil, "12")
	want([]string{"clone", ""}, []string{"debian"}, "ubuntu")
	want([]string{"clone", "debian", "12", ""}, []string{":file"})
}

// TestShellCompletionEndToEnd loads the scripts into bash and fish, which
// call the real binary.
func TestShellCompletionEndToEnd(t *testing.T) {
	t.Parallel()
	bin := vmimagesBinary(t)
	env := withEnv(procEnv(t), "PATH="+filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	script := func(sh string) string {
		r := runProc(t, bin, env, "completion", sh)
		file := filepath.Join(t.TempDir(), "vmimages."+sh)
		writeFile(t, file, r.stdout)
		return file
	}
	t.Run("bash", func(t *testing.T) {
		bash := needTool(t, "bash")
		file := script("bash")
		for line, want := range map[string]string{
			"vmimages pul":               "pull",
			"vmimages pull deb":          "debian",
			"vmimages pull debian bo":    "bookworm",
			"vmimages --mirror deb":      "debian=",
			"vmimages pull -q ubuntu no": "noble",
		} {
			cmd := exec.Command(bash, "-c", `source "$1"
COMP_LINE="$2"; COMP_POINT=${#2}
read -r -a COMP_WORDS <<< "$2"; COMP_CWORD=$((${#COMP_WORDS[@]}-1))
_vmimages; printf '%s\n' "${COMPREPLY[@]}"`, "bash", file, line)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			if err != nil || strings.TrimSpace(string(out)) != want {
				t.Errorf("bash %q: %v %q, want %q", line, err, out, want)
			}
		}
	})
	t.Run("fish", func(t *testing.T) {
		fish := needTool(t, "fish")
		file := script("fish")
		cmd := exec.Command(fish, "--no-config", "-c", `source $argv[1]; complete -C"vmimages pull debian tri"`, file)
		cmd.Env = withEnv(env, "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "trixie\t") {
			t.Errorf("fish: %v %q", err, out)
		}
	})
}

// TestManPageFromHelp: the man page says what `vmimages help` and each
// command's --help say, as both come from the same texts.
func TestManPageFromHelp(t *testing.T) {
	page := run(t, "__man").ok(t).stdout
	// troff reads bytes, not UTF-8, unless told: non-ASCII help text must
	// reach the page as roff glyph escapes.
	for i, l := range strings.Split(page, "\n") {
		if strings.IndexFunc(l, func(r rune) bool { return r >= 0x80 }) >= 0 {
			t.Errorf("man page line %d is not ASCII: %q", i+1, l)
		}
	}
	plain := strings.NewReplacer(`\-`, "-", `\e`, `\`, `\fI`, "", `\fR`, "", `\fB`, "").Replace(page)
	help := run(t, "help").ok(t).stdout
	_, cmds, _ := strings.Cut(help, "Commands:\n")
	cmds, _, _ = strings.Cut(cmds, "\n\n")
	for _, l := range strings.Split(cmds, "\n") {
		fields := strings.Fields(l)
		if len(fields) < 2 {
			continue
		}
		if !strings.Contains(plain, ".B "+fields[0]) {
			t.Errorf("man page lacks command %s", fields[0])
		}
		if len(l) > 31 {
			summary := strings.TrimSpace(l[31:])
			if !strings.Contains(plain, strings.ToUpper(summary[:1])+summary[1:]+".") {
				t.Errorf("man page lacks the summary %q", summary)
			}
		}
	}
	for _, c := range []string{"pull", "prune", "completion", "version"} {
		ch := run(t, "help", c).ok(t).stdout
		for _, l := range strings.Split(ch, "\n") {
			l = strings.TrimSpace(l)
			if strings.HasPrefix(l, "-") || l == "" || strings.HasPrefix(l, "Usage:") || l == "Flags:" {
				continue
			}
			// The page describes every machine: no "this machine's, x86_64".
			l = strings.NewReplacer(", x86_64)", ")", ", aarch64)", ")").Replace(l)
			if !strings.Contains(plain, l) {
				t.Errorf("man page lacks %q from 'vmimages help %s'", l, c)
			}
		}
	}
	for _, want := range []string{"EXIT STATUS", "ENVIRONMENT", "SSL_CERT_FILE", "vmimages pull debian latest"} {
		if !strings.Contains(plain, want) {
			t.Errorf("man page lacks %q", want)
		}
	}
}
