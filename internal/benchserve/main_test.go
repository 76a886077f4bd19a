package main

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCounterLogsBytesSent(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("0123456789"), 100_000)
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "f.bin"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	srv := httptest.NewServer(&counter{next: http.FileServer(http.Dir(dir)), log: &log})
	defer srv.Close()

	get := func(path, rng string) (int, []byte) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if rng != "" {
			req.Header.Set("Range", rng)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, b
	}
	if code, b := get("/sub/f.bin", ""); code != 200 || !bytes.Equal(b, data) {
		t.Errorf("whole file: %d, %d bytes", code, len(b))
	}
	if code, b := get("/sub/f.bin", "bytes=400000-"); code != 206 || !bytes.Equal(b, data[400000:]) {
		t.Errorf("range: %d, %d bytes", code, len(b))
	}
	if code, b := get("/sub/", ""); code != 200 || !strings.Contains(string(b), `<a href="f.bin">`) {
		t.Errorf("listing: %d %s", code, b)
	}
	srv.Close() // wait for the handlers to log
	want := "GET /sub/f.bin - 200 1000000\nGET /sub/f.bin bytes=400000- 206 600000\n"
	if got := log.String(); !strings.HasPrefix(got, want) || !strings.HasPrefix(strings.TrimPrefix(got, want), "GET /sub/ - 200 ") {
		t.Errorf("log:\n%s\nwant it to start with:\n%s", got, want)
	}
}
