package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"vmimages/core/cache"
	"vmimages/core/catalog"
)

// Phase is where a job stands. A job moves between phases only along the
// edges CanMoveTo allows; see the transitions table.
type Phase string

// Job phases.
const (
	PhaseQueued      Phase = "queued"
	PhaseResolving   Phase = "resolving"
	PhaseWaiting     Phase = "waiting" // for the image lock or a transfer slot
	PhaseDownloading Phase = "downloading"
	PhaseVerifying   Phase = "verifying"
	PhaseConverting  Phase = "converting"
	PhaseRemoving    Phase = "removing"
	PhaseDone        Phase = "done"
	PhaseFailed      Phase = "failed"
	PhasePaused      Phase = "paused"
	PhaseCancelled   Phase = "cancelled"
)

// Finished reports whether the phase is final.
func (p Phase) Finished() bool {
	return p == PhaseDone || p == PhaseFailed || p == PhaseCancelled
}

// transitions is the job state machine: the phases each phase may move to.
// Every phase that does work may be paused, fail or be cancelled; a paused
// job goes back to queued when resumed, or ends (done or failed when its
// run completed just as it was paused, cancelled by Cancel). Final phases
// go nowhere.
var transitions = map[Phase][]Phase{
	PhaseQueued: {PhaseResolving, PhaseWaiting, PhaseDownloading, PhaseVerifying, PhaseConverting, PhaseRemoving,
		PhasePaused, PhaseDone, PhaseFailed, PhaseCancelled},
	PhaseResolving:   {PhaseWaiting, PhasePaused, PhaseDone, PhaseFailed, PhaseCancelled},
	PhaseWaiting:     {PhaseDownloading, PhaseVerifying, PhaseConverting, PhaseRemoving, PhasePaused, PhaseDone, PhaseFailed, PhaseCancelled},
	PhaseDownloading: {PhaseVerifying, PhaseConverting, PhaseDone, PhasePaused, PhaseFailed, PhaseCancelled},
	PhaseVerifying:   {PhaseDownloading, PhaseConverting, PhaseDone, PhasePaused, PhaseFailed, PhaseCancelled},
	PhaseConverting:  {PhaseDone, PhasePaused, PhaseFailed, PhaseCancelled},
	PhaseRemoving:    {PhaseDone, PhaseFailed, PhaseCancelled},
	PhasePaused:      {PhaseQueued, PhaseDone, PhaseFailed, PhaseCancelled},
}

// CanMoveTo reports whether a job in phase p may move to phase q.
func (p Phase) CanMoveTo(q Phase) bool {
	return slices.Contains(transitions[p], q)
}

// Kind is what a job does.
type Kind string

// Job kinds.
const (
	KindPull    Kind = "pull"
	KindVerify  Kind = "verify"
	KindConvert Kind = "convert"
	KindRemove  Kind = "remove"
)

// Job is one pull, verify, conversion or removal. Fronts read Snapshot on a
// ticker (or when Changed fires) and may Pause, Resume or Cancel it.
//
// The job's goroutine (loop) runs its work once per start: Pause stops the
// current run and parks the loop until Resume starts a new one; Cancel ends
// it. Updates from a run that was paused or cancelled are dropped, so a run
// winding down can never move the job out of the phase Pause or Resume set.
type Job struct {
	m    *Manager
	id   int
	kind Kind
	ref  catalog.Ref
	opts PullOptions
	key  cache.Key // the image this job holds in Manager.live or ops, if any
	work func(ctx context.Context) (*PreparedImage, error)
	done chan struct{}

	mu        sync.Mutex
	snap      Snapshot
	changed   chan struct{}      // closed at the next phase change
	cancelFn  context.CancelFunc // cancels the current run
	live      bool               // the current run's updates count
	pauseReq  bool               // Pause asked; the loop starts no run
	cancelReq bool               // Cancel asked
	paused    bool               // the current run was stopped by Pause
	resume    chan struct{}      // closed by Resume or Cancel while paused
	runs      int                // runs started
	dismissed bool
	result    *PreparedImage
	err       error

	speed speedMeter
}

var jobIDs atomic.Int64

// newJob makes a queued job; the caller sets its work and starts loop.
func (m *Manager) newJob(kind Kind, title string) *Job {
	j := &Job{m: m, id: int(jobIDs.Add(1)), kind: kind, done: make(chan struct{}), changed: make(chan struct{})}
	j.snap = Snapshot{ID: j.id, Kind: kind, Phase: PhaseQueued, BytesTotal: -1, Started: m.now(), Title: title}
	return j
}

// ID is the job's number, unique in this process.
func (j *Job) ID() int { return j.id }

// Kind is what the job does.
func (j *Job) Kind() Kind { return j.kind }

