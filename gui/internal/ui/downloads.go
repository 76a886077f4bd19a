package ui

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/registry"
	"vmimages/core/units"
)

// dlRow is one row of the downloads list: a job of this run, or an image
// an earlier run left partly downloaded.
type dlRow struct {
	id    string // "job:<n>" or "partial:<key>"
	job   *core.Job
	snap  core.Snapshot
	image cache.Image // for partial rows
}

// partial reports whether the row is an unfinished pull from an earlier run.
func (r *dlRow) partial() bool { return r.job == nil }

// downloadsView lists the jobs with their progress and controls, and the
// pulls an earlier run left unfinished, which it offers to resume.
type downloadsView struct {
	u       *UI
	content fyne.CanvasObject

	rows      []dlRow
	snaps     []jobSnap    // the last tick's snapshots, oldest first
	cleared   map[int]bool // jobs the user removed from the list
	list      *widget.List
	empty     *fyne.Container
	pauseAll  *widget.Button
	resumeAll *widget.Button
	clear     *widget.Button
}

func newDownloadsView(u *UI) *downloadsView {
	v := &downloadsView{u: u, cleared: map[int]bool{}}
	v.list = widget.NewList(
		func() int { return len(v.rows) },
		func() fyne.CanvasObject { return newDLItem(v) },
		func(id widget.ListItemID, o fyne.CanvasObject) { o.(*dlItem).show(id) },
	)
	v.list.OnSelected = func(id widget.ListItemID) { v.list.Unselect(id) }
	msg := widget.NewLabel("No downloads yet. Choose an image in the Catalog tab and press Download.")
	msg.Importance = widget.LowImportance
	v.empty = container.NewCenter(msg)

	v.pauseAll = widget.NewButtonWithIcon("Pause all", theme.MediaPauseIcon(), u.pauseAll)
	v.resumeAll = widget.NewButtonWithIcon("Resume all", theme.MediaPlayIcon(), u.resumeAll)
	v.clear = widget.NewButtonWithIcon("Clear finished", theme.ContentClearIcon(), v.clearFinished)
	bar := container.NewHBox(v.pauseAll, v.resumeAll, layout.NewSpacer(), v.clear)
	v.content = container.NewBorder(bar, nil, nil, nil, container.NewStack(v.list, v.empty))
	v.rebuild(nil)
	return v
}

// update follows one tick's snapshots: a changed set of rows refreshes the
// list, otherwise only the rows whose snapshot changed are refreshed.
func (v *downloadsView) update(snaps []jobSnap) {
	v.snaps = snaps
	old := v.rows
	v.rebuild(snaps)
	same := len(old) == len(v.rows)
	for i := 0; same && i < len(old); i++ {
		same = old[i].id == v.rows[i].id
	}
	if !same {
		v.u.stats.fullDownloads++
		v.list.Refresh()
		return
	}
	var changed []int
	for i := range v.rows {
		if !sameSnapshot(old[i].snap, v.rows[i].snap) || old[i].image.SizeBytes != v.rows[i].image.SizeBytes {
			changed = append(changed, i)
		}
	}
	v.u.stats.downloadRows += len(changed)
	switch {
	case len(changed) == 1:
		v.list.RefreshItem(changed[0])
	case len(changed) > 1:
		// RefreshItem redraws every visible row anyway: once is enough.
		v.list.Refresh()
	}
}

// setImages follows a new cache listing: partial images may come or go.
func (v *downloadsView) setImages() { v.update(v.snaps) }

