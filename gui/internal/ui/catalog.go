package ui

import (
	"errors"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/config"
	"vmimages/core/discover"
	"vmimages/core/units"
)

// allArches is the arch filter's entry that hides nothing.
const allArches = "All architectures"

// catalogView lists what can be pulled — distro → version, filtered by a
// search box and an architecture — and shows the chosen entry: what it
// contains, how it boots, how it is verified, whether it is cached, and a
// Download button.
type catalogView struct {
	u       *UI
	content fyne.CanvasObject

	search     *widget.Entry
	archFilter *widget.Select
	tree       *keyTree
	noMatch    *widget.Label
	children   map[string][]string // tree node → visible children
	badges     map[string]string   // leaf → badge text shown

	refresh     *widget.Button // asks upstream for new releases
	refreshLine *widget.Label  // what the last refresh found
	sourceLine  *widget.Label  // where the catalog comes from
	refreshing  bool
	left        *fyne.Container // the tree's pane, laid out again when its lines change

	distro  *catalog.Distro
	version *catalog.Version
	info    core.EntryInfo

	placeholder *fyne.Container
	detail      *fyne.Container
	title       *widget.Label
	subtitle    *widget.Label
	arch        *widget.Select
	contains    *widget.Label
	boot        *widget.Label
	checksums   *widget.Label
	support     *widget.Label
	source      *widget.Label
	state       *widget.Label
	size        *widget.Label // the download's size, before it starts
	proof       *widget.Label // how the cached image was proven
	proofKey    *widget.Label
	space       *widget.Label // a warning when the download will not fit
	rawHint     *widget.Label // why the raw check is off
	note        *widget.Label
	noteKey     *widget.Label
	raw         *widget.Check
	kernel      *widget.Check
	rawTouched  bool
	download    *widget.Button
	action      catalogAction // what download does now
	fix         remedy        // for actRemedy
}

// catalogAction is what the detail pane's main button does.
type catalogAction int

const (
	actDownload catalogAction = iota // pull (or resume) the entry
	actUpdate                        // pull the newer build upstream
	actCheck                         // look upstream for a newer build
	actRemedy                        // what can help after a failed pull (c.fix)
)

// Tree node ids: "" is the root, "d:<distro>" a distro, "v:<distro>/<version>"
// a version.
func distroNode(id string) string       { return "d:" + id }
func versionNode(id, ver string) string { return "v:" + id + "/" + ver }

func newCatalogView(u *UI) *catalogView {
	c := &catalogView{u: u, badges: map[string]string{}}

	c.search = widget.NewEntry()
	c.search.SetPlaceHolder("Search distributions and versions")
	c.search.ActionItem = widget.NewIcon(theme.SearchIcon())
	c.search.OnChanged = func(string) { c.filter() }

	c.archFilter = widget.NewSelect(nil, func(string) { c.filter() })
	arches := c.setArchChoices()

	c.tree = &keyTree{onEnter: c.enter}
	c.tree.ChildUIDs, c.tree.IsBranch, c.tree.CreateNode, c.tree.UpdateNode = c.childUIDs, c.isBranch, c.createNode, c.updateNode
	c.tree.ExtendBaseWidget(c.tree)
	c.tree.OnSelected = c.selected
	c.tree.OnUnselected = func(string) {}
	c.noMatch = widget.NewLabel("")
	c.noMatch.Alignment = fyne.TextAlignCenter
	c.noMatch.Wrapping = fyne.TextWrapWord
	c.noMatch.Hide()

	host := catalog.HostArch()
	if slices.Contains(arches, host) {
		c.archFilter.SetSelected(host)
	} else {
		c.archFilter.SetSelected(allArches)
	}

	c.refresh = widget.NewButtonWithIcon("Refresh catalog", theme.ViewRefreshIcon(), c.startRefresh)
	c.refreshLine = wrapLabel("")
	c.refreshLine.Hide()
	c.sourceLine = wrapLabel("")
	c.sourceLine.SizeName = theme.SizeNameCaptionText
	c.showSource()

	archRow := container.NewBorder(nil, nil, widget.NewLabel("Architecture"), nil, c.archFilter)
	left := container.NewBorder(container.NewVBox(c.search, archRow),
		container.NewVBox(c.refreshLine, container.NewBorder(nil, nil, nil, c.refresh, c.sourceLine)), nil, nil,
		container.NewStack(c.tree, container.NewVBox(c.noMatch)))
	c.left = left

	c.buildDetail()
	right := container.NewStack(c.placeholder, container.NewVScroll(c.detail))
	split := container.NewHSplit(left, right)
	split.SetOffset(0.4)
	c.content = split

	c.filter()
	c.tree.OpenAllBranches()
	if roots := c.children[""]; len(roots) > 0 {
		if d, _ := c.lookup(roots[0]); d != nil && d.Latest() != nil {
			c.Select(d.ID, d.Latest().Version)
		}
	}
	return c
}

