package ui

import (
	"fyne.io/fyne/v2/theme"

	"vmimages/core"
	"vmimages/core/cache"
)

// remedy is what the window offers after a failed pull: the one action
// that can help, by the kind of failure. Retry only for a transient
// failure; another mirror (Settings) after an integrity failure; Prune…
// for a full disk; nothing to press when no button would change the
// outcome.
type remedy struct {
	label  string // "" when no button helps
	action func()
}

// remedyFor is the remedy for job snapshot s's failure.
func (u *UI) remedyFor(s core.Snapshot) remedy {
	switch failureOf(s.Err) {
	case failTransient:
		return remedy{"Retry", func() { u.pull(s.Ref, core.PullOptions{RawDefault: true}) }}
	case failIntegrity:
		return remedy{"Try another mirror", func() { u.ShowWindow(); u.ShowTab("settings") }}
	case failSpace:
		return remedy{"Prune…", func() { u.ShowTab("cache"); u.showPrune(nil) }}
	}
	return remedy{}
}

// keptAfter reports whether a failed pull kept bytes a Retry continues
// from: only a transient failure does; an integrity failure discards what
// arrived.
func keptAfter(s core.Snapshot) bool {
	return s.Phase == core.PhaseFailed && failureOf(s.Err) == failTransient && s.BytesDone > 0
}

// showFailure opens the dialog for a failed pull, with its remedy.
func (u *UI) showFailure(s core.Snapshot) {
	what, todo := explainPull(s.Err)
	buttons := []dialogButton{{label: "Close"}}
	if r := u.remedyFor(s); r.label != "" {
		buttons = append(buttons, dialogButton{label: r.label, important: true, action: r.action})
	}
	u.showMessage("Download failed", theme.ErrorIcon(), s.Title+" could not be downloaded. "+what, todo, buttons)
}

// lastFailure is the failed snapshot of the newest job of image k, when its
// newest job failed.
func (u *UI) lastFailure(snaps []jobSnap, k cache.Key) (core.Snapshot, bool) {
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i].snap
		if s.Key != k {
			continue
		}
		return s, s.Phase == core.PhaseFailed
	}
	return core.Snapshot{}, false
}
