package download

import (
	"context"
	"sync"
)

// semaphore is a FIFO counting semaphore whose limit can change while it is
// in use (SetParallel).
type semaphore struct {
	mu      sync.Mutex
	limit   int
	active  int
	waiters []chan struct{}
}

func newSemaphore(limit int) *semaphore { return &semaphore{limit: limit} }

// acquire takes a slot, waiting in line until one is free or ctx ends.
func (s *semaphore) acquire(ctx context.Context) error {
	s.mu.Lock()
	if s.active < s.limit && len(s.waiters) == 0 {
		s.active++
		s.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	s.waiters = append(s.waiters, ch)
	s.mu.Unlock()

	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, w := range s.waiters {
			if w == ch {
				s.waiters = append(s.waiters[:i], s.waiters[i+1:]...)
				return ctx.Err()
			}
		}
		// The slot was granted while ctx ended: hand it on.
		s.active--
		s.grantLocked()
		return ctx.Err()
	}
}

// release returns a slot taken by acquire.
func (s *semaphore) release() {
	s.mu.Lock()
	s.active--
	s.grantLocked()
	s.mu.Unlock()
}

// setLimit changes the number of slots; waiters proceed if it grew.
func (s *semaphore) setLimit(n int) {
	s.mu.Lock()
	s.limit = n
	s.grantLocked()
	s.mu.Unlock()
}

func (s *semaphore) grantLocked() {
	for s.active < s.limit && len(s.waiters) > 0 {
		ch := s.waiters[0]
		s.waiters = s.waiters[1:]
		s.active++
		close(ch)
	}
}