// setArchChoices fills the arch filter with every arch the catalog has,
// keeping the choice, and returns them.
func (c *catalogView) setArchChoices() []string {
	arches := []string{allArches}
	for _, d := range c.u.m.Catalog().Distros {
		for _, v := range d.Versions {
			for _, a := range d.ArchList(v) {
				if !slices.Contains(arches, a) {
					arches = append(arches, a)
				}
			}
		}
	}
	slices.Sort(arches[1:])
	c.archFilter.Options = arches
	c.archFilter.Refresh()
	return arches
}

// buildDetail makes the right-hand pane.
func (c *catalogView) buildDetail() {
	pick := widget.NewLabel("Choose an image on the left to see what it contains.")
	pick.Importance = widget.LowImportance
	c.placeholder = container.NewCenter(pick)

	c.title = widget.NewLabel("")
	c.title.SizeName = theme.SizeNameSubHeadingText
	c.title.TextStyle.Bold = true
	c.subtitle = wrapLabel("")
	c.arch = widget.NewSelect(nil, func(string) { c.showState() })
	value := func() *widget.Label { return wrapLabel("") }
	c.contains, c.boot, c.checksums, c.support, c.source, c.state = value(), value(), value(), value(), value(), value()
	c.size, c.proof = value(), value()
	c.space = wrapLabel("")
	c.space.Importance = widget.WarningImportance
	c.space.Hide()
	c.rawHint = wrapLabel(qemuImgHint)
	c.rawHint.Importance = widget.WarningImportance
	c.rawHint.Hide()
	c.source.Truncation = fyne.TextTruncateEllipsis
	c.source.Wrapping = fyne.TextWrapOff
	c.note = wrapLabel("")
	c.raw = widget.NewCheck("Also convert the disk to raw", func(bool) { c.rawTouched = true })
	rawWhy := wrapLabel("A raw copy is what Apple Virtualization and Cloud Hypervisor boot.")
	rawWhy.SizeName = theme.SizeNameCaptionText
	c.kernel = widget.NewCheck("Also provide kernel + initramfs for direct boot", nil)
	c.download = widget.NewButtonWithIcon("Download", theme.DownloadIcon(), c.startDownload)
	c.download.Importance = widget.HighImportance

	key := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	}
	c.noteKey = key("Notes")
	c.proofKey = key("Proof")
	form := container.New(layout.NewFormLayout(),
		key("Architecture"), container.NewHBox(c.arch),
		key("Contains"), c.contains,
		key("Boot"), c.boot,
		key("Checksums"), c.checksums,
		key("Supported until"), c.support,
		key("Source"), c.source,
		key("In the cache"), c.state,
		key("Download size"), c.size,
		c.proofKey, c.proof,
		c.noteKey, c.note,
	)
	c.detail = container.NewVBox(
		c.title, c.subtitle, widget.NewSeparator(), form,
		widget.NewSeparator(), c.raw, rawWhy, c.rawHint, c.kernel, c.space, container.NewHBox(c.download),
	)
	c.detail.Hide()
	c.resetRawDefault()
}

