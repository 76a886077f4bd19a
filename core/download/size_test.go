package download

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// TestSize: Size asks with HEAD, with the client's user agent, reads the
// length the server gives, and reports a missing file as a StatusError.
func TestSize(t *testing.T) {
	var mu sync.Mutex
	var methods, agents []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		methods = append(methods, r.Method)
		agents = append(agents, r.UserAgent())
		switch r.URL.Path {
		case "/disk.qcow2":
			w.Header().Set("Content-Length", "3000000")
		case "/chunked":
			w.Header().Set("Transfer-Encoding", "chunked")
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := testClient(Options{UserAgent: "vmimages/test"})
	for _, tc := range []struct {
		path string
		want int64
		code int
	}{
		{"/disk.qcow2", 3000000, 0},
		{"/chunked", -1, 0},
		{"/gone", -1, 404},
	} {
		n, err := c.Size(context.Background(), srv.URL+tc.path)
		var se *StatusError
		switch {
		case tc.code != 0 && (!errors.As(err, &se) || se.Code != tc.code):
			t.Errorf("%s: err %v, want a %d StatusError", tc.path, err, tc.code)
		case tc.code == 0 && (err != nil || n != tc.want):
			t.Errorf("%s: %d, %v; want %d", tc.path, n, err, tc.want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(methods) != 3 {
		t.Fatalf("%d requests, want 3", len(methods))
	}
	for i := range methods {
		if methods[i] != http.MethodHead || agents[i] != "vmimages/test" {
			t.Errorf("request %d: %s with agent %q, want HEAD with vmimages/test", i, methods[i], agents[i])
		}
	}
}
