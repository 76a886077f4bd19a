package cli_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"vmimages/internal/mirrortest"
)

// These tests run the real binary as a subprocess: what a user sees when a
// pull is killed or interrupted and run again.

// pacedFile serves one file of a mirror from a server in front of it, with
// http.ServeContent — so HEAD, Range ("bytes=N-" → 206 with Content-Range),
// If-Range against the ETag and Accept-Ranges behave like a real server —
// writing the body in 32 KiB pieces with a pause after each while the pause
// is set. Every other path goes to the mirror. It logs every request for the
// file with the body bytes it was sent.
//
// A front server rather than the mirror's Fault hook: the hook is a plain
// field, and the race detector (rightly) sees no ordering between setting it
// and a subprocess's requests.
type pacedFile struct {
	*httptest.Server
	path string
	data []byte
	etag string
	mod  time.Time

	mu     sync.Mutex
	pause  time.Duration
	delays map[string]time.Duration // before answering these paths
	log    []served
}

// served is one request for the file.
type served struct {
	method, rng, ifRange string
	status               int
	bytes                int64 // body bytes written to the client
	done                 bool  // the handler returned
}

const pacedChunk = 32 << 10

// servePaced puts data at p on the mirror and returns the server to use
// instead of the mirror.
func servePaced(t *testing.T, mirror *mirrortest.Server, p string, data []byte, pause time.Duration) *pacedFile {
	t.Helper()
	f := &pacedFile{path: p, data: data, etag: `"` + mirrortest.SHA256(data)[:16] + `"`,
		mod: time.Date(2026, 8, 10, 0, 0, 0, 0, time.UTC), pause: pause, delays: map[string]time.Duration{}}
	mirror.Put(p, data) // for the manifest and the listing
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		d := f.delays[r.URL.Path]
		f.mu.Unlock()
		time.Sleep(d)
		if r.URL.Path == f.path {
			f.serve(w, r)
			return
		}
		mirror.Config.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(f.Close)
	return f
}

// delay makes the server wait d before answering requests for path p.
func (f *pacedFile) delay(p string, d time.Duration) {
	f.mu.Lock()
	f.delays[p] = d
	f.mu.Unlock()
}

func (f *pacedFile) setPause(d time.Duration) {
	f.mu.Lock()
	f.pause = d
	f.mu.Unlock()
}

func (f *pacedFile) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	i := len(f.log)
	f.log = append(f.log, served{method: r.Method, rng: r.Header.Get("Range"), ifRange: r.Header.Get("If-Range")})
	pw := &pacedWriter{ResponseWriter: w, ctx: r.Context(), pause: f.pause, status: http.StatusOK}
	f.mu.Unlock()
	w.Header().Set("ETag", f.etag)
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(pw, r, path.Base(f.path), f.mod, bytes.NewReader(f.data))
	f.mu.Lock()
	f.log[i].status, f.log[i].bytes, f.log[i].done = pw.status, pw.n, true
	f.mu.Unlock()
}

// requests returns the log from index from on, once every handler in it
// has returned (a client may exit before its handler notices).
func (f *pacedFile) requests(t *testing.T, from int) []served {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.mu.Lock()
		out := append([]served(nil), f.log[min(from, len(f.log)):]...)
		f.mu.Unlock()
		pending := false
		for _, s := range out {
			pending = pending || !s.done
		}
		if !pending || time.Now().After(deadline) {
			return out
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (f *pacedFile) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.log)
}

type pacedWriter struct {
	http.ResponseWriter
	ctx    context.Context
	pause  time.Duration
	status int
	n      int64
}

func (w *pacedWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *pacedWriter) Write(b []byte) (int, error) {
	written := 0
	for len(b) > 0 {
		k := min(len(b), pacedChunk)
		n, err := w.ResponseWriter.Write(b[:k])
		written += n
		w.n += int64(n)
		if err != nil {
			return written, err
		}
		b = b[k:]
		if w.pause > 0 {
			w.ResponseWriter.(http.Flusher).Flush()
			select {
			case <-time.After(w.pause):
			case <-w.ctx.Done():
				return written, w.ctx.Err()
			}
		}
	}
	return written, nil
}

