package core

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"vmimages/core/catalog"
	"vmimages/internal/mirrortest"
)

// These tests drive the job state machine without sleeps: a loopback
// mirror holds chosen requests until the test releases them, and the test
// waits on the job's phases (Changed, WaitPhase) and on the loop parking.

func TestPhaseTransitions(t *testing.T) {
	working := []Phase{PhaseResolving, PhaseWaiting, PhaseDownloading, PhaseVerifying, PhaseConverting}
	final := []Phase{PhaseDone, PhaseFailed, PhaseCancelled}
	all := append(append([]Phase{PhaseQueued, PhasePaused, PhaseRemoving}, working...), final...)
	for _, tc := range []struct {
		from, to Phase
		ok       bool
	}{
		{PhaseQueued, PhaseResolving, true},
		{PhaseQueued, PhasePaused, true},
		{PhaseResolving, PhaseWaiting, true},
		{PhaseWaiting, PhaseDownloading, true},
		{PhaseDownloading, PhaseConverting, true},
		{PhaseConverting, PhaseDone, true},
		{PhasePaused, PhaseQueued, true},
		{PhasePaused, PhaseCancelled, true},
		{PhasePaused, PhaseDone, true}, // the run completed as Pause came
		// A run winding down after Pause cannot move the job on.
		{PhasePaused, PhaseResolving, false},
		{PhasePaused, PhaseDownloading, false},
		{PhasePaused, PhaseConverting, false},
		{PhaseDownloading, PhaseResolving, false},
		{PhaseDownloading, PhaseQueued, false},
		{PhaseRemoving, PhasePaused, false},
	} {
		if got := tc.from.CanMoveTo(tc.to); got != tc.ok {
			t.Errorf("%s → %s: %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
	for _, p := range all {
		for _, q := range all {
			if p.Finished() && p.CanMoveTo(q) {
				t.Errorf("final phase %s moves to %s", p, q)
			}
		}
		if !p.Finished() && (!p.CanMoveTo(PhaseCancelled) || !p.CanMoveTo(PhaseFailed) || !p.CanMoveTo(PhaseDone)) {
			t.Errorf("%s cannot end", p)
		}
	}
	for _, p := range working {
		if !p.CanMoveTo(PhasePaused) {
			t.Errorf("%s cannot be paused", p)
		}
	}
}

// heldRequest is a request the gate holds until released.
type heldRequest struct {
	path    string
	release chan struct{}
}

// gate holds the requests its rule picks on a loopback mirror. A picked
// request for a file first gets its headers and the first `prefix` bytes
// of the body, so the job is mid-transfer while it is held.
type gate struct {
	arrived chan *heldRequest

	mu     sync.Mutex
	rule   func(r *http.Request) bool
	prefix map[string][]byte // body sent before holding, by path
}

func newGate(t *testing.T, srv *mirrortest.Server) *gate {
	g := &gate{arrived: make(chan *heldRequest, 16), prefix: map[string][]byte{}}
	srv.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		g.mu.Lock()
		pick := g.rule != nil && g.rule(r)
		if pick {
			g.rule = nil // one request per hold
		}
		data := g.prefix[r.URL.Path]
		g.mu.Unlock()
		if !pick {
			return false
		}
		h := &heldRequest{path: r.URL.Path, release: make(chan struct{})}
		if data != nil {
			w.Header().Set("Content-Length", fmt.Sprint(len(data)))
			w.Header().Set("Accept-Ranges", "bytes")
			w.Header().Set("ETag", `"`+mirrortest.SHA256(data)[:16]+`"`)
			w.WriteHeader(http.StatusOK)
			w.Write(data[:256<<10])
			w.(http.Flusher).Flush()
		}
		g.arrived <- h
		select {
		case <-h.release:
		case <-r.Context().Done():
			return true
		}
		if data != nil {
			w.Write(data[256<<10:])
			return true
		}
		return false // released: serve it normally
	})
	t.Cleanup(func() { srv.SetFault(nil) })
	return g
}

// hold makes the gate hold the next request whose path ends with suffix;
// for a file, body is what it serves (its first 256 KiB before holding).
func (g *gate) hold(suffix string, body []byte) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rule = func(r *http.Request) bool { return r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, suffix) }
	if body != nil {
		g.prefix = map[string][]byte{}
		g.rule = func(r *http.Request) bool {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, suffix) && r.Header.Get("Range") == "" {
				g.prefix[r.URL.Path] = body
				return true
			}
			return false
		}
	}
}

