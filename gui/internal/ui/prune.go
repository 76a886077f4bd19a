package ui

import (
	"fmt"
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"vmimages/core/cache"
	"vmimages/core/units"
)

// PruneInput is what the prune dialog's fields hold: keep the newest N per
// distribution, remove images unused for a while, shrink to a size. Empty
// fields are rules that are off.
type PruneInput struct {
	Keep, OlderThan, MaxSize string
}

// policy parses the fields; the error is a sentence for people.
func (in PruneInput) policy() (cache.PrunePolicy, bool, error) {
	var p cache.PrunePolicy
	on := false
	if s := strings.TrimSpace(in.Keep); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, false, fmt.Errorf("“%s” is not a number of images; enter 1 or more, or leave the field empty", s)
		}
		p.KeepNewest, on = n, true
	}
	if s := strings.TrimSpace(in.OlderThan); s != "" {
		d, err := units.ParseAge(s)
		if err != nil || d <= 0 {
			return p, false, fmt.Errorf("“%s” is not a duration such as 30d, 2w or 12h", s)
		}
		p.OlderThan, on = d, true
	}
	if s := strings.TrimSpace(in.MaxSize); s != "" {
		n, err := units.ParseSize(s)
		if err != nil {
			return p, false, fmt.Errorf("“%s” is not a size such as 500M or 20G", s)
		}
		p.MaxSize, on = n, true
	}
	return p, on, nil
}

// pruneDialog is the open prune dialog.
type pruneDialog struct {
	u                    *UI
	keep, olderThan, max *widget.Entry
	preview              *widget.Label
	items                *fyne.Container
	remove               *widget.Button
	shown                *shownDialog
	gen                  int
	candidates           []cache.Image
	policy               cache.PrunePolicy
}

// showPrune opens the prune dialog, its fields filled from in (nil: empty).
// It shows what each policy would remove (a dry run) before anything goes.
func (u *UI) showPrune(in *PruneInput) {
	if u.m == nil {
		return
	}
	p := &pruneDialog{u: u}
	u.pruneDlg = p
	entry := func(hint string) *widget.Entry {
		e := widget.NewEntry()
		e.SetPlaceHolder(hint)
		e.OnChanged = func(string) { p.recompute() }
		return e
	}
	p.keep, p.olderThan, p.max = entry("a number, e.g. 2"), entry("e.g. 30d or 2w"), entry("e.g. 20G")
	if in != nil {
		p.keep.Text, p.olderThan.Text, p.max.Text = in.Keep, in.OlderThan, in.MaxSize
	}
	key := func(s string) *widget.Label {
		return widget.NewLabelWithStyle(s, fyne.TextAlignTrailing, fyne.TextStyle{})
	}
	form := container.New(layout.NewFormLayout(),
		key("Newest images to keep per distribution"), p.keep,
		key("Remove images unused for"), p.olderThan,
		key("Shrink the cache to at most"), p.max,
	)
	intro := wrapLabel("An image goes when any rule you fill in picks it; empty rules are off. Images being downloaded are always kept.")
	p.preview = wrapLabel("")
	p.preview.TextStyle.Bold = true
	p.items = container.NewVBox()
	body := container.NewVBox(intro, form, widget.NewSeparator(), p.preview, p.items)
	p.shown = u.showCustom("Prune the cache", nil, body, "prune", []dialogButton{
		{label: "Cancel"},
		{label: "Remove", danger: true, action: p.run},
	})
	p.remove = p.shown.Buttons["Remove"]
	p.recompute()
}

// recompute parses the fields and runs a dry run in a goroutine.
func (p *pruneDialog) recompute() {
	p.gen++
	gen := p.gen
	p.remove.Disable()
	p.remove.SetText("Remove")
	p.candidates = nil
	in := PruneInput{Keep: p.keep.Text, OlderThan: p.olderThan.Text, MaxSize: p.max.Text}
	pol, on, err := in.policy()
	switch {
	case err != nil:
		p.setPreview(sentence(err.Error()), nil)
		return
	case !on:
		p.setPreview("Fill in at least one rule to see what would be removed.", nil)
		return
	}
	for k := range p.u.liveJobs {
		pol.Keep = append(pol.Keep, k)
	}
	p.policy = pol
	p.setPreview("Working out what would be removed…", nil)
	u := p.u
	go func() {
		would, freed, err := u.m.Prune(u.ctx, pol, true)
		u.do(func() {
			if gen != p.gen {
				return // the fields changed meanwhile
			}
			if err != nil && len(would) == 0 {
				what, todo := explain(err, "")
				p.setPreview(strings.TrimSpace(what+" "+todo), nil)
				return
			}
			p.candidates = would
			if len(would) == 0 {
				p.setPreview("Nothing would be removed.", nil)
				return
			}
			p.setPreview("Would remove "+plural(len(would), "image", "images")+", freeing "+units.Bytes(freed)+":", would)
			p.remove.SetText("Remove " + plural(len(would), "image", "images"))
			p.remove.Enable()
		})
	}()
}

// setPreview shows the summary and up to eight of the images that would go.
func (p *pruneDialog) setPreview(text string, images []cache.Image) {
	p.preview.SetText(text)
	var objs []fyne.CanvasObject
	now := p.u.opt.Now()
	for i, im := range images {
		if i == 8 {
			objs = append(objs, widget.NewLabel("… and "+itoa(len(images)-8)+" more"))
			break
		}
		l := widget.NewLabel("• " + p.u.imageTitle(im.Key) + " — " + units.Bytes(im.SizeBytes) + ", " + string(im.State) + ", last used " + units.Age(now, im.LastUsed))
		l.Truncation = fyne.TextTruncateEllipsis
		objs = append(objs, l)
	}
	p.items.Objects = objs
	p.items.Refresh()
	if p.shown != nil && p.shown.d != nil {
		p.shown.d.Refresh()
	}
}

// run prunes for real with the policy the preview showed.
func (p *pruneDialog) run() {
	u := p.u
	pol := p.policy
	p.gen++
	go func() {
		removed, freed, err := u.m.Prune(u.ctx, pol, false)
		u.do(func() {
			u.reloadCache()
			msg := "Removed " + plural(len(removed), "image", "images") + " and freed " + units.Bytes(freed) + "."
			if err != nil {
				what, todo := explain(err, "Try again in a moment.")
				u.showMessage("Prune finished with problems", theme.WarningIcon(), msg+" "+what, todo, nil)
				return
			}
			u.showMessage("Cache pruned", theme.ConfirmIcon(), msg, "", nil)
		})
	}()
}