// TestPacedFileServesRanges checks the test server itself: a range request
// with the right If-Range gets 206 and the tail, a stale If-Range the whole
// file.
func TestPacedFileServesRanges(t *testing.T) {
	t.Parallel()
	data := mirrortest.Payload("ranges", 100_000)
	f := servePaced(t, mirrortest.New(t), "/f.bin", data, 0)
	srv := f.Server
	get := func(rng, ifRange string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/f.bin", nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		if ifRange != "" {
			req.Header.Set("If-Range", ifRange)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp, b.Bytes()
	}
	resp, body := get("bytes=60000-", f.etag)
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != "bytes 60000-99999/100000" ||
		resp.Header.Get("ETag") != f.etag || !bytes.Equal(body, data[60000:]) {
		t.Errorf("range with matching If-Range: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Range"), len(body))
	}
	resp, body = get("bytes=60000-", `"stale"`)
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
		t.Errorf("range with stale If-Range: %d, %d bytes; want 200 and the whole file", resp.StatusCode, len(body))
	}
	log := f.requests(t, 0)
	if len(log) != 2 || log[0].bytes != 40000 || log[0].status != 206 || log[1].bytes != 100000 || log[1].status != 200 {
		t.Errorf("log = %+v", log)
	}
}

// procEnv is a clean environment for the binary: its own XDG folders, no
// VMIMAGES_* settings, no proxies or extra certificates, and LANG=C.UTF-8, the locale of Docker and CI images
// (Fyne's start-up once logged errors under it; wait fails on such lines).
func procEnv(t *testing.T) []string {
	t.Helper()
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "VMIMAGES_") || strings.HasPrefix(k, "XDG_") || k == "LANG" || k == "LANGUAGE" || strings.HasPrefix(k, "LC_") ||
			strings.HasSuffix(strings.ToUpper(k), "_PROXY") || strings.Contains(k, "SSL_CERT_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "LANG=C.UTF-8",
		"XDG_CONFIG_HOME="+filepath.Join(home, "config"),
		"XDG_CACHE_HOME="+filepath.Join(home, "xdg-cache"))
}

// proc is a running vmimages.
type proc struct {
	cmd            *exec.Cmd
	stdout, stderr *bytes.Buffer
	done           chan struct{}
	err            error
}

func startProc(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{cmd: exec.Command(vmimagesBinary(t), args...), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait waits for the process to exit and returns its exit code (-1 when a
// signal killed it).
func (p *proc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(limit):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("vmimages %v still running after %s\nstderr:\n%s", p.cmd.Args[1:], limit, p.stderr)
	}
	var ee *exec.ExitError
	if p.err != nil && !errors.As(p.err, &ee) {
		t.Fatal(p.err)
	}
	checkNoStray(t, p.stderr.String())
	return p.cmd.ProcessState.ExitCode()
}

// waitForSize waits until path holds at least n bytes, failing if the
// process exits first.
func waitForSize(t *testing.T, p *proc, path string, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if fi, err := os.Stat(path); err == nil && fi.Size() >= n {
			return
		}
		select {
		case <-p.done:
			t.Fatalf("vmimages exited before %s reached %d bytes: %v\nstderr:\n%s", path, n, p.err, p.stderr)
		case <-time.After(5 * time.Millisecond):
		}
	}
	t.Fatalf("%s did not reach %d bytes in time\nstderr:\n%s", path, n, p.stderr)
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// slowDebian serves an 8 MiB Debian 12 disk at about 2 MiB/s.
func slowDebian(t *testing.T) *pacedFile {
	t.Helper()
	mirror := mirrortest.New(t)
	disk := mirrortest.Payload("bookworm-8MiB", 8<<20)
	mirror.AddDebian("/debian", "12", "bookworm", debianBuild, "amd64", disk)
	return servePaced(t, mirror, debianDiskPath("12", "bookworm", debianBuild), disk, 15*time.Millisecond)
}

// checkResumed asserts that the requests of a run fetched exactly the
// missing tail of the file, from partSize on, guarded by If-Range.
func checkResumed(t *testing.T, f *pacedFile, reqs []served, partSize int64) {
	t.Helper()
	var sent int64
	ranged := false
	for _, r := range reqs {
		sent += r.bytes
		if r.method != http.MethodGet {
			continue
		}
		if r.rng == fmt.Sprintf("bytes=%d-", partSize) && r.ifRange == f.etag && r.status == http.StatusPartialContent {
			ranged = true
		} else {
			t.Errorf("unexpected request %+v, want Range bytes=%d- with If-Range %s", r, partSize, f.etag)
		}
	}
	if !ranged {
		t.Errorf("no range request from %d: %+v", partSize, reqs)
	}
	if want := int64(len(f.data)) - partSize; sent != want {
		t.Errorf("the resumed run was sent %d bytes, want size − partial = %d", sent, want)
	}
}

func TestKilledPullResumes(t *testing.T) {
	t.Parallel()
	srv := slowDebian(t)
	f := srv
	env := procEnv(t)
	cacheDir := t.TempDir()
	args := []string{"pull", "debian", "12", "--arch", "amd64", "--cache-dir", cacheDir, "--mirror", "debian=" + srv.URL + "/debian/"}
	imgDir := filepath.Join(cacheDir, "images", "debian", "12", "x86_64")
	part := filepath.Join(imgDir, ".partial", "disk.qcow2.part")

	p := startProc(t, env, args...)
	waitForSize(t, p, part, 2<<20)
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL: no chance to clean up
		t.Fatal(err)
	}
	if code := p.wait(t, 10*time.Second); code != -1 {
		t.Fatalf("killed pull exited %d", code)
	}
	partSize := fileSize(t, part)
	if partSize < 2<<20 || partSize >= int64(len(f.data)) {
		t.Fatalf("partial file holds %d bytes, want at least 2 MiB and less than %d", partSize, len(f.data))
	}
	if _, err := os.Stat(part + ".json"); err != nil {
		t.Fatalf("the partial file's sidecar is gone: %v", err)
	}

	f.setPause(0)
	firstRun := f.count()
	p = startProc(t, env, args...)
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("resumed pull exited %d\nstderr:\n%s", code, p.stderr)
	}
	got, err := os.ReadFile(filepath.Join(imgDir, "disk.qcow2"))
	if err != nil || !bytes.Equal(got, f.data) {
		t.Fatalf("disk differs from the mirror's bytes (err %v)", err)
	}
	checkResumed(t, f, f.requests(t, firstRun), partSize)
	if _, err := os.Stat(part); !os.IsNotExist(err) {
		t.Errorf("partial file left after success: %v", err)
	}
	if !strings.Contains(p.stdout.String(), "disk.qcow2") {
		t.Errorf("result lacks the disk path:\n%s", p.stdout)
	}
}

