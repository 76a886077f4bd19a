package gui

import (
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

// needTools skips the test unless every tool is installed.
func needTools(t *testing.T, tools ...string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the window smoke tests run on Linux under Xvfb")
	}
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed, so the real window cannot be tested (Debian: apt-get install xvfb xauth dbus dbus-x11 xdotool imagemagick; or run make deps)", tool)
		}
	}
}

// TestSmoke runs scripts/smoke.sh on the real binary: the window maps under
// Xvfb with and without a session bus, and SIGTERM ends it with status 0
// and no panic.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the real-window smoke test")
	}
	needTools(t, "xvfb-run", "dbus-run-session", "xdotool", "import")
	bin := appBinary(t)
	cmd := exec.Command("../scripts/smoke.sh", bin)
	cmd.Env = append(os.Environ(), "SMOKE_OUT="+t.TempDir())
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	if err != nil {
		t.Fatalf("scripts/smoke.sh: %v", err)
	}
}
