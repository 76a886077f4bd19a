package download

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"vmimages/core/manifest"
)

// TestBenchFetchVsCurl compares Fetch (transfer + SHA-256 verification) with
// a bare curl of the same file from the same loopback server, and reports
// Fetch's peak RSS. It runs only when VMIMAGES_BENCH_BYTES is set, e.g.
//
//	VMIMAGES_BENCH_BYTES=1073741824 go test -run BenchFetchVsCurl -v ./core/download
func TestBenchFetchVsCurl(t *testing.T) {
	size, _ := strconv.ParseInt(os.Getenv("VMIMAGES_BENCH_BYTES"), 10, 64)
	if size <= 0 {
		t.Skip("set VMIMAGES_BENCH_BYTES to run")
	}
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not found")
	}
	runs := 3
	if n, _ := strconv.Atoi(os.Getenv("VMIMAGES_BENCH_RUNS")); n > 0 {
		runs = n
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "disk.img")
	digest := writeBenchFile(t, src, size)
	srv := httptest.NewServer(http.FileServer(http.Dir(filepath.Dir(src))))
	defer srv.Close()
	url := srv.URL + "/disk.img"
	c := New(Options{})

	// Wall time is what users feel, but on a loaded machine it is noisy;
	// CPU time (client and server together) is the steadier comparison.
	var curls, fetches, curlCPU, fetchCPU []time.Duration
	var peak int64
	for i := range runs {
		out := filepath.Join(dir, "curl.img")
		cpu0 := selfCPU()
		start := time.Now()
		cmd := exec.Command(curl, "-sS", "-o", out, url)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("curl: %v %s", err, b)
		}
		curls = append(curls, time.Since(start))
		curlCPU = append(curlCPU, selfCPU()-cpu0+cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		os.Remove(out)

		dest := filepath.Join(dir, "fetch"+strconv.Itoa(i)+".img")
		resetPeakRSS()
		cpu0 = selfCPU()
		start = time.Now()
		if _, err := c.Fetch(context.Background(), Request{URL: url, Dest: dest, Part: partOf(dest), Digest: digest, Size: size}, nil); err != nil {
			t.Fatal(err)
		}
		fetches = append(fetches, time.Since(start))
		fetchCPU = append(fetchCPU, selfCPU()-cpu0)
		peak = max(peak, peakRSS())
		os.Remove(dest)
	}
	mc, mf := median(curls), median(fetches)
	t.Logf("%d bytes, %d runs: curl median %v (%.0f MB/s), Fetch+sha256 median %v (%.0f MB/s), wall ratio %.2f, Fetch peak RSS %d MiB",
		size, runs, mc, float64(size)/mc.Seconds()/1e6, mf, float64(size)/mf.Seconds()/1e6, mf.Seconds()/mc.Seconds(), peak>>20)
	t.Logf("CPU (client+server): curl median %v, Fetch median %v", median(curlCPU), median(fetchCPU))
	t.Logf("wall: curl %v; Fetch %v", curls, fetches)
}

// selfCPU is this process's user+system time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func writeBenchFile(t *testing.T, path string, size int64) manifest.Digest {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	block := testBytes(1<<20, 99)
	w := io.MultiWriter(f, h)
	for left := size; left > 0; left -= int64(len(block)) {
		block[0]++ // no two blocks alike
		if _, err := w.Write(block[:min(int64(len(block)), left)]); err != nil {
			t.Fatal(err)
		}
	}
	return manifest.Digest{Algorithm: manifest.SHA256, Hex: hex.EncodeToString(h.Sum(nil))}
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// resetPeakRSS resets VmHWM (Linux only; a no-op elsewhere).
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// peakRSS reads VmHWM in bytes, or 0 when unknown.
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(v), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}
