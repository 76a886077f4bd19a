package ui

import (
	"context"
	"errors"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/units"
)

// cacheColumns are the widths of the cache list's columns after the first
// (Image): Build, State, Size, Last used.
var cacheColumns = []float32{140, 130, 130, 80, 90}

// cacheView lists the cached images with size, state, build and last use,
// and acts on the selected one: verify, convert to raw, reveal, copy path,
// delete. Its footer shows the total and the free space, with Verify all
// and Prune.
type cacheView struct {
	u       *UI
	content fyne.CanvasObject

	filter  *widget.Entry
	all     []cache.Image
	shown   []cache.Image
	index   map[cache.Key]int // row of each shown image
	list    *keyList
	empty   *widget.Label
	ops     map[cache.Key]opState
	results map[cache.Key]string // last verify or convert outcome per image

	sel       cache.Key
	hasSel    bool
	selTitle  *widget.Label
	selInfo   *widget.Label
	selStatus *widget.Label
	opBar     *widget.ProgressBar
	verify    *widget.Button
	convert   *widget.Button
	reveal    *widget.Button
	copyPath  *widget.Button
	update    *widget.Button // "Update to <build>" when upstream has one
	newDisk   *widget.Button // "New VM disk…"
	// newDiskForm is the open "New VM disk…" dialog's fields (tests fill it).
	newDiskForm *newDiskForm
	publish     *widget.Button // "Publish to registry…"
	// publishForm is the open "Publish to registry…" dialog's fields.
	publishForm *publishForm
	remove      *widget.Button
	selPane     *fyne.Container
	noSel       *widget.Label
	footer      *widget.Label
	updLine     *widget.Label // the last update check's trouble or news, one line
	verifyAll   *widget.Button
	prune       *widget.Button
	verifying   bool                        // Verify all is running
	live        map[cache.Key]core.Snapshot // downloads in flight, as the ticker last read them
	headers     []*widget.Button
	sortCol     int  // index into sortColumns
	sortDesc    bool // largest, newest or last first
}

