package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmimages/cli"
	"vmimages/internal/mirrortest"
)

// withoutHome is env without HOME and XDG_CACHE_HOME: no cache folder can
// be worked out.
func withoutHome(env []string) []string {
	var out []string
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != "HOME" && k != "XDG_CACHE_HOME" {
			out = append(out, kv)
		}
	}
	return out
}

// decodeOne decodes stdout, which must hold exactly one JSON object.
func decodeOne(t *testing.T, what, stdout string) object {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	var doc object
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("%s: stdout is not a JSON document: %v\nstdout: %q", what, err, stdout)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("%s: stdout holds more than one JSON document: %q", what, stdout)
	}
	return doc
}

// TestJSONDocumentOnFailure: --json prints its command's document even
// when the command fails — with the keys the README shows, an "error"
// saying why — and the exit code is the one the failure asks for.
func TestJSONDocumentOnFailure(t *testing.T) {
	vmimagesBinary(t) // built before a sandbox moves the Go cache
	env := procEnv(t)
	noHome := withoutHome(env)
	dir := t.TempDir()
	afile := filepath.Join(dir, "afile")
	if err := os.WriteFile(afile, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty-cache")
	srv := mirrortest.New(t) // serves nothing: every path is 404
	mirror := "debian=" + srv.URL + "/debian/"
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		keys []string
		// verdict is verify's top-level verdict.
		verdict string
	}{
		{name: "verify, cache below a file", env: env, args: []string{"verify", "--json", "--cache-dir", afile + "/cache"},
			code: cli.ExitFailure, keys: []string{"images", "verdict", "error"}, verdict: "unreadable"},
		{name: "verify, no HOME", env: noHome, args: []string{"verify", "--json"},
			code: cli.ExitFailure, keys: []string{"images", "verdict", "error"}, verdict: "unreadable"},
		{name: "verify one image, not cached", env: env, args: []string{"verify", "debian", "13", "--arch", "amd64", "--json", "--cache-dir", empty},
			code: cli.ExitFailure, keys: []string{"images", "verdict", "error"}, verdict: "unreadable"},
		{name: "list, no HOME", env: noHome, args: []string{"list", "--json"},
			code: cli.ExitFailure, keys: []string{"images", "total_bytes", "error"}},
		{name: "prune, no HOME", env: noHome, args: []string{"prune", "--keep", "1", "--json"},
			code: cli.ExitFailure, keys: []string{"removed", "freed_bytes", "dry_run", "kept", "error"}},
		{name: "clone, no HOME", env: noHome, args: []string{"clone", "debian", "13", filepath.Join(dir, "vm.qcow2"), "--json"},
			code: cli.ExitFailure, keys: []string{"distro", "version", "arch", "path", "format", "method", "size_bytes", "backing", "error"}},
		{name: "resolve, mirror has nothing", env: env, args: []string{"resolve", "debian", "13", "--arch", "amd64", "--json", "--mirror", mirror},
			code: cli.ExitFailure, keys: []string{"distro", "version", "arch", "build", "boot", "assets", "signature", "error"}},
		{name: "pull, mirror has nothing", env: env, args: []string{"pull", "debian", "13", "--arch", "amd64", "--json", "--mirror", mirror, "--cache-dir", empty},
			code: cli.ExitFailure, keys: append(append([]string{}, pullDocKeys...), "signature", "kernel_source", "error")},
		{name: "pull, unknown distro", env: env, args: []string{"pull", "nosuch", "1", "--json", "--cache-dir", empty},
			code: cli.ExitUsage, keys: append(append([]string{}, pullDocKeys...), "error")},
		{name: "list, bad flag before --json", env: env, args: []string{"list", "--bogus", "--json"},
			code: cli.ExitUsage, keys: []string{"error"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startProc(t, tc.env, tc.args...)
			code := p.wait(t, 60*time.Second)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstderr: %s", code, tc.code, p.stderr)
			}
			doc := decodeOne(t, tc.name, p.stdout.String())
			hasKeys(t, tc.name, doc, tc.keys...)
			if e, _ := doc["error"].(string); e == "" || !strings.Contains(p.stderr.String(), strings.SplitN(e, "\n", 2)[0]) {
				t.Errorf("error %q should be the failure stderr reports:\n%s", e, p.stderr)
			}
			if tc.verdict != "" && doc["verdict"] != tc.verdict {
				t.Errorf("verdict %v, want %q", doc["verdict"], tc.verdict)
			}
			for _, k := range []string{"images", "removed", "kept", "assets"} {
				if v, ok := doc[k]; ok {
					if l, isList := v.([]any); !isList || len(l) != 0 {
						t.Errorf("%q = %v, want an empty list", k, v)
					}
				}
			}
		})
	}
}

// TestVerifyJSONVerdict: verify --json's top-level verdict is the worst
// image's, "ok" for an empty cache.
func TestVerifyJSONVerdict(t *testing.T) {
	s := newSandbox(t)
	doc := s.run("verify", "--json").ok(t).jsonDoc(t)
	if doc["verdict"] != "ok" || doc["error"] != nil {
		t.Errorf("empty cache: %v, want verdict ok and no error", doc)
	}
}

// TestPruneRefusals: prune with no cache folder prints its error only (no
// "0 image(s) removed" report), and --keep 0 is refused as --keep's own
// mistake.
func TestPruneRefusals(t *testing.T) {
	vmimagesBinary(t)
	p := startProc(t, withoutHome(procEnv(t)), "prune", "--keep", "1")
	if code := p.wait(t, 30*time.Second); code != cli.ExitFailure || p.stdout.Len() != 0 || !strings.Contains(p.stderr.String(), "HOME") {
		t.Errorf("prune without HOME: exit %d, stdout %q, stderr %q; want exit 1, the error only", code, p.stdout, p.stderr)
	}
	s := newSandbox(t)
	r := s.run("prune", "--keep", "0")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "--keep must be at least 1") {
		t.Errorf("want --keep 0 refused as such\n%s", r)
	}
	r = s.run("prune")
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "at least one of --keep N") {
		t.Errorf("want prune without a rule refused\n%s", r)
	}
}

// TestCatalogRefreshAllFailed: when no distribution answers, catalog
// --refresh still shows the catalog it has, exits 1, and does not advise
// running the command that just failed.
func TestCatalogRefreshAllFailed(t *testing.T) {
	s := newSandbox(t)
	srv := mirrortest.New(t)
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		http.Error(w, "down for maintenance", http.StatusInternalServerError)
		return true
	})
	var args []string
	for _, d := range []string{"ubuntu", "fedora", "alpine", "rocky", "almalinux"} {
		args = append(args, "--mirror", d+"="+srv.URL+"/"+d+"/")
	}
	r := s.run(append([]string{"catalog", "--refresh"}, args...)...)
	if r.code != cli.ExitFailure || strings.Contains(r.stderr, "run 'vmimages catalog --refresh'") ||
		!strings.Contains(r.stderr, "no distribution answered") || !strings.Contains(r.stdout, "debian") {
		t.Errorf("want exit 1, the catalog, the failure and no advice to refresh\n%s", r)
	}
	r = s.run(append([]string{"catalog", "--refresh", "--json"}, args...)...)
	if r.code != cli.ExitFailure {
		t.Errorf("--json: exit %d, want 1\n%s", r.code, r)
	}
	doc := r.jsonDoc(t)
	if len(objects(t, doc, "refresh")) == 0 || len(objects(t, doc, "distros")) == 0 {
		t.Errorf("--json document lacks the refresh report or the catalog: %v", doc)
	}
}