// Done is closed when the job has finished, failed or been cancelled.
func (j *Job) Done() <-chan struct{} { return j.done }

// Changed returns a channel that is closed at the job's next phase change
// (progress within a phase does not close it). Call it again for the one
// after.
func (j *Job) Changed() <-chan struct{} {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.changed
}

// Wait blocks until the job ends or ctx is done.
func (j *Job) Wait(ctx context.Context) (*PreparedImage, error) {
	select {
	case <-j.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.result, j.err
}

// WaitPhase blocks until the job is in one of phases and returns its
// snapshot then. It fails when the job ends in another phase, or ctx ends.
func (j *Job) WaitPhase(ctx context.Context, phases ...Phase) (Snapshot, error) {
	for {
		ch := j.Changed()
		s := j.Snapshot()
		if slices.Contains(phases, s.Phase) {
			return s, nil
		}
		if s.Phase.Finished() {
			return s, fmt.Errorf("job %d ended %s, not %v", j.id, s.Phase, phases)
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return j.Snapshot(), ctx.Err()
		}
	}
}

// Snapshot returns the job's current state.
func (j *Job) Snapshot() Snapshot {
	j.mu.Lock()
	defer j.mu.Unlock()
	s := j.snap
	s.Assets = append([]AssetProgress(nil), j.snap.Assets...)
	s.Notices = append([]string(nil), j.snap.Notices...)
	if s.Verdict != nil {
		v := *s.Verdict
		v.Problems = slices.Clone(v.Problems)
		s.Verdict = &v
	}
	return s
}

// setPhase moves the job to q if the state machine allows it; j.mu is held.
func (j *Job) setPhase(q Phase) bool {
	if j.snap.Phase == q {
		return true
	}
	if !j.snap.Phase.CanMoveTo(q) {
		return false
	}
	j.snap.Phase = q
	close(j.changed)
	j.changed = make(chan struct{})
	return true
}

// Pause stops the job's work, keeping what arrived for Resume. The phase is
// PhasePaused from when Pause returns until Resume or Cancel; a job that has
// not started its work yet does not start it. Pausing a finished or paused
// job does nothing.
func (j *Job) Pause() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.pauseReq || j.cancelReq || !j.setPhase(PhasePaused) {
		return
	}
	j.pauseReq = true
	j.resume = make(chan struct{})
	j.snap.Speed, j.snap.ETA, j.snap.Retrying = 0, 0, ""
	j.speed = speedMeter{}
	if j.live {
		j.live, j.paused = false, true
		j.cancelFn()
	}
}

// Resume continues a paused job: it goes back to PhaseQueued and starts its
// work again, from its partial files for a pull. It does nothing unless the
// job is paused.
func (j *Job) Resume() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.pauseReq || j.cancelReq || !j.setPhase(PhaseQueued) {
		return
	}
	j.pauseReq = false
	close(j.resume)
}

// Cancel stops the job for good; it ends PhaseCancelled unless it finished
// first. Partial files stay in the cache, so a later pull resumes them.
func (j *Job) Cancel() {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cancelReq || j.snap.Phase.Finished() {
		return
	}
	j.cancelReq = true
	if j.live {
		j.live = false
		j.cancelFn()
	}
	if j.pauseReq {
		j.pauseReq = false
		close(j.resume)
	}
}

// Dismiss tells the Manager that the fronts have seen this job's end: a
// finished job leaves Manager.Jobs at once, a running one when it ends.
func (j *Job) Dismiss() {
	j.mu.Lock()
	j.dismissed = true
	j.mu.Unlock()
	j.m.trimJobs()
	j.m.notify()
}

// update applies fn to the snapshot if the current run still counts. A
// phase change fn makes is applied only where the state machine allows it.
func (j *Job) update(fn func(s *Snapshot)) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if !j.live {
		return
	}
	old := j.snap.Phase
	fn(&j.snap)
	if q := j.snap.Phase; q != old {
		j.snap.Phase = old
		j.setPhase(q)
	}
}

