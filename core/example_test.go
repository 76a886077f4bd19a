package core_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"

	"vmimages/core"
	"vmimages/core/catalog"
)

// ExampleManager_Pull is the README's "Using the core from Go" program; it
// has no Output line, so it is compiled but not run (it would reach the
// internet). TestReadmeExample keeps the two the same.
func ExampleManager_Pull() {
	ctx := context.Background()
	// Logger is optional: it receives what -v prints (requests and decisions).
	m, err := core.Open(ctx, core.Options{CacheDir: "/tmp/vm-cache", Logger: slog.Default()})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()
	job := m.Pull(ctx, catalog.Ref{Distro: "ubuntu", Version: "24.04", Arch: "x86_64"}, core.PullOptions{})
	img, err := job.Wait(ctx) // job.Snapshot() gives progress meanwhile
	if err != nil {
		log.Fatal(err) // errors.Is(err, core.ErrIntegrity): the bytes could not be proven
	}
	fmt.Println(img.Kernel, img.Initramfs, img.Disk)
}

// TestReadmeExample checks that the body of main in the README's Go example
// is the body of ExampleManager_Pull, line for line.
func TestReadmeExample(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)## Using the core from Go.*?```go\n(.*?)```").FindSubmatch(readme)
	if m == nil {
		t.Fatal(`the README has no Go block under "Using the core from Go"`)
	}
	src, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	readmeBody := funcBody(t, string(m[1]), "func main() {")
	exampleBody := funcBody(t, string(src), "func ExampleManager_Pull() {")
	if readmeBody != exampleBody {
		t.Errorf("README example and ExampleManager_Pull differ:\nREADME:\n%s\nexample_test.go:\n%s", readmeBody, exampleBody)
	}
	for _, imp := range []string{`"vmimages/core"`, `"vmimages/core/catalog"`, `"log/slog"`} {
		if !strings.Contains(string(m[1]), imp) {
			t.Errorf("the README example does not import %s", imp)
		}
	}
}

// funcBody returns the lines of the function starting at header up to its
// closing brace, each trimmed.
func funcBody(t *testing.T, src, header string) string {
	t.Helper()
	i := strings.Index(src, header)
	if i < 0 {
		t.Fatalf("%q not found", header)
	}
	var out []string
	for _, l := range strings.Split(src[i+len(header):], "\n") {
		if l == "}" {
			return strings.Join(out, "\n")
		}
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	t.Fatalf("no end of %q", header)
	return ""
}
