package download

import (
	"context"
	"hash"
	"io"
	"net/http"
	"sync/atomic"
)

// Streaming verification. grab writes the body straight into the part file
// and offers no writer hook, but it reads the body through the HTTPClient we
// hand it. teeClient wraps each GET body so that every byte grab reads is
// also copied into a small ring of buffers consumed by a hashing goroutine.
// Hashing thus runs on another core while grab waits on the network and the
// disk, the file is never read back, and memory stays at pipeBuffers ×
// pipeBufferSize however large the file.

const (
	pipeBufferSize = 1 << 20
	pipeBuffers    = 4
)

// hashState is a running hash over the first n bytes of a part file.
type hashState struct {
	h hash.Hash
	n int64
}

func (s *hashState) reset() {
	s.h.Reset()
	s.n = 0
}

// hashPipe feeds bytes to a hashState from another goroutine.
type hashPipe struct {
	ctx  context.Context
	st   *hashState
	full chan []byte
	free chan []byte
	cur  []byte
	done chan struct{}
}

func newHashPipe(ctx context.Context, st *hashState) *hashPipe {
	p := &hashPipe{
		ctx:  ctx,
		st:   st,
		full: make(chan []byte, pipeBuffers),
		free: make(chan []byte, pipeBuffers),
		done: make(chan struct{}),
	}
	for range pipeBuffers {
		p.free <- make([]byte, 0, pipeBufferSize)
	}
	go p.run()
	return p
}

func (p *hashPipe) run() {
	defer close(p.done)
	for b := range p.full {
		p.st.h.Write(b)
		p.st.n += int64(len(b))
		p.free <- b[:0]
	}
}

// write queues a copy of b for hashing. It blocks only while all buffers wait
// for the hasher, and fails when the attempt is cancelled.
func (p *hashPipe) write(b []byte) error {
	for len(b) > 0 {
		if p.cur == nil {
			select {
			case p.cur = <-p.free:
			case <-p.ctx.Done():
				return context.Cause(p.ctx)
			}
		}
		k := copy(p.cur[len(p.cur):cap(p.cur)], b)
		p.cur = p.cur[:len(p.cur)+k]
		b = b[k:]
		if len(p.cur) == cap(p.cur) {
			p.full <- p.cur // never blocks: at most pipeBuffers buffers exist
			p.cur = nil
		}
	}
	return nil
}

// finish hashes what is queued and stops the goroutine. Call it only after
// the body's reader is done (grab's Response.Done is closed).
func (p *hashPipe) finish() {
	if len(p.cur) > 0 {
		p.full <- p.cur
		p.cur = nil
	}
	close(p.full)
	<-p.done
}

// teeClient is the grab.HTTPClient of one attempt: it sends requests through
// the Client's http.Client and tees successful GET bodies into a hashPipe.
type teeClient struct {
	inner *http.Client
	pipe  *hashPipe
	read  *atomic.Int64 // body bytes received in this attempt
}

// Do implements grab.HTTPClient.
func (t *teeClient) Do(req *http.Request) (*http.Response, error) {
	resp, err := t.inner.Do(req)
	if err != nil || req.Method != http.MethodGet || resp.StatusCode/100 != 2 {
		return resp, err
	}
	resp.Body = &teeBody{rc: resp.Body, pipe: t.pipe, read: t.read}
	return resp, nil
}

type teeBody struct {
	rc   io.ReadCloser
	pipe *hashPipe
	read *atomic.Int64
}

func (b *teeBody) Read(p []byte) (int, error) {
	n, err := b.rc.Read(p)
	if n > 0 {
		// Bytes that could not be hashed are not handed to grab either, so
		// the hash never misses a byte of the file.
		if werr := b.pipe.write(p[:n]); werr != nil {
			return 0, werr
		}
		b.read.Add(int64(n))
	}
	return n, err
}

func (b *teeBody) Close() error { return b.rc.Close() }
