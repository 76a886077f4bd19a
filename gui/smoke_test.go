package gui

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// appBinary is the real vmimages binary: $VMIMAGES_GUI_BIN, or one built
// once for this test run with the tags `make build` uses.
func appBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("VMIMAGES_GUI_BIN"); p != "" {
		return p
	}
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "vmimages-gui-test-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "vmimages")
		// go test puts its own go command first in PATH.
		cmd := exec.Command("go", "build", "-tags", "migrated_fynedo", "-o", binPath, "..")
		out, err := cmd.CombinedOutput()
		if err != nil {
			binErr = &buildError{err: err, out: string(out)}
		}
	})
	if binErr != nil {
		t.Fatalf("building the app: %v", binErr)
	}
	return binPath
}

type buildError struct {
	err error
	out string
}

func (e *buildError) Error() string { return e.err.Error() + "\n" + e.out }

// needTools skips the test unless every tool is installed; in CI (CI set)
// a missing tool fails it, since make deps installs them all.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the window smoke tests run on Linux under Xvfb")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " is not installed, so the real window cannot be tested (Debian: apt-get install xvfb xauth dbus dbus-x11 xdotool imagemagick openbox x11-utils; or run make deps)"
			if os.Getenv("CI") != "" {
				t.Fatal(msg)
			}
			t.Skip(msg)
		}
	}
}

// TestSmoke runs scripts/smoke.sh on the real binary: the window maps under
// Xvfb with and without a session bus; SIGTERM ends the first, the window
// manager's close button (openbox, Alt+F4) the second, each with status 0
// and no panic or Fyne error.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the real-window smoke test")
	}
	needTools(t, "xvfb-run", "dbus-run-session", "xdotool", "import", "openbox", "xprop")
	bin := appBinary(t)
	cmd := exec.Command("../scripts/smoke.sh", bin)
	cmd.Env = append(os.Environ(), "SMOKE_OUT="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("scripts/smoke.sh: %v", err)
	}
}

// TestShippedBinaryHasNoHooks: the VMIMAGES_GUI_* start-up hooks for the
// screenshots exist only in builds with the tag guihooks.
func TestShippedBinaryHasNoHooks(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the build of the real binary")
	}
	data, err := os.ReadFile(appBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"VMIMAGES_GUI_TAB", "VMIMAGES_GUI_PULL", "VMIMAGES_GUI_SELECT", "VMIMAGES_GUI_PRUNE"} {
		if bytes.Contains(data, []byte(name)) {
			t.Errorf("the shipped binary reads %s", name)
		}
	}
}