func TestInterruptedPullSaysHowToResume(t *testing.T) {
	t.Parallel()
	srv := slowDebian(t)
	f := srv
	env := procEnv(t)
	cacheDir := t.TempDir()
	args := []string{"pull", "debian", "12", "--arch", "amd64", "--cache-dir", cacheDir, "--mirror", "debian=" + srv.URL + "/debian/"}
	part := filepath.Join(cacheDir, "images", "debian", "12", "x86_64", ".partial", "disk.qcow2.part")

	p := startProc(t, env, args...)
	waitForSize(t, p, part, 1<<20)
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	code := p.wait(t, 10*time.Second)
	stderr := p.stderr.String()
	if code == 0 || code == -1 {
		t.Fatalf("interrupted pull exited %d, want a failure code\nstderr:\n%s", code, stderr)
	}
	for _, want := range []string{"interrupted", "Run the same command again to resume", "vmimages pull debian 12 --arch x86_64"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if p.stdout.Len() != 0 {
		t.Errorf("an interrupted pull printed a result: %s", p.stdout)
	}
	partSize := fileSize(t, part)
	if partSize < 1<<20 {
		t.Fatalf("partial file holds %d bytes after the interrupt, want at least 1 MiB", partSize)
	}
	if _, err := os.Stat(part + ".json"); err != nil {
		t.Errorf("sidecar gone after the interrupt: %v", err)
	}

	// The command it suggests resumes.
	f.setPause(0)
	from := f.count()
	p = startProc(t, env, "pull", "debian", "12", "--arch", "x86_64", "--cache-dir", cacheDir, "--mirror", "debian="+srv.URL+"/debian/")
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("resumed pull exited %d\nstderr:\n%s", code, p.stderr)
	}
	checkResumed(t, f, f.requests(t, from), partSize)
}

// TestServerDown: a mirror whose port is closed fails with exit 1 and an
// error naming the URL. The client retries first (about 30 s), so this runs
// as a subprocess, in parallel with the other slow tests.
func TestServerDown(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String() + "/debian/"
	ln.Close()
	p := startProc(t, procEnv(t), "resolve", "debian", "12", "--arch", "amd64", "--cache-dir", t.TempDir(), "--mirror", "debian="+base)
	code := p.wait(t, 90*time.Second)
	stderr := p.stderr.String()
	if code != 1 {
		t.Fatalf("exit %d, want 1\nstderr:\n%s", code, stderr)
	}
	for _, want := range []string{base + "bookworm/", "connection refused"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}
