package cli_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmimages/cli"
	"vmimages/internal/mirrortest"
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

// TestSymlinkedParentCreatesNothingOutside: images/, images/<distro> or
// images/<distro>/<version> planted as a symbolic link to a folder outside
// the cache makes a pull fail naming the link, with nothing created where
// it points; list and verify then agree that the image is not cached.
func TestSymlinkedParentCreatesNothingOutside(t *testing.T) {
	t.Parallel()
	srv, _ := debianMirror(t)
	for _, linked := range []string{"images", "images/debian", "images/debian/13"} {
		t.Run(strings.ReplaceAll(linked, "/", "_"), func(t *testing.T) {
			t.Parallel()
			env := procEnv(t)
			cacheDir := t.TempDir()
			outside := t.TempDir()
			link := filepath.Join(cacheDir, linked)
			if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(outside, link); err != nil {
				t.Fatal(err)
			}
			p := startProc(t, env, "pull", "debian", "13", "--arch", "amd64", "--cache-dir", cacheDir, "--mirror", "debian="+srv.URL+"/debian/")
			if code := p.wait(t, 60*time.Second); code == 0 || !strings.Contains(p.stderr.String(), "symbolic link") {
				t.Errorf("pull through a linked %s exited %d; want a failure naming the link\nstderr:\n%s", linked, code, p.stderr)
			}
			if names := dirNames(t, outside); len(names) != 0 {
				t.Errorf("the pull created %v outside the cache", names)
			}
			if images := listJSON(t, env, cacheDir); len(images) != 0 {
				t.Errorf("list = %v, want no images", images)
			}
			p = startProc(t, env, "verify", "debian", "13", "--arch", "amd64", "--cache-dir", cacheDir)
			code := p.wait(t, 30*time.Second)
			if code == 0 || !strings.Contains(p.stderr.String(), "not in cache") {
				t.Errorf("verify exited %d; want it to agree with list that the image is not cached\nstdout:\n%s\nstderr:\n%s", code, p.stdout, p.stderr)
			}
		})
	}
}

// TestConversionKeepsAnUpdatesParts: converting the pinned build (convert,
// or a plain pull --raw) while an interrupted `pull --update` has a partial
// download of the next build keeps that part, and the update, run again,
// resumes it rather than starting from zero.
func TestConversionKeepsAnUpdatesParts(t *testing.T) {
	t.Parallel()
	qcow := qcow2Disk(t)
	for _, how := range [][]string{{"convert"}, {"pull", "--raw"}} {
		t.Run(strings.Join(how, "_"), func(t *testing.T) {
			t.Parallel()
			mirror := mirrortest.New(t)
			mirror.AddDebian("/debian", "12", "bookworm", debianOldBuild, "amd64", qcow)
			env := procEnv(t)
			cacheDir := t.TempDir()
			imgDir := filepath.Join(cacheDir, "images", "debian", "12", "x86_64")
			part := filepath.Join(imgDir, ".partial", "disk.qcow2.part")
			run := func(base string, args ...string) *proc {
				return startProc(t, env, append(args, "debian", "12", "--arch", "amd64",
					"--cache-dir", cacheDir, "--mirror", "debian="+base+"/debian/")...)
			}
			if p := run(mirror.URL, "pull"); p.wait(t, 60*time.Second) != 0 {
				t.Fatalf("first pull failed\nstderr:\n%s", p.stderr)
			}

			newDisk := mirrortest.Payload("bookworm-new-8MiB", 8<<20)
			mirror.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", newDisk)
			f := servePaced(t, mirror, debianDiskPath("12", "bookworm", debianBuild), newDisk, 15*time.Millisecond)
			p := run(f.URL, "pull", "--update")
			waitForSize(t, p, part, 1<<20)
			if err := p.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			p.wait(t, 10*time.Second)
			partSize := fileSize(t, part)

			if p := run(f.URL, how...); p.wait(t, 60*time.Second) != 0 {
				t.Fatalf("%v of the pinned build failed\nstderr:\n%s", how, p.stderr)
			}
			if _, err := os.Stat(filepath.Join(imgDir, "disk.raw")); err != nil {
				t.Errorf("%v made no disk.raw: %v", how, err)
			}
			if got := fileSize(t, part); got != partSize {
				t.Fatalf("%v changed the update's part from %d to %d bytes", how, partSize, got)
			}
			if _, err := os.Stat(part + ".json"); err != nil {
				t.Fatalf("%v removed the update's sidecar: %v", how, err)
			}

			f.setPause(0)
			from := f.count()
			if p := run(f.URL, "pull", "--update"); p.wait(t, 60*time.Second) != 0 {
				t.Fatalf("update failed\nstderr:\n%s", p.stderr)
			}
			checkResumed(t, f, f.requests(t, from), partSize)
			if got, _ := os.ReadFile(filepath.Join(imgDir, "disk.qcow2")); !bytes.Equal(got, newDisk) {
				t.Error("after the update, disk.qcow2 is not the new build")
			}
		})
	}
}