// clear holds no more requests.
func (g *gate) clear() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rule = nil
}

func (g *gate) wait(t *testing.T) *heldRequest {
	t.Helper()
	select {
	case h := <-g.arrived:
		return h
	case <-time.After(30 * time.Second):
		t.Fatal("the held request never arrived")
		return nil
	}
}

// parkWatch records the jobs whose loop parked waiting for Resume.
func parkWatch(m *Manager) <-chan int {
	ch := make(chan int, 64)
	m.onPark = func(j *Job) { ch <- j.ID() }
	return ch
}

func waitParked(t *testing.T, ch <-chan int, j *Job) {
	t.Helper()
	for {
		select {
		case id := <-ch:
			if id == j.ID() {
				return
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("job never parked; snapshot %+v", j.Snapshot())
		}
	}
}

func waitPhase(t *testing.T, j *Job, phases ...Phase) Snapshot {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := j.WaitPhase(ctx, phases...)
	if err != nil {
		t.Fatalf("waiting for %v: %v (snapshot %+v)", phases, err, s)
	}
	return s
}

// waitBytes polls the snapshot until n bytes arrived.
func waitBytes(t *testing.T, j *Job, n int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for j.Snapshot().BytesDone < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d bytes arrived: %+v", j.Snapshot().BytesDone, n, j.Snapshot())
		}
		<-tick.C
	}
}

var debian12 = catalog.Ref{Distro: "debian", Version: "12", Arch: "x86_64"}

func checkDisk(t *testing.T, img *PreparedImage, want []byte) {
	t.Helper()
	got, err := os.ReadFile(img.Disk)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("disk differs from the mirror's bytes (%d bytes, err %v)", len(got), err)
	}
}

// TestPauseRightAfterPull: a Pause that comes as the job starts keeps the
// job paused and fetches nothing more, until Resume. (Whether the job's
// goroutine began resolving before Pause is up to the scheduler; the
// mirror holds that first request, so either way nothing goes further.)
func TestPauseRightAfterPull(t *testing.T) {
	srv, disk := debianMirror(t)
	g := newGate(t, srv)
	g.hold("/debian/bookworm/", nil)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	parked := parkWatch(m)
	j := m.Pull(context.Background(), debian12, PullOptions{})
	j.Pause()
	waitParked(t, parked, j)
	if s := j.Snapshot(); s.Phase != PhasePaused {
		t.Fatalf("phase %s after Pause, want paused", s.Phase)
	}
	g.clear() // nothing runs while parked, so nothing races this
	select {
	case h := <-g.arrived:
		close(h.release) // the run had begun; Pause stopped it there
	default:
	}
	for _, r := range srv.Requests() {
		if r.Path != "/debian/bookworm/" {
			t.Fatalf("a paused job fetched %s", r.Path)
		}
	}
	j.Resume()
	img, err := wait(t, j)
	if err != nil {
		t.Fatal(err)
	}
	checkDisk(t, img, disk)
	if s := j.Snapshot(); s.Phase != PhaseDone {
		t.Errorf("phase %s, want done", s.Phase)
	}
}

// TestPauseThenResumeFinishes: Resume right after Pause, while the paused
// transfer is still winding down, continues the job instead of ending it
// "cancelled"; the second run resumes the partial file.
func TestPauseThenResumeFinishes(t *testing.T) {
	srv, disk := debianMirror(t)
	g := newGate(t, srv)
	g.hold("20260810-2566.qcow2", disk)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	j := m.Pull(context.Background(), debian12, PullOptions{})
	held := g.wait(t)
	waitBytes(t, j, 256<<10)
	j.Pause()
	if p := j.Snapshot().Phase; p != PhasePaused {
		t.Fatalf("phase %s right after Pause, want paused", p)
	}
	j.Resume()
	if p := j.Snapshot().Phase; p != PhaseQueued && p != PhaseResolving && p != PhaseWaiting && p != PhaseDownloading {
		t.Fatalf("phase %s right after Resume", p)
	}
	img, err := wait(t, j)
	close(held.release)
	if err != nil {
		t.Fatalf("Pause then Resume ended the job: %v (phase %s)", err, j.Snapshot().Phase)
	}
	checkDisk(t, img, disk)
	ranged := false
	for _, r := range srv.Requests() {
		ranged = ranged || strings.HasSuffix(r.Path, ".qcow2") && strings.HasPrefix(r.Range, "bytes=")
	}
	if !ranged {
		t.Errorf("the resumed run did not continue the partial file: %+v", srv.Requests())
	}
}