// rebuild computes the rows: this run's jobs, newest first, then images an
// earlier run left partial that no job of this run covers. A finished job
// that a newer job of the same image replaced is left out.
func (v *downloadsView) rebuild(snaps []jobSnap) {
	rows := make([]dlRow, 0, len(snaps))
	covered := map[cache.Key]bool{}
	for i := len(snaps) - 1; i >= 0; i-- {
		s := snaps[i]
		replaced := covered[s.snap.Key] && s.snap.Phase.Finished()
		covered[s.snap.Key] = true
		if v.cleared[s.snap.ID] || replaced {
			continue
		}
		rows = append(rows, dlRow{id: "job:" + itoa(s.snap.ID), job: s.job, snap: s.snap})
	}
	for _, im := range v.u.images {
		if im.State == cache.StatePartial && im.SizeBytes > 0 && !covered[im.Key] {
			rows = append(rows, dlRow{id: "partial:" + im.Key.String(), image: im})
		}
	}
	v.rows = rows
	running, paused := false, false
	finished := false
	for _, r := range rows {
		switch {
		case r.partial():
			paused = true
		case r.snap.Phase == core.PhasePaused:
			paused = true
		case r.snap.Phase.Finished():
			finished = true
		default:
			running = true
		}
	}
	setEnabled(v.pauseAll, running)
	setEnabled(v.resumeAll, paused)
	setEnabled(v.clear, finished)
	v.empty.Hidden = len(rows) > 0
}

// partialKeys lists the images from earlier runs shown as resumable.
func (v *downloadsView) partialKeys() []cache.Key {
	var out []cache.Key
	for _, r := range v.rows {
		if r.partial() {
			out = append(out, r.image.Key)
		}
	}
	return out
}

// clearFinished removes finished jobs from the list.
func (v *downloadsView) clearFinished() {
	for _, r := range v.rows {
		if r.job != nil && r.snap.Phase.Finished() {
			v.cleared[r.snap.ID] = true
		}
	}
	v.update(v.snaps)
}

// row finds a row by id.
func (v *downloadsView) row(id string) *dlRow {
	for i := range v.rows {
		if v.rows[i].id == id {
			return &v.rows[i]
		}
	}
	return nil
}

func setEnabled(b *widget.Button, on bool) {
	if on {
		b.Enable()
	} else {
		b.Disable()
	}
}

// sameSnapshot reports whether two snapshots would draw the same row.
func sameSnapshot(a, b core.Snapshot) bool {
	return a.ID == b.ID && a.Phase == b.Phase && a.BytesDone == b.BytesDone && a.BytesTotal == b.BytesTotal &&
		int64(a.Speed) == int64(b.Speed) && a.ETA/1e9 == b.ETA/1e9 && a.Retrying == b.Retrying &&
		a.Err == b.Err && a.Title == b.Title && a.Build == b.Build && len(a.Notices) == len(b.Notices) &&
		a.Source == b.Source
}

// sourceText says where a pull's bytes come from: "from registry
// HOST/REPO", "from HOST" (the distribution's server or its mirror), or ""
// when the job moves no bytes.
func (u *UI) sourceText(s core.Snapshot) string {
	switch s.Source {
	case "":
		return ""
	case core.SourceUpstream:
		d, err := u.m.Catalog().Distro(s.Key.Distro)
		if err != nil {
			return ""
		}
		base, err := url.Parse(d.Base)
		if err != nil || base.Host == "" {
			return ""
		}
		return "from " + base.Host
	}
	if t, err := registry.ParseTarget(s.Source); err == nil {
		return "from registry " + strings.TrimPrefix(t.String(), "oci://")
	}
	return "from " + s.Source
}

// describeProgress is "123.4 MiB of 612.0 MiB · 12.3 MiB/s · 38s left".
func describeProgress(s core.Snapshot) string {
	switch s.Phase {
	case core.PhaseQueued, core.PhaseResolving:
		return "looking up the newest build…"
	case core.PhaseWaiting:
		return "waiting for a free download slot…"
	case core.PhaseConverting:
		return fmt.Sprintf("converting the disk to raw with qemu-img… %.0f%%", 100*s.Converted)
	}
	parts := []string{units.Bytes(s.BytesDone) + " of " + units.Bytes(s.BytesTotal)}
	if s.BytesTotal < 0 {
		parts[0] = units.Bytes(s.BytesDone)
	}
	if s.Phase == core.PhaseDownloading && s.Speed > 0 {
		parts = append(parts, units.Rate(s.Speed))
		if s.ETA > 0 {
			parts = append(parts, units.Duration(s.ETA)+" left")
		}
	}
	return strings.Join(parts, " · ")
}