// loop runs the job's work, again after each Resume, until it ends.
func (j *Job) loop(ctx context.Context) {
	defer func() {
		j.m.release(j)
		j.m.trimJobs() // before Done: whoever waited sees the list trimmed
		close(j.done)
		j.m.notify()
	}()
	for {
		j.mu.Lock()
		switch {
		case j.cancelReq:
			j.finish(nil, context.Canceled)
			j.mu.Unlock()
			return
		case ctx.Err() != nil:
			j.finish(nil, ctx.Err())
			j.mu.Unlock()
			return
		case j.pauseReq:
			resume := j.resume
			j.mu.Unlock()
			if j.m.onPark != nil {
				j.m.onPark(j)
			}
			select {
			case <-resume:
			case <-ctx.Done():
			}
			continue
		}
		runCtx, cancel := context.WithCancel(ctx)
		j.cancelFn, j.live, j.paused = cancel, true, false
		j.runs++
		j.mu.Unlock()

		img, err := j.work(runCtx)
		cancel()

		j.mu.Lock()
		j.live = false
		switch {
		case err == nil:
			j.finish(img, nil)
		case j.cancelReq:
			j.finish(nil, context.Canceled)
		case j.paused && errors.Is(err, context.Canceled) && ctx.Err() == nil:
			// Stopped by Pause: park until Resume, or run again at once
			// when Resume came while this run was winding down.
			j.mu.Unlock()
			continue
		default:
			j.finish(nil, err)
		}
		j.mu.Unlock()
		return
	}
}

// finish records the outcome; j.mu is held.
func (j *Job) finish(img *PreparedImage, err error) {
	j.result, j.err = img, err
	j.snap.Speed, j.snap.ETA = 0, 0
	switch {
	case err == nil:
		j.snap.Result = img
		if j.snap.BytesTotal >= 0 {
			j.snap.BytesDone = j.snap.BytesTotal
		}
		j.forcePhase(PhaseDone)
	case errors.Is(err, context.Canceled):
		j.snap.Err = err
		j.forcePhase(PhaseCancelled)
	default:
		j.snap.Err = err
		j.forcePhase(PhaseFailed)
	}
}

// forcePhase moves to a final phase, which every unfinished phase allows
// (TestPhaseTransitions checks the table); the job ends there regardless.
func (j *Job) forcePhase(q Phase) {
	if !j.setPhase(q) {
		j.snap.Phase = q
		close(j.changed)
		j.changed = make(chan struct{})
	}
}

// keepFinished is how many finished jobs the Manager keeps for the fronts
// to show before it forgets the oldest.
const keepFinished = 32

// trimJobs forgets dismissed finished jobs, and the oldest finished ones
// beyond keepFinished, so a process that lives for weeks does not keep
// every job it ever ran.
func (m *Manager) trimJobs() {
	m.mu.Lock()
	defer m.mu.Unlock()
	finished := 0
	for _, j := range m.jobs {
		if isFinished(j) {
			finished++
		}
	}
	out := m.jobs[:0]
	for _, j := range m.jobs {
		if isFinished(j) {
			j.mu.Lock()
			drop := j.dismissed || finished > keepFinished
			j.mu.Unlock()
			if drop {
				finished--
				continue
			}
		}
		out = append(out, j)
	}
	clear(m.jobs[len(out):])
	m.jobs = out
}

// isFinished reports whether the job has reached a final phase.
func isFinished(j *Job) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.snap.Phase.Finished()
}

// ClearFinished dismisses every finished job (see Job.Dismiss).
func (m *Manager) ClearFinished() {
	for _, j := range m.Jobs() {
		if isFinished(j) {
			j.mu.Lock()
			j.dismissed = true
			j.mu.Unlock()
		}
	}
	m.trimJobs()
	m.notify()
}

// release drops the job from the maps of running jobs.
func (m *Manager) release(j *Job) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.live[j.key] == j {
		delete(m.live, j.key)
	}
	ok := opKey{j.kind, j.key}
	if m.ops[ok] == j {
		delete(m.ops, ok)
	}
}

// opKey names a verify, convert or remove job of one image.
type opKey struct {
	kind Kind
	key  cache.Key
}

// startOp starts a job of kind on image k, or returns the one already
// running for the same kind and image.
func (m *Manager) startOp(ctx context.Context, kind Kind, k cache.Key, work func(ctx context.Context, j *Job) (*PreparedImage, error)) *Job {
	j := m.newJob(kind, m.imageTitle(k))
	j.key, j.snap.Key = k, k
	j.snap.Ref = catalog.Ref{Distro: k.Distro, Version: k.Version, Arch: k.Arch}
	j.work = func(ctx context.Context) (*PreparedImage, error) { return work(ctx, j) }
	m.mu.Lock()
	if old := m.ops[opKey{kind, k}]; old != nil {
		m.mu.Unlock()
		return old
	}
	m.ops[opKey{kind, k}] = j
	m.jobs = append(m.jobs, j)
	m.mu.Unlock()
	go j.loop(ctx)
	m.notify()
	return j
}

// imageTitle names a cached image for people: "Debian 12 x86_64".
func (m *Manager) imageTitle(k cache.Key) string {
	name := k.Distro
	if d, err := m.Catalog().Distro(k.Distro); err == nil {
		name = d.Name
	}
	return name + " " + k.Version + " " + k.Arch
}
