package ui

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/disk"
	"vmimages/core/units"
)

// newDiskForm is the "New VM disk…" dialog's fields.
type newDiskForm struct {
	path *widget.Entry
	size *widget.Entry
	dlg  *shownDialog
}

// newDiskSelected asks where to make a writable disk for one VM from the
// selected image, so that no VM boots from the cache's verified copy.
func (c *cacheView) newDiskSelected() {
	im, ok := c.selected()
	if !ok {
		return
	}
	u := c.u
	f := &newDiskForm{path: widget.NewEntry(), size: widget.NewEntry()}
	home, _ := os.UserHomeDir()
	f.path.SetText(filepath.Join(home, im.Key.Distro+"-"+im.Key.Version+"-"+im.Key.Arch+".qcow2"))
	f.size.SetPlaceHolder("e.g. 20G (empty: the image's size)")
	body := container.NewVBox(
		wrapLabel("A VM writes to its disk: boot it from a copy, never from the cache. The copy shares blocks with the cache where the filesystem allows (reflink); a name ending in .qcow2 gets a qcow2 overlay otherwise, any other name a sparse raw copy."),
		widget.NewLabelWithStyle("File", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), f.path,
		widget.NewLabelWithStyle("Grow to", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), f.size,
	)
	c.newDiskForm = f
	f.dlg = u.showCustom("New VM disk from "+u.imageTitle(im.Key), theme.ContentAddIcon(), body,
		"New VM disk", []dialogButton{
			{label: "Cancel"},
			{label: "Create", important: true, action: func() { c.createDisk(im.Key, f) }},
		})
}

// createDisk clones the image in the background and says how it went.
func (c *cacheView) createDisk(k cache.Key, f *newDiskForm) {
	u := c.u
	dst := strings.TrimSpace(f.path.Text)
	var size int64
	if s := strings.TrimSpace(f.size.Text); s != "" {
		n, err := units.ParseSize(s)
		if err != nil || n <= 0 {
			u.showMessage("New VM disk", theme.ErrorIcon(), "“"+s+"” is not a size.", "Write a size such as 20G, or leave it empty.", nil)
			return
		}
		size = n
	}
	go func() {
		res, err := u.m.Clone(u.ctx, k, dst, core.CloneOptions{Size: size})
		u.do(func() {
			if err != nil {
				todo := "Check the folder exists and can be written to."
				switch {
				case errors.Is(err, disk.ErrExists):
					todo = "Choose another name: an existing file is never overwritten."
				case errors.Is(err, disk.ErrShrink):
					todo = "Choose a larger size, or none."
				}
				what, hint := explain(err, todo)
				u.showMessage("Could not make the VM disk", theme.ErrorIcon(), what, hint, nil)
				return
			}
			what := "Made " + res.Path + ": a " + res.Format + " disk of " + units.Bytes(res.Size) + " (" + string(res.Method) + ")."
			if res.Backing != "" {
				what += " It reads unwritten blocks from " + res.Backing + "; keep that file."
			}
			u.showMessage("New VM disk", theme.ConfirmIcon(), what, "", nil)
		})
	}()
}