// resetRawDefault sets the raw check from the settings unless the user
// changed it.
func (c *catalogView) resetRawDefault() {
	if c.rawTouched {
		return
	}
	on := false
	switch c.u.m.Config().Convert {
	case config.ConvertAlways:
		on = true
	case config.ConvertNever:
	default:
		on = c.u.opt.GOOS == "darwin"
	}
	c.raw.SetChecked(on)
	c.rawTouched = false
}

// filter recomputes which nodes the search and arch filter leave visible.
func (c *catalogView) filter() {
	if c.tree == nil {
		return // during construction
	}
	q := c.search.Text
	arch := c.archFilter.Selected
	c.children = map[string][]string{}
	var roots []string
	for _, d := range c.u.m.Catalog().Distros {
		var leaves []string
		for _, v := range d.Versions {
			if arch != allArches && arch != "" && !slices.Contains(d.ArchList(v), arch) {
				continue
			}
			if !matches(q, d.ID, d.Name, v.Version, v.Codename) {
				continue
			}
			leaves = append(leaves, versionNode(d.ID, v.Version))
		}
		if len(leaves) > 0 {
			roots = append(roots, distroNode(d.ID))
			c.children[distroNode(d.ID)] = leaves
		}
	}
	c.children[""] = roots
	c.noMatch.Hidden = len(roots) > 0
	switch {
	case len(roots) > 0:
	case q != "":
		c.noMatch.SetText("No image matches “" + q + "” for " + strings.ToLower(arch) + ".")
	default:
		c.noMatch.SetText("The catalog has no image for " + arch + ".")
	}
	c.noMatch.Refresh()
	c.computeBadges()
	c.tree.Refresh()
	if q != "" {
		c.tree.OpenAllBranches()
	}
	if c.version != nil {
		c.showState()
	}
}

func (c *catalogView) childUIDs(id widget.TreeNodeID) []widget.TreeNodeID { return c.children[id] }

func (c *catalogView) isBranch(id widget.TreeNodeID) bool {
	return id == "" || strings.HasPrefix(id, "d:")
}

func (c *catalogView) createNode(branch bool) fyne.CanvasObject {
	name := widget.NewLabel("")
	name.Truncation = fyne.TextTruncateEllipsis
	if branch {
		name.TextStyle.Bold = true
		return container.NewStack(name)
	}
	badge := widget.NewLabel("")
	badge.Alignment = fyne.TextAlignTrailing
	badge.Truncation = fyne.TextTruncateEllipsis
	return newRowMenu(container.New(&columns{widths: []float32{60, 130}}, name, badge), c.nodeMenu)
}

func (c *catalogView) updateNode(id widget.TreeNodeID, branch bool, o fyne.CanvasObject) {
	if r, ok := o.(*rowMenu); ok {
		r.id = id
		o = r.content
	}
	objs := o.(*fyne.Container).Objects
	name := objs[0].(*widget.Label)
	d, v := c.lookup(id)
	if d == nil {
		return
	}
	if branch {
		setText(name, d.Name)
		return
	}
	text := v.Version
	if v.Codename != "" && !strings.EqualFold(v.Codename, v.Version) {
		text += " (" + v.Codename + ")"
	}
	switch {
	case v.Preview:
		text += " · preview"
	case !v.Supported(c.u.opt.Now()):
		text += " · end of life"
	}
	setText(name, text)
	b := c.badges[id]
	imp := widget.HighImportance
	switch {
	case strings.HasPrefix(b, "update"):
		imp = widget.WarningImportance
	case strings.HasPrefix(b, "ready"), strings.HasPrefix(b, "cached"):
		imp = widget.SuccessImportance
	case strings.HasPrefix(b, "partial"), strings.HasPrefix(b, "damaged"):
		imp = widget.WarningImportance
	}
	setLabel(objs[1].(*widget.Label), b, imp)
}

// lookup finds the distro and version a node names.
func (c *catalogView) lookup(id string) (*catalog.Distro, *catalog.Version) {
	var did, ver string
	switch {
	case strings.HasPrefix(id, "d:"):
		did = id[2:]
	case strings.HasPrefix(id, "v:"):
		did, ver, _ = strings.Cut(id[2:], "/")
	default:
		return nil, nil
	}
	d, err := c.u.m.Catalog().Distro(did)
	if err != nil {
		return nil, nil
	}
	if ver == "" {
		return d, nil
	}
	for _, v := range d.Versions {
		if v.Version == ver {
			return d, v
		}
	}
	return d, nil
}

