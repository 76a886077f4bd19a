package download

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// LogTransport wraps next so that every request it carries is logged to log
// at Info level once its body is read to the end, closed, or the request
// fails: method, URL, status, body bytes received, time taken and attempt
// (how many times this transport has sent that method and URL; 2 and more
// are retries and resumes). Each redirect hop is a request of its own.
func LogTransport(log *slog.Logger, next http.RoundTripper) http.RoundTripper {
	return &logTransport{log: log, next: next, attempts: map[string]int{}}
}

type logTransport struct {
	log  *slog.Logger
	next http.RoundTripper

	mu       sync.Mutex
	attempts map[string]int
}

// RoundTrip implements http.RoundTripper.
func (t *logTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.mu.Lock()
	k := req.Method + " " + req.URL.String()
	t.attempts[k]++
	attempt := t.attempts[k]
	t.mu.Unlock()

	attrs := []slog.Attr{slog.String("method", req.Method), slog.String("url", req.URL.Redacted()), slog.Int("attempt", attempt)}
	if r := req.Header.Get("Range"); r != "" {
		attrs = append(attrs, slog.String("range", r))
	}
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		t.log.LogAttrs(req.Context(), slog.LevelInfo, "http request failed",
			append(attrs, slog.Duration("time", time.Since(start)), slog.String("error", err.Error()))...)
		return nil, err
	}
	attrs = append(attrs, slog.Int("status", resp.StatusCode))
	resp.Body = &loggedBody{ReadCloser: resp.Body, ctx: req.Context(), log: t.log, attrs: attrs, start: start}
	return resp, nil
}

// loggedBody counts the bytes read and logs the request once.
type loggedBody struct {
	io.ReadCloser
	ctx   context.Context
	log   *slog.Logger
	attrs []slog.Attr
	start time.Time
	n     atomic.Int64
	once  sync.Once
}

func (b *loggedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	if err == io.EOF {
		b.done(nil)
	} else if err != nil {
		b.done(err)
	}
	return n, err
}

func (b *loggedBody) Close() error {
	err := b.ReadCloser.Close()
	b.done(nil)
	return err
}

func (b *loggedBody) done(err error) {
	b.once.Do(func() {
		attrs := append(b.attrs, slog.Int64("bytes", b.n.Load()), slog.Duration("time", time.Since(b.start)))
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		b.log.LogAttrs(b.ctx, slog.LevelInfo, "http request", attrs...)
	})
}