func newCacheView(u *UI) *cacheView {
	c := &cacheView{u: u, ops: map[cache.Key]opState{}, results: map[cache.Key]string{}, index: map[cache.Key]int{}}
	c.filter = widget.NewEntry()
	c.filter.SetPlaceHolder("Filter cached images")
	c.filter.OnChanged = func(string) { c.applyFilter() }

	cols := &columns{widths: cacheColumns}
	var heads []fyne.CanvasObject
	for i, name := range sortColumns {
		b := widget.NewButton(name, func() { c.sortBy(i) })
		b.Importance = widget.LowImportance
		b.Alignment = widget.ButtonAlignLeading
		c.headers = append(c.headers, b)
		heads = append(heads, b)
	}
	c.headers[0].SetText("Image ▲")
	header := container.New(cols, heads...)

	c.list = &keyList{onDelete: c.deleteSelected}
	c.list.Length = func() int { return len(c.shown) }
	c.list.CreateItem = func() fyne.CanvasObject {
		cells := make([]fyne.CanvasObject, 5)
		for i := range cells {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			cells[i] = l
		}
		return newRowMenu(container.New(cols, cells...), c.rowMenu)
	}
	c.list.UpdateItem = c.updateRow
	c.list.ExtendBaseWidget(c.list)
	c.list.OnSelected = func(id widget.ListItemID) {
		if id >= 0 && id < len(c.shown) {
			c.sel, c.hasSel = c.shown[id].Key, true
			c.showSelection()
		}
	}
	c.list.OnUnselected = func(widget.ListItemID) {}
	c.empty = widget.NewLabel("Checking the cache…")
	c.empty.Alignment = fyne.TextAlignCenter
	c.empty.Wrapping = fyne.TextWrapWord

	c.selTitle = widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	c.selTitle.Truncation = fyne.TextTruncateEllipsis
	c.selInfo = widget.NewLabel("")
	c.selInfo.Truncation = fyne.TextTruncateEllipsis
	c.selStatus = widget.NewLabel("")
	c.selStatus.Truncation = fyne.TextTruncateEllipsis
	c.opBar = widget.NewProgressBar()
	c.opBar.Hide()
	c.verify = widget.NewButtonWithIcon("Verify", theme.ConfirmIcon(), func() { c.startVerify(c.sel, false) })
	c.convert = widget.NewButtonWithIcon("Convert to raw", theme.MediaReplayIcon(), func() { c.startConvert(c.sel) })
	c.reveal = widget.NewButtonWithIcon("Show in folder", theme.FolderOpenIcon(), func() { c.revealSelected() })
	c.copyPath = widget.NewButtonWithIcon("Copy path…", theme.ContentCopyIcon(), func() { c.showCopyMenu() })
	c.newDisk = widget.NewButtonWithIcon("New VM disk…", theme.ContentAddIcon(), func() { c.newDiskSelected() })
	c.publish = widget.NewButtonWithIcon("Publish to registry…", theme.UploadIcon(), func() { c.publishSelected() })
	c.update = widget.NewButtonWithIcon("Update", theme.DownloadIcon(), func() { c.updateSelected() })
	c.update.Importance = widget.HighImportance
	c.update.Hide()
	c.remove = widget.NewButtonWithIcon("Delete…", theme.DeleteIcon(), func() { c.deleteSelected() })
	c.remove.Importance = widget.DangerImportance
	// Two rows, so that the window still fits 800×500.
	buttons := container.NewVBox(
		container.NewHBox(c.verify, c.convert, c.reveal, c.copyPath, c.newDisk, layout.NewSpacer(), c.remove),
		container.NewHBox(c.publish, c.update))
	c.selPane = container.NewVBox(c.selTitle, c.selInfo, c.selStatus, c.opBar, buttons)
	c.noSel = widget.NewLabel("Select an image to verify, convert, show, copy, publish or delete it.")
	c.selPane.Hide()

	c.footer = widget.NewLabel("")
	c.footer.Truncation = fyne.TextTruncateEllipsis
	c.verifyAll = widget.NewButtonWithIcon("Verify all", theme.ConfirmIcon(), c.startVerifyAll)
	c.prune = widget.NewButtonWithIcon("Prune…", theme.ContentRemoveIcon(), func() { u.showPrune(nil) })
	refresh := widget.NewButtonWithIcon("", theme.ViewRefreshIcon(), u.reloadCache)
	c.updLine = widget.NewLabel("")
	c.updLine.Truncation = fyne.TextTruncateEllipsis
	c.updLine.SizeName = theme.SizeNameCaptionText
	c.updLine.Hide()
	footer := container.NewBorder(nil, c.updLine, nil, container.NewHBox(c.verifyAll, c.prune, refresh), c.footer)

	top := container.NewVBox(c.filter, header, widget.NewSeparator())
	bottom := container.NewVBox(widget.NewSeparator(), container.NewStack(c.noSel, c.selPane), widget.NewSeparator(), footer)
	c.content = container.NewBorder(top, bottom, nil, nil, container.NewStack(c.list, container.NewVBox(c.empty)))
	return c
}

// setImages installs a new listing.
func (c *cacheView) setImages(images []cache.Image, free int64) {
	c.all = images
	c.applyFilter()
	total := cache.TotalBytes(images)
	text := plural(len(images), "image", "images") + " · " + units.Bytes(total) + " in " + c.u.m.CacheDir()
	if free >= 0 {
		text += " · " + units.Bytes(free) + " free on that disk"
	}
	c.footer.SetText(text)
	setEnabled(c.verifyAll, len(images) > 0 && !c.verifying)
	setEnabled(c.prune, len(images) > 0)
	if c.hasSel {
		c.showSelection()
	}
}

// setError shows why the cache could not be listed.
func (c *cacheView) setError(msg string) {
	c.all, c.shown = nil, nil
	c.list.Refresh()
	c.empty.SetText(msg)
	c.empty.Show()
}