// badgeArch is the arch whose cache state the tree shows: the filter's,
// else the host's.
func (c *catalogView) badgeArch() string {
	if a := c.archFilter.Selected; a != allArches && a != "" {
		return a
	}
	return ""
}

// badgeFor is the short status of a version in the tree.
func (c *catalogView) badgeFor(d *catalog.Distro, v *catalog.Version) string {
	arches := d.ArchList(v)
	if a := c.badgeArch(); a != "" {
		arches = []string{a}
	}
	best := ""
	for _, a := range arches {
		k := cache.Key{Distro: d.ID, Version: strings.ToLower(v.Version), Arch: a}
		suffix := ""
		if len(arches) > 1 {
			suffix = " " + a
		}
		if s, ok := c.u.liveJobs[k]; ok {
			if s.BytesTotal > 0 {
				return "downloading " + itoa(int(s.Fraction()*100)) + "%"
			}
			return "downloading"
		}
		im, ok := c.u.imagesByKey[k]
		_, update := c.u.updateFor(k)
		switch {
		case !ok:
		case update:
			if !strings.HasPrefix(best, "update") {
				best = "update" + suffix // a newer build upstream outranks the rest
			}
		case im.State == cache.StateReady:
			if strings.HasPrefix(best, "update") {
				break
			}
			if len(arches) > 1 {
				best = "cached" + suffix
			} else {
				best = "ready"
			}
		case best == "" && im.State == cache.StatePartial && im.SizeBytes > 0:
			best = "partial" + suffix
		case best == "" && im.State == cache.StateCorrupt:
			best = "damaged" + suffix
		}
	}
	return best
}

// computeBadges recomputes every leaf's badge and returns the leaves whose
// badge changed.
func (c *catalogView) computeBadges() []string {
	var changed []string
	for _, root := range c.children[""] {
		for _, leaf := range c.children[root] {
			d, v := c.lookup(leaf)
			if v == nil {
				continue
			}
			b := c.badgeFor(d, v)
			if c.badges[leaf] != b {
				c.badges[leaf] = b
				changed = append(changed, leaf)
			}
		}
	}
	return changed
}

// updateJobs follows live jobs: badges and the chosen entry's state. While
// a refresh changes the catalog it waits: rebuild then does it.
func (c *catalogView) updateJobs() {
	if c.refreshing {
		return
	}
	for _, leaf := range c.computeBadges() {
		c.tree.RefreshItem(leaf)
	}
	if c.version != nil {
		c.showState()
	}
}

// updateCached follows a new cache listing.
func (c *catalogView) updateCached() { c.updateJobs() }

// selected shows the entry of a tapped version; tapping a distro opens or
// closes it.
func (c *catalogView) selected(id widget.TreeNodeID) {
	d, v := c.lookup(id)
	if v == nil {
		if d != nil {
			if c.tree.IsBranchOpen(id) {
				c.tree.CloseBranch(id)
			} else {
				c.tree.OpenBranch(id)
			}
			c.tree.Unselect(id)
		}
		return
	}
	c.show(d, v)
}

// Select shows distro id, version ver (a name, codename or "latest").
func (c *catalogView) Select(id, ver string) bool {
	d, err := c.u.m.Catalog().Distro(id)
	if err != nil {
		return false
	}
	v, err := d.Version(ver)
	if err != nil {
		return false
	}
	c.tree.OpenBranch(distroNode(d.ID))
	c.tree.Select(versionNode(d.ID, v.Version))
	c.tree.ScrollTo(distroNode(d.ID)) // the distro's name stays in view
	c.show(d, v)
	return true
}