// phaseText is the short state at the right of a row's title; the bar
// shows the percentage.
func phaseText(s core.Snapshot) string {
	switch s.Phase {
	case core.PhaseQueued:
		return "Queued"
	case core.PhaseResolving:
		return "Resolving"
	case core.PhaseWaiting:
		return "Waiting"
	case core.PhaseDownloading:
		if s.Retrying != "" {
			return "Retrying"
		}
		return "Downloading"
	case core.PhaseVerifying:
		return "Verifying"
	case core.PhaseConverting:
		return "Converting"
	case core.PhasePaused:
		return "Paused"
	case core.PhaseDone:
		return "Done"
	case core.PhaseFailed:
		return "Failed"
	case core.PhaseCancelled:
		return "Cancelled"
	}
	return string(s.Phase)
}

// dlItem draws one row of the downloads list.
type dlItem struct {
	widget.BaseWidget
	v     *downloadsView
	rowID string

	title   *widget.Label
	phase   *widget.Label
	bar     *widget.ProgressBar
	detail  *widget.Label
	pause   *widget.Button
	resume  *widget.Button
	cancel  *widget.Button
	details *widget.Button
	remove  *widget.Button
	content fyne.CanvasObject
}

func newDLItem(v *downloadsView) *dlItem {
	it := &dlItem{v: v}
	it.title = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	it.title.Truncation = fyne.TextTruncateEllipsis
	it.phase = widget.NewLabel("")
	it.phase.Alignment = fyne.TextAlignTrailing
	it.bar = widget.NewProgressBar()
	it.detail = widget.NewLabel("")
	it.detail.Truncation = fyne.TextTruncateEllipsis
	it.pause = widget.NewButtonWithIcon("Pause", theme.MediaPauseIcon(), func() { it.act("pause") })
	it.resume = widget.NewButtonWithIcon("Resume", theme.MediaPlayIcon(), func() { it.act("resume") })
	it.cancel = widget.NewButtonWithIcon("Cancel", theme.CancelIcon(), func() { it.act("cancel") })
	it.details = widget.NewButtonWithIcon("Details", theme.InfoIcon(), func() { it.act("details") })
	it.remove = widget.NewButtonWithIcon("Remove", theme.ContentClearIcon(), func() { it.act("remove") })
	buttons := container.NewHBox(it.pause, it.resume, it.details, it.cancel, it.remove)
	head := container.NewBorder(nil, nil, nil, it.phase, it.title)
	body := container.NewVBox(head, it.bar, it.detail)
	it.content = container.NewBorder(nil, widget.NewSeparator(), nil, container.NewCenter(buttons), body)
	it.ExtendBaseWidget(it)
	return it
}

// CreateRenderer draws the row's content.
func (it *dlItem) CreateRenderer() fyne.WidgetRenderer { return widget.NewSimpleRenderer(it.content) }

