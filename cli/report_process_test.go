package cli_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vmimages/cli"
	"vmimages/core/cache"
)

// These run the real binary: verify and prune report on every image, even
// when some cannot be checked or removed.

// binRun runs the binary to its end and returns what it printed.
func binRun(t *testing.T, env []string, args ...string) result {
	t.Helper()
	p := startProc(t, env, args...)
	code := p.wait(t, 60*time.Second)
	return result{code: code, stdout: p.stdout.String(), stderr: p.stderr.String(), args: args}
}

// verdicts maps "version" to the verdict of each image in a verify document.
func verdicts(t *testing.T, r result) map[string]object {
	t.Helper()
	out := map[string]object{}
	for _, im := range objects(t, r.jsonDoc(t), "images") {
		hasKeys(t, "verify image", im, "distro", "version", "arch", "ok", "verdict", "problems")
		out[im["version"].(string)] = im
	}
	return out
}

func TestVerifyAllGivesEveryVerdict(t *testing.T) {
	t.Parallel()
	srv, disk := debianMirror(t)
	env := procEnv(t)
	cacheDir := t.TempDir()
	common := []string{"--cache-dir", cacheDir, "--mirror", "debian=" + srv.URL + "/debian/"}
	cmd := func(args ...string) result { return binRun(t, env, append(args, common...)...) }
	cmd("pull", "debian", "12", "--arch", "amd64", "-q").ok(t)
	cmd("pull", "debian", "13", "--arch", "amd64", "-q").ok(t)
	imgDir := func(v string) string { return filepath.Join(cacheDir, "images", "debian", v, "x86_64") }

	// 11: a pull in flight (no metadata yet); 13: unreadable metadata;
	// 12: a byte flipped.
	writeFile(t, filepath.Join(imgDir("11"), ".partial", "disk.qcow2.part"), "some bytes")
	writeFile(t, filepath.Join(imgDir("13"), "meta.json"), "{not json")
	flipByte(t, filepath.Join(imgDir("12"), "disk.qcow2"))

	r := cmd("verify", "--json")
	if r.code != cli.ExitIntegrity {
		t.Fatalf("verify with a damaged image: want exit 3 (the worst verdict)\n%s", r)
	}
	got := verdicts(t, r)
	for v, want := range map[string]string{"11": "partial", "12": "damaged", "13": "unreadable"} {
		im, ok := got[v]
		if !ok {
			t.Errorf("debian %s has no verdict\n%s", v, r)
			continue
		}
		if im["verdict"] != want || im["ok"] != false || len(im["problems"].([]any)) == 0 {
			t.Errorf("debian %s: %v, want verdict %s with problems", v, im, want)
		}
	}
	text := cmd("verify")
	for _, want := range []string{"PARTIAL debian 11 x86_64", "FAILED  debian 12 x86_64", "UNREADABLE debian 13 x86_64", "disk.qcow2: sha512 mismatch"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("verify text lacks %q\n%s", want, text)
		}
	}

	// The failed verdict is remembered by a later run.
	list := cmd("list", "--json").ok(t)
	for _, im := range objects(t, list.jsonDoc(t), "images") {
		if im["version"] == "12" && (im["state"] != "corrupt" || !strings.Contains(im["reason"].(string), "failed verification")) {
			t.Errorf("after a failed verify, list says %v", im)
		}
	}

	// Repaired and verified again: ok; the worst verdict left is exit 1.
	flipByte(t, filepath.Join(imgDir("12"), "disk.qcow2"))
	cmd("verify", "debian", "12", "--arch", "amd64").ok(t)
	r = cmd("verify", "--json")
	if r.code != cli.ExitFailure || verdicts(t, r)["12"]["verdict"] != "ok" {
		t.Errorf("want exit 1 (partial, unreadable) and debian 12 ok\n%s", r)
	}

	// Damaged again, then pulled anew: the pull fetches it again.
	flipByte(t, filepath.Join(imgDir("12"), "disk.qcow2"))
	if r := cmd("verify", "debian", "12", "--arch", "amd64"); r.code != cli.ExitIntegrity {
		t.Fatalf("want exit 3\n%s", r)
	}
	cmd("pull", "debian", "12", "--arch", "amd64", "-q").ok(t)
	if b, err := os.ReadFile(filepath.Join(imgDir("12"), "disk.qcow2")); err != nil || !bytes.Equal(b, disk) {
		t.Errorf("pull after a failed verify kept the damaged disk (%v)", err)
	}
}

func TestPruneReportsImagesInUse(t *testing.T) {
	t.Parallel()
	srv, _ := debianMirror(t)
	env := procEnv(t)
	cacheDir := t.TempDir()
	common := []string{"--cache-dir", cacheDir, "--mirror", "debian=" + srv.URL + "/debian/"}
	cmd := func(args ...string) result { return binRun(t, env, append(args, common...)...) }
	cmd("pull", "debian", "12", "--arch", "amd64", "-q").ok(t)
	cmd("pull", "debian", "13", "--arch", "amd64", "-q").ok(t)

	// Another vmimages holds debian 13 (as a pull or conversion does).
	c, err := cache.Open(cacheDir)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := c.Lock(context.Background(), cache.Key{Distro: "debian", Version: "13", Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	r := cmd("prune", "--max-size", "1")
	if r.code != cli.ExitOK {
		t.Fatalf("prune with an image in use: want exit 0\n%s", r)
	}
	for _, want := range []string{"removed debian 12 x86_64", "kept debian 13 x86_64", "in use", "1 image(s) removed"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("prune report lacks %q\n%s", want, r)
		}
	}

	cmd("pull", "debian", "12", "--arch", "amd64", "-q").ok(t)
	r = cmd("prune", "--max-size", "1", "--json")
	if r.code != cli.ExitOK {
		t.Fatalf("prune --json with an image in use: want exit 0\n%s", r)
	}
	doc := r.jsonDoc(t)
	hasKeys(t, "prune", doc, "removed", "kept", "freed_bytes", "dry_run")
	removed, kept := objects(t, doc, "removed"), objects(t, doc, "kept")
	if len(removed) != 1 || removed[0]["version"] != "12" || num(t, doc, "freed_bytes") <= 0 {
		t.Errorf("removed = %v", removed)
	}
	if len(kept) != 1 || kept[0]["version"] != "13" || kept[0]["reason"] != "in use" {
		t.Errorf("kept = %v", kept)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "images", "debian", "13", "x86_64", "disk.qcow2")); err != nil {
		t.Errorf("the image in use was touched: %v", err)
	}
}