// show fills the detail pane for (d, v).
func (c *catalogView) show(d *catalog.Distro, v *catalog.Version) {
	c.distro, c.version = d, v
	c.info = c.u.m.Describe(d, v)
	c.title.SetText(d.Name + " " + v.Version)
	var sub []string
	if v.Codename != "" && !strings.EqualFold(v.Codename, v.Version) {
		sub = append(sub, "Codename “"+v.Codename+"”")
	}
	if d.Latest() == v {
		sub = append(sub, "the newest release (“latest”)")
	}
	switch {
	case v.Preview:
		sub = append(sub, "a preview release, which “latest” never picks")
	case !v.Supported(c.u.opt.Now()):
		sub = append(sub, "no longer supported upstream, which “latest” never picks")
	}
	c.subtitle.SetText(strings.Join(sub, " · "))
	c.subtitle.Hidden = len(sub) == 0

	arches := d.ArchList(v)
	c.arch.Options = arches
	want := c.archFilter.Selected
	if !slices.Contains(arches, want) {
		want = catalog.HostArch()
	}
	if !slices.Contains(arches, want) {
		want = arches[0]
	}
	c.arch.Selected = want
	c.arch.Refresh()

	c.contains.SetText(describeContents(c.info))
	switch c.info.Boot {
	case catalog.BootDirectKernel:
		c.boot.SetText("Direct kernel boot: hand the kernel and initramfs to the hypervisor, with the disk as root. The disk also boots through firmware.")
	default:
		c.boot.SetText("Firmware boot: the disk boots through UEFI or BIOS; there is no separate kernel.")
	}
	c.checksums.SetText(sentence(c.info.SignatureNote))
	if v.EOL != "" {
		c.support.SetText(v.EOL)
	} else {
		c.support.SetText("not recorded")
	}
	c.source.SetText(d.Base)
	c.note.SetText(sentence(d.Note))
	c.noteKey.Hidden = d.Note == ""
	c.note.Hidden = d.Note == ""
	c.showRawChoice()
	c.placeholder.Hide()
	c.detail.Show()
	c.showState()
	c.detail.Refresh()
}

// key is the cache key of the chosen entry at the chosen arch.
func (c *catalogView) key() cache.Key {
	return cache.Key{Distro: c.distro.ID, Version: strings.ToLower(c.version.Version), Arch: c.arch.Selected}
}

// showState says whether the chosen entry is cached, and labels the button.
func (c *catalogView) showState() {
	if c.version == nil {
		return
	}
	k := c.key()
	text, button, enabled := "", "Download", true
	c.action = actDownload
	if s, ok := c.u.liveJobs[k]; ok {
		text = "Downloading: " + describeProgress(s)
		button, enabled = "Downloading…", false
	} else if !c.u.listed {
		text = "Checking the cache…"
	} else if fs, failed := c.u.lastFailure(c.u.dl.snaps, k); failed && !c.readyIn(k) {
		what, todo := explainPull(fs.Err)
		text = "The last download failed: " + what + " " + todo
		if keptAfter(fs) {
			text += " " + units.Bytes(fs.BytesDone) + " are kept; Retry continues from there."
		}
		if c.fix = c.u.remedyFor(fs); c.fix.label != "" {
			button, c.action = c.fix.label, actRemedy
		}
	} else if im, ok := c.u.imagesByKey[k]; !ok || (im.State == cache.StatePartial && im.SizeBytes == 0) {
		text = "Not in the cache."
	} else {
		switch im.State {
		case cache.StateReady:
			text = "Ready: build " + im.Build + ", " + units.Bytes(im.SizeBytes) + " on disk, last used " + units.Age(c.u.opt.Now(), im.LastUsed) + "."
			if im.Meta != nil && im.Meta.DiskRaw != nil {
				text = strings.TrimSuffix(text, ".") + "; raw disk included."
			}
			switch up, ok := c.u.updateFor(k); {
			case ok:
				text += " " + updateLabel(up)
				button, c.action = "Update to "+up.Latest, actUpdate
			case c.u.upd.checking:
				button, enabled = "Checking for updates…", false
			default:
				if note := c.u.updateNoteFor(k); note != "" {
					text += " " + note
				}
				button, c.action = "Check for update", actCheck
			}
		case cache.StatePartial:
			text = "Partly downloaded (" + units.Bytes(im.SizeBytes) + "). Resume continues where it stopped."
			button = "Resume download"
		case cache.StateConverting:
			text = "Converting to raw."
			enabled = false
		default:
			text = "Damaged (" + im.Reason + "). Download fetches it again."
		}
	}
	setText(c.state, text)
	c.showSizeAndProof(k)
	setButtonText(c.download, button)
	icon := theme.DownloadIcon()
	if c.action == actCheck || button == "Checking for updates…" {
		icon = theme.ViewRefreshIcon()
	}
	if c.download.Icon == nil || c.download.Icon.Name() != icon.Name() {
		c.download.SetIcon(icon)
	}
	if enabled {
		c.download.Enable()
	} else {
		c.download.Disable()
	}
}