// applyFilter recomputes the visible rows.
func (c *cacheView) applyFilter() {
	q := c.filter.Text
	c.shown = c.shown[:0]
	c.index = make(map[cache.Key]int, len(c.all))
	for _, im := range c.images() {
		if q == "" || matches(q, im.Distro, c.u.distroName(im.Distro), im.Version, im.Arch, im.Build, string(im.State)) {
			c.shown = append(c.shown, im)
		}
	}
	c.sortImages()
	for i, im := range c.shown {
		c.index[im.Key] = i
	}
	switch {
	case len(c.all) == 0:
		c.empty.SetText("The cache is empty. Images you download from the Catalog tab appear here.")
	case len(c.shown) == 0:
		c.empty.SetText("No cached image matches “" + q + "”.")
	}
	c.empty.Hidden = len(c.shown) > 0
	c.u.stats.fullCache++
	c.list.Refresh()
	// The list remembers a selected row number, not an image: after a
	// delete or a prune the row number names another image, or none.
	if i, ok := c.index[c.sel]; ok && c.hasSel {
		c.list.Select(i)
	} else {
		c.list.UnselectAll()
	}
}

// updateRow draws row id.
func (c *cacheView) updateRow(id widget.ListItemID, o fyne.CanvasObject) {
	if id < 0 || id >= len(c.shown) {
		return
	}
	im := c.shown[id]
	row := o.(*rowMenu)
	row.key = im.Key
	cells := row.content.(*fyne.Container).Objects
	set := func(i int, s string, imp widget.Importance) { setLabel(cells[i].(*widget.Label), s, imp) }
	set(0, c.u.imageTitle(im.Key), widget.MediumImportance)
	set(1, orDash(im.Build), widget.MediumImportance)
	state, imp := c.stateText(im)
	set(2, state, imp)
	size := im.SizeBytes
	if s, ok := c.live[im.Key]; ok {
		size = max(size, s.BytesDone)
	}
	set(3, units.Bytes(size), widget.MediumImportance)
	set(4, units.Age(c.u.opt.Now(), im.LastUsed), widget.MediumImportance)
}

// stateText is the State column: an operation in flight, else the last
// outcome, else the state on disk.
func (c *cacheView) stateText(im cache.Image) (string, widget.Importance) {
	if op, ok := c.ops[im.Key]; ok {
		if f := op.fraction(); f >= 0 {
			return string(op.kind) + " " + itoa(int(f*100)) + "%", widget.HighImportance
		}
		return string(op.kind) + "…", widget.HighImportance
	}
	if s, ok := c.live[im.Key]; ok {
		if s.BytesTotal > 0 && s.Phase == core.PhaseDownloading {
			return "downloading " + itoa(int(s.Fraction()*100)) + "%", widget.HighImportance
		}
		return strings.ToLower(phaseText(s)), widget.HighImportance
	}
	text, imp := c.diskState(im)
	if up, ok := c.u.updateFor(im.Key); ok {
		text += " · update " + up.Latest
		if imp != widget.DangerImportance {
			imp = widget.WarningImportance
		}
	}
	return text, imp
}