// TestRepairPullKeepsThePinnedBuild: after a verify found disk.qcow2
// damaged, a plain pull (no --update) fetches the pinned build's disk again
// although a newer build is upstream, and says nothing of switching; when
// upstream no longer has the pinned build it fails saying so (use
// --update), and the cache still holds the pinned build.
func TestRepairPullKeepsThePinnedBuild(t *testing.T) {
	t.Parallel()
	for _, gone := range []bool{false, true} {
		name := "still-upstream"
		if gone {
			name = "gone-upstream"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			mirror := mirrortest.New(t)
			oldDisk := mirrortest.Payload("bookworm-old", 200_000)
			mirror.AddDebian("/debian", "12", "bookworm", debianOldBuild, "amd64", oldDisk)
			env := procEnv(t)
			cacheDir := t.TempDir()
			disk := filepath.Join(cacheDir, "images", "debian", "12", "x86_64", "disk.qcow2")
			run := func(args ...string) *proc {
				return startProc(t, env, append(args, "debian", "12", "--arch", "amd64",
					"--cache-dir", cacheDir, "--mirror", "debian="+mirror.URL+"/debian/")...)
			}
			if p := run("pull"); p.wait(t, 60*time.Second) != 0 {
				t.Fatalf("first pull failed\nstderr:\n%s", p.stderr)
			}
			mirror.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", mirrortest.Payload("bookworm-new", 300_000))
			if gone {
				oldPath := debianDiskPath("12", "bookworm", debianOldBuild)
				mirror.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
					if r.URL.Path == oldPath {
						http.NotFound(w, r)
						return true
					}
					return false
				})
			}
			flipByte(t, disk)
			if p := run("verify"); p.wait(t, 30*time.Second) != cli.ExitIntegrity {
				t.Fatalf("verify of a damaged disk: want exit %d\nstdout:\n%s", cli.ExitIntegrity, p.stdout)
			}

			p := run("pull", "--json")
			code := p.wait(t, 60*time.Second)
			if gone {
				if code == 0 || !strings.Contains(p.stderr.String(), debianOldBuild) || !strings.Contains(p.stderr.String(), "--update") {
					t.Errorf("repair pull of a build gone upstream exited %d; want a failure naming build %s and --update\nstdout:\n%s\nstderr:\n%s",
						code, debianOldBuild, p.stdout, p.stderr)
				}
				images := listJSON(t, env, cacheDir)
				if len(images) != 1 || images[0]["build"] != debianOldBuild || images[0]["state"] != "corrupt" {
					t.Errorf("after the failed repair, list = %v; want build %s, still corrupt", images, debianOldBuild)
				}
				return
			}
			if code != 0 {
				t.Fatalf("repair pull exited %d\nstderr:\n%s", code, p.stderr)
			}
			var doc map[string]any
			if err := json.Unmarshal(p.stdout.Bytes(), &doc); err != nil || doc["build"] != debianOldBuild {
				t.Errorf("repair pull gave %s (%v); want the pinned build %s", p.stdout, err, debianOldBuild)
			}
			if got, _ := os.ReadFile(disk); !bytes.Equal(got, oldDisk) {
				t.Error("disk.qcow2 is not the pinned build's disk after the repair")
			}
			if p := run("verify"); p.wait(t, 30*time.Second) != 0 {
				t.Errorf("verify after the repair failed\nstdout:\n%s", p.stdout)
			}
		})
	}
}

// TestRefusedConversionIsRemembered: a convert (or a pull --raw of the
// cached image) that refuses an altered disk.qcow2 (exit 3) leaves the
// verdict a failed verify would: list shows the image corrupt, and a plain
// pull fetches the disk again rather than handing out the altered one.
func TestRefusedConversionIsRemembered(t *testing.T) {
	t.Parallel()
	qcow := qcow2Disk(t)
	for _, how := range [][]string{{"convert"}, {"pull", "--raw"}} {
		t.Run(strings.Join(how, "_"), func(t *testing.T) {
			t.Parallel()
			mirror := mirrortest.New(t)
			mirror.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", qcow)
			env := procEnv(t)
			cacheDir := t.TempDir()
			disk := filepath.Join(cacheDir, "images", "debian", "12", "x86_64", "disk.qcow2")
			run := func(args ...string) *proc {
				return startProc(t, env, append(args, "debian", "12", "--arch", "amd64",
					"--cache-dir", cacheDir, "--mirror", "debian="+mirror.URL+"/debian/")...)
			}
			if p := run("pull"); p.wait(t, 60*time.Second) != 0 {
				t.Fatalf("first pull failed\nstderr:\n%s", p.stderr)
			}
			flipByte(t, disk)
			if p := run(how...); p.wait(t, 60*time.Second) != cli.ExitIntegrity {
				t.Fatalf("%v of an altered disk: want exit %d\nstderr:\n%s", how, cli.ExitIntegrity, p.stderr)
			}
			images := listJSON(t, env, cacheDir)
			if len(images) != 1 || images[0]["state"] != "corrupt" || !strings.Contains(images[0]["reason"].(string), "disk.qcow2") {
				t.Errorf("after a refused conversion, list = %v; want the image corrupt, naming disk.qcow2", images)
			}
			before := mirror.Count(".qcow2")
			if p := run("pull"); p.wait(t, 60*time.Second) != 0 {
				t.Fatalf("pull after the refused conversion failed\nstderr:\n%s", p.stderr)
			}
			if got, _ := os.ReadFile(disk); !bytes.Equal(got, qcow) {
				t.Error("the pull handed out the altered disk")
			}
			if mirror.Count(".qcow2") == before {
				t.Error("the pull did not fetch the disk again")
			}
			if images := listJSON(t, env, cacheDir); len(images) != 1 || images[0]["state"] != "ready" {
				t.Errorf("after the repair, list = %v; want ready", images)
			}
		})
	}
}