// readyIn reports whether image k is in the cache, complete.
func (c *catalogView) readyIn(k cache.Key) bool {
	im, ok := c.u.imagesByKey[k]
	return ok && im.State == cache.StateReady
}

// startDownload does what the main button says: pull the chosen entry,
// pull its newer build, or look upstream for one.
func (c *catalogView) startDownload() {
	if c.version == nil {
		return
	}
	k := c.key()
	c.download.Disable()
	switch c.action {
	case actRemedy:
		c.download.Enable()
		if c.fix.action != nil {
			c.fix.action()
		}
	case actCheck:
		c.download.SetText("Checking for updates…")
		c.u.checkUpdateOf(k)
	case actUpdate:
		c.download.SetText("Starting…")
		c.u.pullUpdate(k, c.raw.Checked)
	default:
		if need, free, short := c.u.shortOfSpace(k); short {
			c.download.Enable()
			c.u.askForSpace(c.u.imageTitle(k), need, free)
			return
		}
		c.download.SetText("Starting…")
		c.u.pull(refOf(k), core.PullOptions{Raw: c.raw.Checked, Kernel: c.kernel.Checked})
	}
}

// showRawChoice offers the raw conversion where it can work: not for a
// disk that is raw already, and not without qemu-img, which it says how to
// install.
func (c *catalogView) showRawChoice() {
	can := c.u.m.CanConvert()
	setVisible(c.rawHint, !can)
	switch {
	case c.info.DiskFormat == "raw":
		c.raw.SetChecked(false)
		c.raw.Disable()
	case !can:
		c.raw.SetChecked(false)
		c.raw.Disable()
	default:
		c.raw.Enable()
	}
}

// showSizeAndProof fills the Download size and Proof rows for image k and
// warns when the download will not fit.
func (c *catalogView) showSizeAndProof(k cache.Key) {
	u := c.u
	im, cached := u.imagesByKey[k]
	ready := cached && im.State == cache.StateReady
	proof := ""
	if ready && im.Meta != nil {
		proof = proofText(im.Meta)
	}
	setText(c.proof, proof)
	setVisible(c.proof, proof != "")
	setVisible(c.proofKey, proof != "")
	if ready {
		setText(c.size, units.Bytes(im.SizeBytes)+" on disk")
		setVisible(c.space, false)
		return
	}
	sz := u.sizeOf(k)
	switch {
	case sz.pending:
		setText(c.size, "asking the server…")
	case sz.err != nil:
		what, _ := explain(sz.err, "")
		setText(c.size, "unknown: "+strings.TrimSuffix(what, "."))
	case sz.bytes < 0:
		setText(c.size, "unknown: the server does not say")
	default:
		setText(c.size, units.Bytes(sz.bytes))
	}
	need, free, short := u.shortOfSpace(k)
	if short {
		setText(c.space, "Not enough space: this download needs "+units.Bytes(need)+" more, and the cache's disk has "+units.Bytes(free)+" free. Free some with Prune… in the Cache tab, or choose a cache folder on a larger disk in Settings.")
	}
	setVisible(c.space, short)
}