// diskState is the State column without operations and updates: the last
// outcome, else the state on disk.
func (c *cacheView) diskState(im cache.Image) (string, widget.Importance) {
	if r := c.results[im.Key]; r != "" {
		if strings.HasPrefix(r, "verified") || strings.HasPrefix(r, "converted") {
			return r, widget.SuccessImportance
		}
		return r, widget.DangerImportance
	}
	switch im.State {
	case cache.StateReady:
		text := "ready"
		if im.Meta != nil && im.Meta.DiskRaw != nil {
			text = "ready, with raw"
		}
		if v := verifiedOK(im); v != nil {
			return text + ", verified " + units.Age(c.u.opt.Now(), v.At), widget.SuccessImportance
		}
		return text, widget.MediumImportance
	case cache.StatePartial:
		return "partial", widget.WarningImportance
	case cache.StateCorrupt:
		if failedVerify(im) {
			return "failed verification", widget.DangerImportance
		}
		return "damaged", widget.DangerImportance
	}
	return string(im.State), widget.MediumImportance
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// updateOps follows the cache operations in flight: only the rows whose
// operation started, moved or ended are refreshed.
func (c *cacheView) updateOps(ops map[cache.Key]opState) {
	changed := map[cache.Key]bool{}
	for k, o := range ops {
		if old, ok := c.ops[k]; !ok || old != o {
			changed[k] = true
		}
	}
	for k := range c.ops {
		if _, ok := ops[k]; !ok {
			changed[k] = true
		}
	}
	c.ops = maps.Clone(ops) // the ticker keeps ops to compare with the next tick's
	for k := range changed {
		if i, ok := c.index[k]; ok {
			c.u.stats.cacheRows++
			c.list.RefreshItem(i)
		}
	}
	if c.hasSel && changed[c.sel] {
		c.showSelection()
	}
}

// updatesChanged follows an update check: the State column, the selected
// image's Update button and the footer's update line.
func (c *cacheView) updatesChanged() {
	c.list.Refresh() // rows only redraw the labels that changed
	line, imp := c.u.upd.errLine, widget.WarningImportance
	if line == "" {
		if n := len(c.u.pendingUpdates()); n > 0 {
			line, imp = plural(n, "image has", "images have")+" a newer build upstream: select one and press Update, or update it from the Catalog tab.", widget.MediumImportance
		}
	}
	setLabel(c.updLine, line, imp)
	setVisible(c.updLine, line != "")
	if c.hasSel {
		c.showSelection()
	}
}

// updateSelected pulls the newer build of the selected image.
func (c *cacheView) updateSelected() {
	im, ok := c.selected()
	if !ok {
		return
	}
	if _, ok := c.u.updateFor(im.Key); !ok {
		return
	}
	c.update.Disable()
	c.u.pullUpdate(im.Key, false)
}

// selected returns the selected image, if it is still listed.
func (c *cacheView) selected() (cache.Image, bool) {
	if !c.hasSel {
		return cache.Image{}, false
	}
	for _, im := range c.images() {
		if im.Key == c.sel {
			return im, true
		}
	}
	return cache.Image{}, false
}

// images is the listing plus the images being downloaded that the listing
// does not hold yet: the list shows what is on disk and what is arriving,
// from the same state the catalog, the downloads and the tray show.
func (c *cacheView) images() []cache.Image {
	out := c.all
	for k := range c.live {
		if !slices.ContainsFunc(c.all, func(im cache.Image) bool { return im.Key == k }) {
			if len(out) == len(c.all) {
				out = slices.Clone(c.all)
			}
			out = append(out, cache.Image{Key: k, State: cache.StatePartial, Path: c.u.m.Cache().Dir(k)})
		}
	}
	return out
}

// updateLive follows the downloads in flight: a download of an image the
// list does not hold yet adds its row, one that ends and left nothing
// removes it, and rows whose progress moved are redrawn.
func (c *cacheView) updateLive(live map[cache.Key]core.Snapshot) {
	old := c.live
	c.live = live
	listed := func(k cache.Key) bool {
		return slices.ContainsFunc(c.all, func(im cache.Image) bool { return im.Key == k })
	}
	for k := range live {
		if _, was := old[k]; !was && !listed(k) {
			c.applyFilter()
			c.showSelectionIf(true)
			return
		}
	}
	for k := range old {
		if _, is := live[k]; !is && !listed(k) {
			c.applyFilter()
			c.showSelectionIf(true)
			return
		}
	}
	moved := false
	for k, s := range live {
		if o, ok := old[k]; ok && sameSnapshot(o, s) {
			continue
		}
		if i, ok := c.index[k]; ok {
			c.u.stats.cacheRows++
			c.list.RefreshItem(i)
		}
		moved = moved || k == c.sel
	}
	for k := range old {
		if _, is := live[k]; !is {
			if i, ok := c.index[k]; ok {
				c.list.RefreshItem(i)
			}
			moved = moved || k == c.sel
		}
	}
	c.showSelectionIf(moved)
}

// showSelectionIf redraws the selection pane when cond holds and an image
// is selected.
func (c *cacheView) showSelectionIf(cond bool) {
	if cond && c.hasSel {
		c.showSelection()
	}
}

// Select selects a cached image by key; false when it is not listed.
func (c *cacheView) Select(k cache.Key) bool {
	i, ok := c.index[k]
	if ok {
		c.list.Select(i)
		c.list.ScrollTo(i)
	}
	return ok
}

// showSelection fills the pane under the list for the selected image.
func (c *cacheView) showSelection() {
	im, ok := c.selected()
	if !ok {
		c.hasSel = false
		c.selPane.Hide()
		c.noSel.Show()
		return
	}
	c.noSel.Hide()
	c.selPane.Show()
	c.selTitle.SetText(c.u.imageTitle(im.Key) + " · " + im.Path)
	c.selInfo.SetText(describeImage(im))
	op, busy := c.ops[im.Key]
	up, upd := c.u.updateFor(im.Key)
	switch {
	case busy && op.kind == opVerify:
		c.selStatus.SetText("Verifying: re-hashing every file and comparing it with the digest recorded at download…")
	case busy && op.kind == opPush:
		status := "Publishing to the registry"
		if op.note != "" {
			status += ": " + op.note
			if op.total > 0 {
				status += " · " + units.Bytes(op.done) + " of " + units.Bytes(op.total)
			}
		}
		c.selStatus.SetText(status + "…")
	case busy && op.kind == opConvert:
		c.selStatus.SetText("Converting the disk to raw with qemu-img…")
	case busy:
		c.selStatus.SetText("Deleting…")
	case c.live[im.Key].ID != 0:
		c.selStatus.SetText("Downloading: " + describeProgress(c.live[im.Key]))
	case failedVerify(im):
		c.selStatus.SetText("Failed verification " + units.Age(c.u.opt.Now(), im.Meta.Verified.At) + ": " + strings.Join(im.Meta.Verified.Problems, "; ") +
			". Delete it and download it again, or Verify again.")
	case im.State != cache.StateReady:
		c.selStatus.SetText(sentence(string(im.State) + ": " + im.Reason))
	case upd:
		c.selStatus.SetText(updateLabel(up) + " Update fetches it; build " + im.Build + " stays until the new one is verified.")
	case c.results[im.Key] != "":
		c.selStatus.SetText(sentence(c.results[im.Key]))
	case (im.Meta == nil || im.Meta.DiskRaw == nil) && diskFormat(im) != "raw" && !c.u.m.CanConvert():
		c.selStatus.SetText(qemuImgHint)
	default:
		c.selStatus.SetText("Verify re-hashes the files and compares them with the digests recorded at download.")
	}
	if busy {
		c.opBar.Show()
		if f := op.fraction(); f >= 0 {
			c.opBar.SetValue(f)
		} else {
			c.opBar.SetValue(0)
		}
	} else {
		c.opBar.Hide()
	}
	ready := im.State == cache.StateReady
	hasRaw := im.Meta != nil && im.Meta.DiskRaw != nil
	setEnabled(c.verify, (ready || failedVerify(im)) && !busy)
	canConvert := c.u.m.CanConvert()
	setEnabled(c.convert, ready && !busy && !hasRaw && diskFormat(im) != "raw" && canConvert)
	setEnabled(c.remove, !busy)
	setEnabled(c.publish, ready && !busy)
	_, pulling := c.u.liveJobs[im.Key]
	if pulling {
		setButtonText(c.remove, "Stop and delete…")
	} else {
		setButtonText(c.remove, "Delete…")
	}
	setVisible(c.update, upd)
	if upd {
		setButtonText(c.update, "Update to "+up.Latest)
		setEnabled(c.update, !busy && !pulling)
	}
	if hasRaw {
		c.convert.SetText("Raw disk present")
	} else {
		c.convert.SetText("Convert to raw")
	}
}

// describeImage lists an image's files and how they were proven.
func describeImage(im cache.Image) string {
	if im.Meta == nil {
		return "No metadata yet: " + units.Bytes(im.SizeBytes) + " of transfers in progress or interrupted."
	}
	var files []string
	for _, a := range im.Meta.Assets {
		files = append(files, a.File+" ("+units.Bytes(a.Size)+")")
	}
	if r := im.Meta.DiskRaw; r != nil {
		files = append(files, r.File+" ("+units.Bytes(r.Size)+")")
	}
	text := "Files: " + strings.Join(files, ", ")
	proof, _, _ := strings.Cut(proofText(im.Meta), "\n")
	return text + " · " + strings.TrimSuffix(proof, ".")
}

// diskFormat is the cached disk's format.
func diskFormat(im cache.Image) string {
	if im.Meta == nil {
		return ""
	}
	if a := im.Meta.Asset(cache.RoleDisk); a != nil {
		return a.Format
	}
	return ""
}

// startVerify re-hashes image k in a goroutine. Problems open a dialog
// unless quiet (Verify all reports them together).
func (c *cacheView) startVerify(k cache.Key, quiet bool) (done <-chan verifyResult) {
	u := c.u
	ch := make(chan verifyResult, 1)
	if !u.ops.start(k, opVerify) {
		close(ch)
		return ch
	}
	u.pokeTick()
	go func() {
		problems, err := u.m.Verify(u.ctx, k, func(d, t int64) { u.ops.progress(k, d, t) })
		u.ops.end(k)
		u.pokeTick()
		ch <- verifyResult{key: k, problems: problems, err: err}
		close(ch)
		u.do(func() { c.verified(k, problems, err, quiet) })
	}()
	return ch
}

// verifyResult is the outcome of verifying one image.
type verifyResult struct {
	key      cache.Key
	problems []string
	err      error
}

// verified records a verify outcome and, unless quiet, reports trouble.
func (c *cacheView) verified(k cache.Key, problems []string, err error, quiet bool) {
	u := c.u
	delete(c.ops, k) // ended; the next tick would say so too
	switch {
	case errors.Is(err, context.Canceled):
		delete(c.results, k)
	case err != nil:
		c.results[k] = "verify failed"
		if !quiet {
			what, todo := explain(err, "Try again; if it keeps failing, delete the image and download it again.")
			u.showMessage("Could not verify "+u.imageTitle(k), theme.ErrorIcon(), what, todo, nil)
		}
	case len(problems) > 0:
		c.results[k] = plural(len(problems), "problem", "problems")
		if !quiet {
			u.showMessage(u.imageTitle(k)+" is damaged", theme.ErrorIcon(),
				"Verification found: "+strings.Join(problems, "; ")+".",
				"Delete the image and download it again from the Catalog tab; a pull only keeps files that match the published digests.", nil)
		}
	default:
		c.results[k] = "verified just now"
	}
	if i, ok := c.index[k]; ok {
		c.list.RefreshItem(i)
	}
	if c.hasSel && c.sel == k {
		c.showSelection()
	}
	u.reloadCache() // the verdict is recorded with the image: the views read it from there
}

// verifiedOK is the image's last verify when it found nothing wrong.
func verifiedOK(im cache.Image) *cache.VerifyMeta {
	if im.Meta != nil && im.Meta.Verified != nil && im.Meta.Verified.OK {
		return im.Meta.Verified
	}
	return nil
}

// failedVerify reports whether the image's last verify found problems; the
// verdict stands until it is verified again or pulled anew.
func failedVerify(im cache.Image) bool { return im.Meta != nil && im.Meta.Failed() }

// startVerifyAll verifies every ready image, one after another, then sums
// up in one dialog.
func (c *cacheView) startVerifyAll() {
	if c.verifying {
		return
	}
	var keys []cache.Key
	for _, im := range c.all {
		if im.State == cache.StateReady || failedVerify(im) {
			keys = append(keys, im.Key)
		}
	}
	if len(keys) == 0 {
		c.u.showMessage("Nothing to verify", theme.InfoIcon(), "The cache holds no complete image.", "", nil)
		return
	}
	c.verifying = true
	c.verifyAll.Disable()
	u := c.u
	go func() {
		var bad []string
		for _, k := range keys {
			r, ok := <-c.startVerify(k, true)
			if !ok {
				continue // already being verified or changed
			}
			if u.ctx.Err() != nil {
				return
			}
			if r.err != nil || len(r.problems) > 0 {
				bad = append(bad, u.imageTitle(k))
			}
		}
		u.do(func() {
			c.verifying = false
			setEnabled(c.verifyAll, len(c.all) > 0)
			if len(bad) == 0 {
				msg := "All " + plural(len(keys), "image", "images") + " verified: every file matches the digest recorded when it was downloaded."
				u.showMessage("Cache verified", theme.ConfirmIcon(), msg, "", nil)
				return
			}
			u.showMessage("Some images are damaged", theme.ErrorIcon(),
				itoa(len(bad))+" of "+plural(len(keys), "image", "images")+" failed verification: "+strings.Join(bad, ", ")+".",
				"Select each one in the Cache tab for details, delete it, and download it again from the Catalog tab.", nil)
		})
	}()
}

// startConvert makes a raw disk beside image k in a goroutine.
func (c *cacheView) startConvert(k cache.Key) {
	u := c.u
	if !u.ops.start(k, opConvert) {
		return
	}
	u.pokeTick()
	go func() {
		_, err := u.m.ConvertWithProgress(u.ctx, k, func(f float64) {
			u.ops.progress(k, int64(f*1000), 1000)
		})
		u.ops.end(k)
		u.pokeTick()
		u.do(func() {
			delete(c.ops, k)
			switch {
			case errors.Is(err, context.Canceled):
			case err != nil:
				c.results[k] = "convert failed"
				what, todo := explain(err, "Check the free space in the cache folder's disk and try again.")
				u.showMessage("Could not convert "+u.imageTitle(k), theme.ErrorIcon(), what, todo, nil)
			default:
				c.results[k] = "converted to raw"
			}
			u.reloadCache()
		})
	}()
}

// revealSelected opens the selected image's folder in the file manager.
func (c *cacheView) revealSelected() {
	im, ok := c.selected()
	if !ok {
		return
	}
	u := c.u
	go func() {
		if err := u.opt.Reveal(im.Path); err != nil {
			u.do(func() {
				u.showMessage("Could not open the file manager", theme.ErrorIcon(), sentence(err.Error()),
					"Open the folder yourself; its path is "+im.Path+" (Copy path puts it on the clipboard).", nil)
			})
		}
	}()
}

// deleteSelected asks, then deletes the selected image. While a download
// of it runs, the question says that it stops the download, with the
// bytes on disk now.
func (c *cacheView) deleteSelected() {
	im, ok := c.selected()
	if !ok {
		return
	}
	c.u.confirmDelete(im.Key, im.Path)
}

// confirmDelete measures what image k holds on disk now, asks, and
// deletes it; a download of it is stopped first.
func (u *UI) confirmDelete(k cache.Key, dir string) {
	go func() {
		size := diskUsage(dir)
		u.do(func() {
			title := u.imageTitle(k)
			if _, pulling := u.liveJobs[k]; pulling {
				u.confirm("Stop the download and delete "+units.Bytes(size)+"?",
					"The download of "+title+" stops and the "+units.Bytes(size)+" downloaded so far are deleted. Downloading it later starts from the beginning.",
					"Stop and delete", func() { u.stopAndRemove(k) })
				return
			}
			u.confirm("Delete "+title+"?",
				"This removes "+units.Bytes(size)+" from the cache ("+dir+"). You can download it again later.",
				"Delete", func() { u.removeImage(k) })
		})
	}()
}

// stopAndRemove cancels the jobs pulling k, waits for them to end, and
// deletes the image; their rows leave the Downloads list, since nothing of
// them is kept.
func (u *UI) stopAndRemove(k cache.Key) {
	var jobs []*core.Job
	for _, j := range u.m.Jobs() {
		if s := j.Snapshot(); s.Key == k && !s.Phase.Finished() {
			jobs = append(jobs, j)
			u.dl.cleared[s.ID] = true
		}
	}
	if !u.ops.start(k, opDelete) {
		return
	}
	u.pokeTick()
	go func() {
		for _, j := range jobs {
			j.Cancel()
			select {
			case <-j.Done():
			case <-u.ctx.Done():
				u.ops.end(k)
				return
			}
		}
		u.ops.end(k)
		u.removeImage(k)
	}()
}

// diskUsage is the bytes of the files under dir, 0 when it cannot be read.
func diskUsage(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}
