// Command benchserve serves a directory over HTTP on a loopback address for
// scripts/bench.sh. It is http.FileServer — Range, If-Range, ETag-less
// Last-Modified validators and directory listings included — plus a log of
// the body bytes sent for each request, so the benchmark can tell how much a
// resumed pull really transferred. It prints its base URL on stdout, then
// serves until it receives SIGINT or SIGTERM.
//
//	go run ./internal/benchserve -dir D [-addr 127.0.0.1:0] [-log FILE]
//
// Each log line is "METHOD PATH RANGE STATUS BYTES", RANGE being "-" when
// the request had none.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

func main() {
	dir := flag.String("dir", ".", "directory to serve")
	addr := flag.String("addr", "127.0.0.1:0", "listen address")
	logPath := flag.String("log", "", "append one line per request to this `FILE`")
	flag.Parse()

	var logw io.Writer = io.Discard
	if *logPath != "" {
		f, err := os.OpenFile(*logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		defer f.Close()
		logw = f
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	os.Stdout.Sync()

	srv := &http.Server{Handler: &counter{next: http.FileServer(http.Dir(*dir)), log: logw}}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// counter logs the body bytes written for each request.
type counter struct {
	next http.Handler
	mu   sync.Mutex
	log  io.Writer
}

func (c *counter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
	c.next.ServeHTTP(cw, r)
	rng := r.Header.Get("Range")
	if rng == "" {
		rng = "-"
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.log, "%s %s %s %d %d\n", r.Method, r.URL.Path, rng, cw.status, cw.n)
}

// countingWriter counts body bytes. It keeps the ResponseWriter's ReadFrom
// so that the file server still uses sendfile: the benchmark must not slow
// the server down.
type countingWriter struct {
	http.ResponseWriter
	status int
	n      int64
}

func (w *countingWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}

func (w *countingWriter) ReadFrom(r io.Reader) (int64, error) {
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	if !ok {
		n, err := io.Copy(struct{ io.Writer }{w}, r)
		return n, err
	}
	n, err := rf.ReadFrom(r)
	w.n += n
	return n, err
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
