// Command devmirror serves a small local mirror of Debian and CentOS Stream
// cloud images on 127.0.0.1, in the upstream layouts, for
// scripts/screenshots.sh: the window then downloads real bytes, verified
// against real manifests, without the internet. It prints its base URL on
// the first line of stdout and serves until it is killed.
//
//	devmirror -dir DIR [-slow SUBSTRING,...] [-rate BYTES_PER_SECOND]
//
// Files whose path contains one of the -slow substrings are sent at -rate,
// so a download stays in progress long enough to be seen.
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"vmimages/core/units"
	"vmimages/internal/mirrortest"
)

// debian publishes Debian 12 and 13 for amd64 and arm64 the way
// cloud.debian.org does, with a GNU SHA512SUMS per build.
var debian = []struct {
	version, codename, build string
	sizes                    map[string]int
}{
	{"12", "bookworm", "20261020-2634", map[string]int{"amd64": 44 << 20, "arm64": 41 << 20}},
	{"13", "trixie", "20261102-2651", map[string]int{"amd64": 52 << 20, "arm64": 49 << 20}},
}

// centos publishes CentOS Stream 9 and 10 for x86_64 with a BSD CHECKSUM.
var centos = []struct {
	version, build string
	size           int
}{
	{"9", "20261027.0", 38 << 20},
	{"10", "20261030.1", 64 << 20},
}

func main() {
	dir := flag.String("dir", "", "folder to build the mirror in (required)")
	slow := flag.String("slow", "", "comma-separated path substrings to send slowly")
	rate := flag.String("rate", "4M", "bytes per second for slow files")
	flag.Parse()
	if *dir == "" {
		log.Fatal("devmirror: -dir is required")
	}
	bps, err := units.ParseSize(*rate)
	if err != nil || bps <= 0 {
		log.Fatalf("devmirror: -rate: %v", err)
	}
	if err := build(*dir); err != nil {
		log.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()
	var slowParts []string
	for _, s := range strings.Split(*slow, ",") {
		if s = strings.TrimSpace(s); s != "" {
			slowParts = append(slowParts, s)
		}
	}
	files := http.FileServer(http.Dir(*dir))
	log.Fatal(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, s := range slowParts {
			if strings.Contains(r.URL.Path, s) {
				w = &throttled{ResponseWriter: w, bps: bps}
				break
			}
		}
		files.ServeHTTP(w, r)
	})))
}

// build writes the mirror's files under dir.
func build(dir string) error {
	for _, d := range debian {
		sums := map[string][]byte{}
		bdir := filepath.Join(dir, "debian", d.codename, d.build)
		for arch, size := range d.sizes {
			name := fmt.Sprintf("debian-%s-genericcloud-%s-%s.qcow2", d.version, arch, d.build)
			data := mirrortest.Payload(name, size)
			sums[name] = data
			if err := write(filepath.Join(bdir, name), data); err != nil {
				return err
			}
		}
		if err := write(filepath.Join(bdir, "SHA512SUMS"), mirrortest.GNU(false, mirrortest.SHA512, sums)); err != nil {
			return err
		}
	}
	for _, c := range centos {
		name := fmt.Sprintf("CentOS-Stream-GenericCloud-%s-%s.x86_64.qcow2", c.version, c.build)
		data := mirrortest.Payload(name, c.size)
		idir := filepath.Join(dir, "centos", c.version+"-stream", "x86_64", "images")
		if err := write(filepath.Join(idir, name), data); err != nil {
			return err
		}
		if err := write(filepath.Join(idir, "CHECKSUM"), mirrortest.BSD(map[string][]byte{name: data})); err != nil {
			return err
		}
	}
	return nil
}

func write(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, data, 0o644)
}

// throttled sends at most bps bytes per second.
type throttled struct {
	http.ResponseWriter
	bps int64
}

// Write sends p in 16 KiB pieces, pausing to keep the rate.
func (t *throttled) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		chunk := min(len(p), 16<<10)
		m, err := t.ResponseWriter.Write(p[:chunk])
		n += m
		if err != nil {
			return n, err
		}
		if f, ok := t.ResponseWriter.(http.Flusher); ok {
			f.Flush()
		}
		time.Sleep(time.Duration(int64(chunk) * int64(time.Second) / t.bps))
		p = p[chunk:]
	}
	return n, nil
}