// startRefresh asks the distributions which releases exist now, in a
// goroutine, then rebuilds the tree and says what changed.
func (c *catalogView) startRefresh() {
	if c.refreshing {
		return
	}
	c.refreshing = true
	c.refresh.Disable()
	c.refresh.SetText("Refreshing…")
	setLabel(c.refreshLine, "Asking the distributions for new releases…", widget.MediumImportance)
	c.refreshLine.Show()
	c.left.Refresh()
	u := c.u
	go func() {
		u.netMu.Lock() // the refresh changes the catalog an update check reads
		res, err := u.m.RefreshCatalog(u.ctx)
		u.netMu.Unlock()
		if u.ctx.Err() != nil {
			return
		}
		u.do(func() { c.refreshed(res, err) })
	}()
}

// refreshed shows a catalog refresh's outcome.
func (c *catalogView) refreshed(res core.RefreshResult, err error) {
	c.refreshing = false
	c.refresh.SetText("Refresh catalog")
	c.refresh.Enable()
	c.rebuild(res.Changes.Added)
	c.showSource()
	text, imp := refreshSummary(res, err)
	setLabel(c.refreshLine, text, imp)
	c.refreshLine.Show()
	c.left.Refresh() // the lines' heights changed
}

// refreshSummary says what a refresh found, in a line or two.
func refreshSummary(res core.RefreshResult, err error) (string, widget.Importance) {
	if err != nil && res.Source.Refreshed.IsZero() && len(res.Changes.Added) == 0 {
		what, _ := explain(err, "")
		return "Could not refresh the catalog: " + what, widget.DangerImportance
	}
	if res.Offline {
		return "No distribution answered; using " + sourceText(res.Source) + ".", widget.WarningImportance
	}
	text, imp := "No new releases upstream.", widget.MediumImportance
	if len(res.Changes.Added) > 0 {
		text, imp = "New: "+strings.Join(res.Changes.Added, ", "), widget.SuccessImportance
	}
	if n := len(res.Changes.Updated); n > 0 {
		text = strings.TrimSuffix(text, ".") + " · " + plural(n, "release", "releases") + " with new support dates"
	}
	if len(res.Failed) > 0 {
		var names []string
		for _, e := range res.Failed {
			var se *discover.SourceError
			if errors.As(e, &se) && !slices.Contains(names, se.Distro) {
				names = append(names, se.Distro)
			}
		}
		if len(names) == 0 {
			names = []string{plural(len(res.Failed), "distribution", "distributions")}
		}
		text = strings.TrimSuffix(text, ".") + " · no answer from " + strings.Join(names, ", ") + "; what was found before stays"
	}
	if err != nil {
		what, _ := explain(err, "")
		text = strings.TrimSuffix(text, ".") + " · " + what
		imp = widget.WarningImportance
	}
	return text, imp
}

// rebuild follows a catalog that changed: the arch filter, the tree (the
// distros that gained releases open) and the chosen entry.
func (c *catalogView) rebuild(added []string) {
	c.setArchChoices()
	c.filter()
	for _, a := range added {
		if id, _, ok := strings.Cut(a, " "); ok {
			c.tree.OpenBranch(distroNode(id))
		}
	}
	if c.version != nil {
		c.show(c.distro, c.version)
	}
}

// showSource says where the catalog comes from.
func (c *catalogView) showSource() {
	setText(c.sourceLine, "Using "+sourceText(c.u.m.CatalogSource())+".")
}

// sourceText describes a catalog source without the command-line hint.
func sourceText(s core.CatalogSource) string {
	text, _, _ := strings.Cut(s.String(), " (run '")
	return text
}

// describeContents lists an entry's files for people.
func describeContents(info core.EntryInfo) string {
	var parts []string
	for _, role := range []string{catalog.RoleKernel, catalog.RoleInitramfs, catalog.RoleDisk} {
		if !slices.Contains(info.Roles, role) {
			continue
		}
		p := role
		if role == catalog.RoleDisk && info.DiskFormat != "" {
			p = "disk (" + info.DiskFormat + ")"
		}
		if slices.Contains(info.Optional, role) {
			p += ", when published"
		}
		parts = append(parts, p)
	}
	if len(parts) == 0 {
		return "nothing listed"
	}
	return sentence(strings.Join(parts, "; "))
}
