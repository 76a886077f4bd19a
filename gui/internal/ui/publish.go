package ui

import (
	"context"
	"errors"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/registry"
	"vmimages/core/units"
)

// publishForm is the "Publish to registry…" dialog's fields.
type publishForm struct {
	addr *widget.Entry
	dlg  *shownDialog
}

// publishSelected asks where to publish the selected image, prefilled with
// the registry in Settings.
func (c *cacheView) publishSelected() {
	im, ok := c.selected()
	if !ok || im.State != cache.StateReady {
		return
	}
	u := c.u
	f := &publishForm{addr: widget.NewEntry()}
	f.addr.SetPlaceHolder("oci://registry.lab:5000/vmimages")
	f.addr.SetText(u.m.Config().Registry)
	body := container.NewVBox(
		wrapLabel("Publishes the image with the distribution's checksum files and signature, so that the team pulls it from the registry and still proves it against the distribution. Each file is checked against its recorded digest first; files the registry already has are not sent again."),
		widget.NewLabelWithStyle("Registry", fyne.TextAlignLeading, fyne.TextStyle{Bold: true}), f.addr,
		helpText("oci://HOST[:PORT]/REPO; the image goes to REPO/"+im.Key.Distro+"."),
	)
	c.publishForm = f
	f.dlg = u.showCustom("Publish "+u.imageTitle(im.Key)+" to a registry", theme.UploadIcon(), body,
		"Publish to registry", []dialogButton{
			{label: "Cancel"},
			{label: "Publish", important: true, action: func() { c.startPush(im.Key, strings.TrimSpace(f.addr.Text)) }},
		})
}

// startPush publishes image k to the registry addr in a goroutine; the
// selection pane shows its progress through the ticker, and a dialog says
// how it ended.
func (c *cacheView) startPush(k cache.Key, addr string) {
	u := c.u
	if _, err := registry.ParseTarget(addr); err != nil {
		u.showMessage("Not a registry address", theme.ErrorIcon(), sentence(err.Error()),
			"Write the address as oci://HOST[:PORT]/REPO, for example oci://registry.lab:5000/vmimages.", nil)
		return
	}
	if !u.ops.start(k, opPush) {
		return
	}
	u.pokeTick()
	go func() {
		res, err := u.m.Push(u.ctx, refOf(k), addr, func(p core.PushProgress) {
			what := "uploading " + p.Role
			switch {
			case p.Skipped:
				what = p.Role + " already there"
			case p.Phase == core.PhaseVerifying:
				what = "checking " + p.Role
			}
			u.ops.progressNote(k, p.BytesDone, p.BytesTotal, what)
		})
		u.ops.end(k)
		u.pokeTick()
		u.do(func() {
			delete(c.ops, k)
			title := u.imageTitle(k)
			switch {
			case errors.Is(err, context.Canceled):
			case err != nil:
				c.results[k] = "publishing failed"
				what, todo := explain(err, "Check the registry address and try again.")
				u.showMessage("Could not publish "+title, theme.ErrorIcon(), what, todo, nil)
			default:
				c.results[k] = "published to " + res.Repository
				sent := "Nothing new was sent: the registry had every file."
				if len(res.Sent) > 0 {
					sent = "Sent " + strings.Join(res.Sent, ", ") + " (" + units.Bytes(res.BytesSent) + ")"
					if len(res.Skipped) > 0 {
						sent += "; already there: " + strings.Join(res.Skipped, ", ")
					}
					sent += "."
				}
				u.showMessage("Published "+title, theme.ConfirmIcon(),
					"Published to "+res.Repository+" with the tags "+strings.Join(res.Tags, " and ")+". "+sent,
					"Machines whose Settings name this registry now pull the image from it.", nil)
			}
			if c.hasSel && c.sel == k {
				c.showSelection()
			}
		})
	}()
}
