package cli_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"vmimages/internal/mirrortest"
)

// readmeJSONExamples returns the README's JSON examples by command: each
// ```json block belongs to the last `vmimages COMMAND … --json` before it.
func readmeJSONExamples(t *testing.T) map[string]object {
	t.Helper()
	b, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	cmdRE := regexp.MustCompile("`vmimages ([a-z]+)[^`]*--json`")
	out := map[string]object{}
	text := string(b)
	for {
		i := strings.Index(text, "```json\n")
		if i < 0 {
			return out
		}
		m := cmdRE.FindAllStringSubmatch(text[:i], -1)
		rest := text[i+len("```json\n"):]
		end := strings.Index(rest, "```")
		if end < 0 {
			t.Fatal("unterminated ```json block in the README")
		}
		if len(m) == 0 {
			t.Fatalf("a ```json block with no `vmimages … --json` before it:\n%s", rest[:end])
		}
		var doc object
		if err := json.Unmarshal([]byte(rest[:end]), &doc); err != nil {
			t.Fatalf("README example of %s is not JSON: %v\n%s", m[len(m)-1][1], err, rest[:end])
		}
		out[m[len(m)-1][1]] = doc
		text = rest[end+3:]
	}
}

// sameKeys fails unless every key of the documented example is in the real
// document, recursively (a list's first documented element against the
// real list's first element).
func sameKeys(t *testing.T, where string, doc, real any) {
	t.Helper()
	switch d := doc.(type) {
	case object:
		r, ok := real.(object)
		if !ok {
			t.Errorf("%s: documented as an object, is %T", where, real)
			return
		}
		for k, v := range d {
			rv, ok := r[k]
			if !ok {
				t.Errorf("%s: documented key %q is not in the output", where, k)
				continue
			}
			sameKeys(t, where+"."+k, v, rv)
		}
	case []any:
		r, ok := real.([]any)
		if !ok {
			t.Errorf("%s: documented as a list, is %T", where, real)
			return
		}
		if len(d) > 0 && len(r) > 0 {
			sameKeys(t, where+"[0]", d[0], r[0])
		}
	}
}

// TestReadmeJSONExamples: every command with --json has an example in the
// README, and every key the example shows is in the command's real output.
func TestReadmeJSONExamples(t *testing.T) {
	examples := readmeJSONExamples(t)
	s := newSandbox(t)
	u := signedUbuntu(t, s)
	deb, _ := debianMirror(t)
	ubuntu := "ubuntu=" + u.srv.URL + "/ubuntu/"
	debian := "debian=" + deb.URL + "/debian/"

	// Every command that takes --json is documented.
	for _, c := range s.complete("") {
		if c != "help" && slices.Contains(s.complete(c, "--"), "--json") {
			if _, ok := examples[c]; !ok {
				t.Errorf("the README has no JSON example for %s", c)
			}
		}
	}

	s.run("pull", "-q", "debian", "12", "--arch", "amd64", "--mirror", debian).ok(t)
	s.run("pull", "-q", "debian", "13", "--arch", "amd64", "--mirror", debian).ok(t)
	runs := map[string][]string{
		"catalog": {"catalog", "ubuntu", "--json"},
		"resolve": {"resolve", "ubuntu", "24.04", "--arch", "x86_64", "--json", "--mirror", ubuntu},
		"pull":    {"pull", "ubuntu", "24.04", "--arch", "x86_64", "--json", "--mirror", ubuntu},
		"list":    {"list", "--json"},
		"verify":  {"verify", "--json"},
		"prune":   {"prune", "--keep", "1", "--dry-run", "--json"},
		"version": {"version", "--json"},
	}
	// clone needs a real qcow2 in the cache.
	if _, err := exec.LookPath("qemu-img"); err == nil || os.Getenv("CI") != "" {
		dir := t.TempDir()
		raw, qcow := filepath.Join(dir, "src.raw"), filepath.Join(dir, "src.qcow2")
		writeFile(t, raw, strings.Repeat("vmimages disk ", 1000))
		if out, err := exec.Command("qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, qcow).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img: %v\n%s", err, out)
		}
		c := newSandbox(t)
		srv := mirrortest.New(t)
		srv.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", readBytes(t, qcow))
		c.run("pull", "-q", "debian", "12", "--arch", "amd64", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
		doc, ok := examples["clone"]
		if !ok {
			t.Error("no README example for clone --json")
		} else {
			real := c.run("clone", "debian", "12", filepath.Join(dir, "web1.qcow2"), "--arch", "amd64", "--json").ok(t).jsonDoc(t)
			sameKeys(t, "clone", doc, real)
		}
	}
	for _, c := range []string{"catalog", "resolve", "pull", "list", "verify", "prune", "version"} {
		doc, ok := examples[c]
		if !ok {
			t.Errorf("no README example for %s --json", c)
			continue
		}
		r := s.run(runs[c]...).ok(t)
		real := r.jsonDoc(t)
		if c == "list" || c == "verify" {
			// The documented image is the signed Ubuntu one.
			for _, im := range objects(t, real, "images") {
				if im["distro"] == "ubuntu" {
					real["images"] = []any{im}
				}
			}
		}
		sameKeys(t, c, doc, real)
	}
}
