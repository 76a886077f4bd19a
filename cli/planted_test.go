package cli_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// These tests plant files and links in the cache the way an attacker, or a
// careless user, could, and check that a pull never writes outside the
// cache through them.

// TestPlantedPartFileNotWrittenThrough: a part file replaced by a hard link
// to a file outside the cache (its sidecar kept, so it looks resumable) is
// discarded, not appended to: the pull starts from zero and the outside
// file keeps its bytes. A symbolic link in its place is discarded the same
// way.
func TestPlantedPartFileNotWrittenThrough(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"hardlink", "symlink"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := slowDebian(t)
			env := procEnv(t)
			cacheDir := t.TempDir()
			args := []string{"pull", "debian", "12", "--arch", "amd64", "--cache-dir", cacheDir, "--mirror", "debian=" + f.URL + "/debian/"}
			imgDir := filepath.Join(cacheDir, "images", "debian", "12", "x86_64")
			part := filepath.Join(imgDir, ".partial", "disk.qcow2.part")

			p := startProc(t, env, args...)
			waitForSize(t, p, part, 1<<20)
			if err := p.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			p.wait(t, 10*time.Second)
			if _, err := os.Stat(part + ".json"); err != nil {
				t.Fatalf("no sidecar after the killed pull: %v", err)
			}

			// The victim lives beside the cache, on the same file system.
			victim := filepath.Join(filepath.Dir(cacheDir), filepath.Base(cacheDir)+"-outside.txt")
			t.Cleanup(func() { os.Remove(victim) })
			content := []byte("nothing to append.\n")
			if err := os.WriteFile(victim, content, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Remove(part); err != nil {
				t.Fatal(err)
			}
			link := os.Link
			if kind == "symlink" {
				link = os.Symlink
			}
			if err := link(victim, part); err != nil {
				t.Fatal(err)
			}

			f.setPause(0)
			from := f.count()
			p = startProc(t, env, args...)
			if code := p.wait(t, 60*time.Second); code != 0 {
				t.Fatalf("pull after the planted part exited %d\nstderr:\n%s", code, p.stderr)
			}
			if got, err := os.ReadFile(victim); err != nil || !bytes.Equal(got, content) {
				t.Errorf("the file outside the cache changed: %d bytes (err %v), want %q", len(got), err, content)
			}
			if got, err := os.ReadFile(filepath.Join(imgDir, "disk.qcow2")); err != nil || !bytes.Equal(got, f.data) {
				t.Errorf("disk differs from the mirror's bytes (err %v)", err)
			}
			for _, r := range f.requests(t, from) {
				if r.rng != "" {
					t.Errorf("the pull resumed a planted part: %+v; want a download from zero", r)
				}
			}
		})
	}
}
