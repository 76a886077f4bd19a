package cli_test

import (
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"vmimages/cli"
)

// strayLine matches what a library writes to stderr behind the program's
// back: the standard log package's date prefix, or Fyne's own words.
var strayLine = regexp.MustCompile(`(?m)^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d |Fyne error|Cause: language`)

// checkNoStray fails on stderr lines the program did not write itself.
func checkNoStray(t *testing.T, stderr string) {
	t.Helper()
	if strayLine.MatchString(stderr) {
		t.Errorf("stray lines on stderr:\n%s", stderr)
	}
}

// runProc runs the binary at bin with env and waits for it.
func runProc(t *testing.T, bin string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: out.String(), stderr: errb.String(), args: args}
}

// withEnv returns env with the variables in set replaced or added ("K="
// keeps K empty; a key ending in "!" is removed).
func withEnv(env []string, set ...string) []string {
	out := append([]string(nil), env...)
	for _, kv := range set {
		k, _, _ := strings.Cut(kv, "=")
		del := strings.HasSuffix(k, "!")
		k = strings.TrimSuffix(k, "!")
		out = slices.DeleteFunc(out, func(e string) bool { return strings.HasPrefix(e, k+"=") })
		if !del {
			out = append(out, kv)
		}
	}
	return out
}

// TestNoStrayStderr runs the real (window built in) binary under the C
// locales of Docker and CI images and under locales no library can parse:
// commands whose results go to stdout write nothing at all to stderr.
func TestNoStrayStderr(t *testing.T) {
	t.Parallel()
	bin := vmimagesBinary(t)
	srv, _ := debianMirror(t)
	cacheDir := t.TempDir()
	mirror := "debian=" + srv.URL + "/debian/"
	commands := [][]string{
		{"--version"},
		{"version", "--json"},
		{"help"},
		{"catalog", "--json"},
		{"dir", "--cache-dir", cacheDir},
		{"resolve", "debian", "12", "--arch", "amd64", "--json", "--mirror", mirror, "--cache-dir", cacheDir},
		{"pull", "-q", "debian", "12", "--arch", "amd64", "--json", "--mirror", mirror, "--cache-dir", cacheDir},
		{"list", "--json", "--cache-dir", cacheDir},
		{"completion", "bash"},
		{"__complete", "pull", "deb"},
	}
	locales := [][]string{
		{"LANG=C.UTF-8"},
		{"LANG=C"},
		{"LANG=POSIX"},
		{"LANG=en_US.UTF-8", "LC_ALL=C.UTF-8"},
		{"LANG=C.UTF-8", "LANGUAGE=C"},
		{"LANG=en_US.UTF-8", "LANGUAGE=xx-!!:de"},
		{"LANG=!@#"},
	}
	for _, loc := range locales {
		env := withEnv(procEnv(t), loc...)
		for _, args := range commands {
			r := runProc(t, bin, env, args...)
			if r.code != 0 || r.stderr != "" {
				t.Errorf("%v: %s", loc, r)
			}
		}
	}
}

var (
	noguiOnce sync.Once
	noguiPath string
	noguiErr  error
)

// noguiBinary builds `CGO_ENABLED=0 go build -tags nogui` once.
func noguiBinary(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not in PATH; cannot build the binary")
	}
	noguiOnce.Do(func() {
		out := filepath.Join(binDir, "vmimages-nogui")
		cmd := exec.Command(goTool, "build", "-tags", "nogui", "-o", out, "vmimages")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if b, err := cmd.CombinedOutput(); err != nil {
			noguiErr = fmt.Errorf("CGO_ENABLED=0 go build -tags nogui: %v\n%s", err, b)
			return
		}
		noguiPath = out
	})
	if noguiErr != nil {
		t.Fatal(noguiErr)
	}
	return noguiPath
}