// show draws row id, touching only what changed since the row last drew.
func (it *dlItem) show(id widget.ListItemID) {
	if id < 0 || id >= len(it.v.rows) {
		return
	}
	r := &it.v.rows[id]
	it.rowID = r.id
	if r.partial() {
		setText(it.title, it.v.u.imageTitle(r.image.Key))
		setLabel(it.phase, "Interrupted", widget.WarningImportance)
		it.bar.Hide()
		setLabel(it.detail, units.Bytes(r.image.SizeBytes)+" downloaded in an earlier session. Resume continues where it stopped.", widget.MediumImportance)
		setButtonText(it.resume, "Resume")
		setButtonText(it.remove, "Discard")
		setVisible(it.pause, false)
		setVisible(it.resume, true)
		setVisible(it.cancel, false)
		setVisible(it.details, false)
		setVisible(it.remove, true)
		return
	}
	s := r.snap
	setText(it.title, s.Title)
	imp := widget.MediumImportance
	switch s.Phase {
	case core.PhaseFailed:
		imp = widget.DangerImportance
	case core.PhaseDone:
		imp = widget.SuccessImportance
	case core.PhasePaused, core.PhaseCancelled:
		imp = widget.WarningImportance
	}
	setLabel(it.phase, phaseText(s), imp)
	setVisible(it.bar, s.Phase != core.PhaseFailed || keptAfter(s))
	f := s.Fraction()
	if s.Phase == core.PhaseConverting {
		f = s.Converted // the bar follows qemu-img once the bytes are in
	}
	if it.bar.Value != f {
		it.bar.SetValue(f)
	}
	detail, imp := "", widget.MediumImportance
	switch s.Phase {
	case core.PhaseFailed:
		detail, _ = explainPull(s.Err)
		imp = widget.DangerImportance
	case core.PhaseCancelled:
		detail = "Cancelled at " + units.Bytes(s.BytesDone) + ". What arrived is kept; Resume continues from there."
	case core.PhaseDone:
		detail = "In the cache"
		if s.BytesTotal > 0 {
			detail += " · " + units.Bytes(s.BytesTotal)
		}
		if s.Build != "" {
			detail += " · build " + s.Build
		}
		for _, n := range s.Notices {
			detail += " · " + n
		}
	case core.PhasePaused:
		detail = "Paused at " + describeProgress(s)
	default:
		if s.Retrying != "" {
			detail = "Retrying after an error: " + s.Retrying
		} else {
			detail = describeProgress(s)
			detail = strings.ToUpper(detail[:1]) + detail[1:]
		}
	}
	if from := it.v.u.sourceText(s); from != "" && s.Phase != core.PhaseFailed {
		detail += " · " + from
	}
	setLabel(it.detail, detail, imp)
	fix := remedy{}
	if s.Phase == core.PhaseFailed {
		fix = it.v.u.remedyFor(s)
		setButtonText(it.resume, fix.label)
	} else {
		setButtonText(it.resume, "Resume")
	}
	setButtonText(it.remove, "Remove")
	finished := s.Phase.Finished()
	setVisible(it.pause, !finished && s.Phase != core.PhasePaused)
	setVisible(it.resume, s.Phase == core.PhasePaused || s.Phase == core.PhaseCancelled || fix.label != "")
	setVisible(it.cancel, !finished)
	setVisible(it.details, s.Phase == core.PhaseFailed)
	setVisible(it.remove, finished)
}

// act runs a row's button.
func (it *dlItem) act(action string) {
	v := it.v
	r := v.row(it.rowID)
	if r == nil {
		return
	}
	u := v.u
	if r.partial() {
		k := r.image.Key
		switch action {
		case "resume":
			u.pull(refOf(k), core.PullOptions{RawDefault: true})
		case "remove":
			u.confirm("Discard "+u.imageTitle(k)+"?",
				"This deletes the "+units.Bytes(r.image.SizeBytes)+" downloaded so far. Downloading it later starts from the beginning.",
				"Discard", func() { u.removeImage(k) })
		}
		return
	}
	j, s := r.job, r.snap
	switch action {
	case "pause":
		go func() { j.Pause(); u.pokeTick() }()
	case "resume":
		switch s.Phase {
		case core.PhasePaused:
			go func() { j.Resume(); u.pokeTick(); u.pokeWhenResumed(j) }()
		case core.PhaseFailed:
			if r := u.remedyFor(s); r.action != nil {
				r.action()
			}
		default:
			u.pull(s.Ref, core.PullOptions{RawDefault: true})
		}
	case "cancel":
		go func() { j.Cancel(); u.pokeTick() }()
	case "details":
		u.showFailure(s)
	case "remove":
		v.cleared[s.ID] = true
		v.setImages()
	}
}

// removeImage deletes a cached image in a goroutine, then reloads the cache.
func (u *UI) removeImage(k cache.Key) {
	if !u.ops.start(k, opDelete) {
		return
	}
	u.pokeTick()
	go func() {
		err := u.m.Remove(u.ctx, k)
		u.ops.end(k)
		u.do(func() {
			if err != nil && !errors.Is(err, context.Canceled) {
				what, todo := explain(err, "Close any program using the image's files and try again.")
				u.showMessage("Could not delete "+u.imageTitle(k), theme.ErrorIcon(), what, todo, nil)
			}
			u.reloadCache()
		})
		u.pokeTick()
	}()
}