// TestPauseParksUntilResume: a paused job's run stops (its transfer is
// dropped) and the job stays paused, whatever the run was doing, until
// Resume; the phase never leaves paused meanwhile.
func TestPauseParksUntilResume(t *testing.T) {
	for _, tc := range []struct {
		name  string
		hold  string
		body  bool
		phase Phase
	}{
		{"resolving", "/SHA512SUMS", false, PhaseResolving},
		{"downloading", "20260810-2566.qcow2", true, PhaseDownloading},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, disk := debianMirror(t)
			g := newGate(t, srv)
			var body []byte
			if tc.body {
				body = disk
			}
			g.hold(tc.hold, body)
			m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
			parked := parkWatch(m)
			j := m.Pull(context.Background(), debian12, PullOptions{})
			held := g.wait(t)
			waitPhase(t, j, tc.phase)
			changed := j.Changed()
			j.Pause()
			select {
			case <-changed:
			default:
				t.Error("Pause did not signal Changed")
			}
			waitParked(t, parked, j)
			close(held.release) // too late: the client has gone
			if s := j.Snapshot(); s.Phase != PhasePaused || s.Speed != 0 {
				t.Fatalf("after the run stopped: phase %s speed %v, want paused and 0", s.Phase, s.Speed)
			}
			j.mu.Lock()
			runs := j.runs
			j.mu.Unlock()
			j.Resume()
			img, err := wait(t, j)
			if err != nil {
				t.Fatal(err)
			}
			checkDisk(t, img, disk)
			j.mu.Lock()
			defer j.mu.Unlock()
			if j.runs != runs+1 {
				t.Errorf("runs %d after Resume, want %d", j.runs, runs+1)
			}
		})
	}
}

// TestCancelWhilePaused ends a paused job cancelled; Pause and Resume on a
// finished job do nothing.
func TestCancelWhilePaused(t *testing.T) {
	srv, _ := debianMirror(t)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	parked := parkWatch(m)
	j := m.Pull(context.Background(), debian12, PullOptions{})
	j.Pause()
	waitParked(t, parked, j)
	j.Cancel()
	if _, err := wait(t, j); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel while paused: %v", err)
	}
	j.Resume()
	j.Pause()
	if s := j.Snapshot(); s.Phase != PhaseCancelled {
		t.Errorf("phase %s, want cancelled", s.Phase)
	}
}

// TestPauseResumeStorm pauses and resumes a transfer many times in a row;
// the job ends done with the right bytes, never cancelled or stuck.
func TestPauseResumeStorm(t *testing.T) {
	srv, disk := debianMirror(t)
	g := newGate(t, srv)
	g.hold("20260810-2566.qcow2", disk)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	j := m.Pull(context.Background(), debian12, PullOptions{})
	held := g.wait(t)
	waitBytes(t, j, 256<<10)
	for range 50 {
		j.Pause()
		if p := j.Snapshot().Phase; p != PhasePaused {
			t.Fatalf("phase %s after Pause", p)
		}
		j.Resume()
	}
	img, err := wait(t, j)
	close(held.release)
	if err != nil {
		t.Fatal(err)
	}
	checkDisk(t, img, disk)
}

// TestFinishedJobsAreForgotten: the Manager keeps a bounded number of
// finished jobs, and forgets one at once when a front dismisses it.
func TestFinishedJobsAreForgotten(t *testing.T) {
	srv, _ := debianMirror(t)
	m := newManager(t, map[string]string{"debian": srv.URL + "/debian/"}, nil)
	if _, err := wait(t, m.Pull(context.Background(), debian12, PullOptions{})); err != nil {
		t.Fatal(err)
	}
	var last *Job
	for range keepFinished + 5 {
		last = m.Pull(context.Background(), debian12, PullOptions{}) // cached: done at once
		if _, err := wait(t, last); err != nil {
			t.Fatal(err)
		}
	}
	jobs := m.Jobs()
	if len(jobs) > keepFinished {
		t.Fatalf("%d jobs kept after %d finished, want at most %d", len(jobs), keepFinished+6, keepFinished)
	}
	if jobs[len(jobs)-1] != last {
		t.Error("the newest finished job was forgotten before older ones")
	}
	last.Dismiss()
	for _, j := range m.Jobs() {
		if j == last {
			t.Fatal("a dismissed finished job is still listed")
		}
	}
	m.ClearFinished()
	if n := len(m.Jobs()); n != 0 {
		t.Errorf("%d jobs after ClearFinished", n)
	}
}