// TestNoGUIBuild builds the headless command line with cgo off and uses it:
// a static binary without Fyne that pulls, and that says the window is not
// in it when run with no arguments.
func TestNoGUIBuild(t *testing.T) {
	t.Parallel()
	bin := noguiBinary(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Errorf("the nogui binary asks for a dynamic loader: it is not static")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) != 0 {
		t.Errorf("the nogui binary links %v", libs)
	}
	f.Close()
	if out, err := exec.Command("go", "version", "-m", bin).Output(); err != nil || strings.Contains(string(out), "fyne.io") {
		t.Errorf("the nogui binary contains Fyne (err %v):\n%s", err, out)
	}

	env := procEnv(t)
	r := runProc(t, bin, env)
	if r.code != cli.ExitUsage || !strings.Contains(r.stderr, "the window is not in this build") || r.stdout != "" {
		t.Errorf("no arguments: %s", r)
	}
	r = runProc(t, bin, env, "version", "--json")
	var v struct {
		GUI  *bool `json:"gui"`
		Keys []any `json:"pinned_keys"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 || v.GUI == nil || *v.GUI || len(v.Keys) == 0 {
		t.Errorf("version --json: %v\n%s", err, r)
	}
	srv, disk := debianMirror(t)
	cacheDir := t.TempDir()
	r = runProc(t, bin, env, "pull", "debian", "12", "--arch", "amd64", "--json", "--cache-dir", cacheDir, "--mirror", "debian="+srv.URL+"/debian/")
	if r.code != 0 {
		t.Fatalf("pull: %s", r)
	}
	checkNoStray(t, r.stderr)
	got, err := os.ReadFile(filepath.Join(cacheDir, "images", "debian", "12", "x86_64", "disk.qcow2"))
	if err != nil || string(got) != string(disk) {
		t.Errorf("the nogui pull did not leave the mirror's disk (err %v)", err)
	}
	r = runProc(t, bin, env, "verify", "--cache-dir", cacheDir)
	if r.code != 0 || !strings.Contains(r.stdout, "ok") {
		t.Errorf("verify: %s", r)
	}
}

// TestVersionJSON checks `version --json` of the default binary: the window
// is built in, and the pinned keys, Go version and version are there.
func TestVersionJSON(t *testing.T) {
	t.Parallel()
	r := runProc(t, vmimagesBinary(t), procEnv(t), "version", "--json")
	var doc map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("%v\n%s", err, r)
	}
	hasKeys(t, "version", doc, versionDocKeys...)
	if doc["gui"] != true || !strings.HasPrefix(fmt.Sprint(doc["go_version"]), "go1.") {
		t.Errorf("version --json = %v", doc)
	}
	keys := objects(t, doc, "pinned_keys")
	fp := regexp.MustCompile(`^[0-9A-F]{40}$`)
	distros := map[string]bool{}
	for _, k := range keys {
		hasKeys(t, "pinned key", k, "distro", "fingerprint")
		if !fp.MatchString(fmt.Sprint(k["fingerprint"])) {
			t.Errorf("fingerprint %v", k["fingerprint"])
		}
		distros[fmt.Sprint(k["distro"])] = true
	}
	for _, d := range []string{"ubuntu", "fedora"} {
		if !distros[d] {
			t.Errorf("no pinned key for %s in %v", d, keys)
		}
	}
}

var versionDocKeys = []string{"version", "commit", "go_version", "os", "arch", "gui", "pinned_keys"}

// TestVerboseLogsRequestsAndDecisions: -v logs every HTTP request with its
// method, URL, status, bytes, time and attempt, and what was decided.
func TestVerboseLogsRequestsAndDecisions(t *testing.T) {
	s := newSandbox(t)
	srv, disk := debianMirror(t)
	mirror := "debian=" + srv.URL + "/debian/"
	r := s.run("pull", "-v", "debian", "12", "--arch", "amd64", "--mirror", mirror).ok(t)
	diskURL := srv.URL + debianDiskPath("12", "bookworm", debianBuild)
	lines := strings.Split(r.stderr, "\n")
	find := func(what string, parts ...string) string {
		t.Helper()
		for _, l := range lines {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(l, p)
			}
			if ok {
				return l
			}
		}
		t.Errorf("no %s line with %q in:\n%s", what, parts, r.stderr)
		return ""
	}
	l := find("disk request", `msg="http request"`, "method=GET", "url="+diskURL, "status=200", fmt.Sprintf("bytes=%d", len(disk)), "attempt=1")
	if l != "" && !regexp.MustCompile(` time=[0-9.]+[µnm]?s`).MatchString(l) {
		t.Errorf("request line without its time: %s", l)
	}
	find("manifest request", `msg="http request"`, "url="+srv.URL+"/debian/bookworm/"+debianBuild+"/SHA512SUMS", "status=200")
	find("build decision", "msg=resolved", "distro=debian", "build="+debianBuild)
	find("manifest decision", "msg=asset", "role=disk", "manifest="+srv.URL+"/debian/bookworm/"+debianBuild+"/SHA512SUMS")
	find("key decision", `msg="manifest signature"`, "status=unsigned")
	find("settings", "msg=settings", "cache="+s.cache)

	// A second pull is answered by the cache, and says so.
	r = s.run("pull", "-v", "debian", "12", "--arch", "amd64", "--mirror", mirror).ok(t)
	lines = strings.Split(r.stderr, "\n")
	find("cache decision", "using the cached image", "build="+debianBuild)
	if strings.Contains(r.stderr, "http request") {
		t.Errorf("a cached pull made requests:\n%s", r.stderr)
	}

	// Without -v nothing of this is printed.
	r = s.run("resolve", "debian", "12", "--arch", "amd64", "--mirror", mirror).ok(t)
	if r.stderr != "" {
		t.Errorf("resolve without -v wrote to stderr:\n%s", r.stderr)
	}
}

// TestVerboseCountsRetries: a request that fails and is tried again is
// logged twice, the second time as attempt 2.
func TestVerboseCountsRetries(t *testing.T) {
	s := newSandbox(t)
	srv, _ := debianMirror(t)
	manifest := "/debian/bookworm/" + debianBuild + "/SHA512SUMS"
	var once sync.Once
	srv.Fault = func(w http.ResponseWriter, r *http.Request) bool {
		if r.URL.Path != manifest {
			return false
		}
		failed := false
		once.Do(func() {
			failed = true
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		return failed
	}
	start := time.Now()
	r := s.run("resolve", "-v", "debian", "12", "--arch", "amd64", "--mirror", "debian="+srv.URL+"/debian/").ok(t)
	if !strings.Contains(r.stderr, "url="+srv.URL+manifest+" attempt=1 status=503") ||
		!strings.Contains(r.stderr, "url="+srv.URL+manifest+" attempt=2 status=200") {
		t.Errorf("retry not logged (%s):\n%s", time.Since(start), r.stderr)
	}
}

// TestNoDisplay: the default build, run with no arguments where there is no
// display (a server, a CI job), says so in one line and exits 2 — no panic
// or stack trace from the toolkit.
func TestNoDisplay(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("DISPLAY and WAYLAND_DISPLAY decide only on Linux and the BSDs")
	}
	bin := vmimagesBinary(t)
	var env []string
	for _, kv := range procEnv(t) {
		if k, _, _ := strings.Cut(kv, "="); k != "DISPLAY" && k != "WAYLAND_DISPLAY" {
			env = append(env, kv)
		}
	}
	r := runProc(t, bin, env)
	if r.code != cli.ExitUsage || r.stdout != "" || strings.Count(r.stderr, "\n") != 1 ||
		!strings.Contains(r.stderr, "no display") || strings.Contains(r.stderr, "panic") {
		t.Errorf("no arguments and no display: want exit 2 and one line saying there is no display\n%s", r)
	}
}
