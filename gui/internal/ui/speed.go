package ui

import (
	"time"

	"vmimages/core"
)

// speedWindow is how far back the shown speed looks, and speedMin the
// least time a speed is measured over.
const (
	speedWindow = 5 * time.Second
	speedMin    = 2 * time.Second
)

// speedMeter measures one job's speed from the bytes the window saw
// arrive, since the job last started moving: a resumed download starts
// from the bytes already on disk, which must not count as speed.
type speedMeter struct {
	samples []speedSample
}

type speedSample struct {
	t time.Time
	n int64
}

// add records a reading and returns the speed in bytes per second, 0 while
// too little time has passed to tell.
func (m *speedMeter) add(now time.Time, n int64) float64 {
	if k := len(m.samples); k > 0 && n < m.samples[k-1].n {
		m.samples = m.samples[:0] // started over
	}
	m.samples = append(m.samples, speedSample{now, n})
	for len(m.samples) > 2 && now.Sub(m.samples[1].t) >= speedWindow {
		m.samples = m.samples[1:]
	}
	first := m.samples[0]
	dt := now.Sub(first.t).Seconds()
	// Two seconds at least: each reading is timed when the window read it,
	// not when the bytes arrived, and over a short span that lag (a busy
	// machine) shows as a speed above the cap.
	if dt < speedMin.Seconds() {
		return 0
	}
	return float64(n-first.n) / dt
}

// measureSpeeds replaces each downloading job's speed and time left with
// the window's own measure; a job that is not moving bytes (waiting,
// paused, verifying, retrying) starts a new measure when it moves again.
func (u *UI) measureSpeeds(snaps []jobSnap) {
	seen := map[int]bool{}
	for i := range snaps {
		s := &snaps[i].snap
		if s.Phase != core.PhaseDownloading || s.Retrying != "" || s.BytesDone <= 0 {
			delete(u.speeds, s.ID)
			if s.Phase == core.PhaseDownloading {
				s.Speed, s.ETA = 0, 0
			}
			continue
		}
		seen[s.ID] = true
		m := u.speeds[s.ID]
		if m == nil {
			m = &speedMeter{}
			u.speeds[s.ID] = m
		}
		s.Speed, s.ETA = m.add(snaps[i].at, s.BytesDone), 0
		if s.Speed > 0 && s.BytesTotal > s.BytesDone {
			s.ETA = time.Duration(float64(s.BytesTotal-s.BytesDone) / s.Speed * float64(time.Second))
		}
	}
	for id := range u.speeds {
		if !seen[id] {
			delete(u.speeds, id)
		}
	}
}
