// Package gui is the Fyne front: one window with the catalog, the downloads
// and the cache, plus a tray icon. It reads the core Manager's snapshots on a
// ticker and changes widgets only on Fyne's thread (fyne.Do or callbacks).
package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/widget"

	"vmimages/resources"
)

// AppID is the application's reverse-DNS id; Fyne keys preferences and
// notifications on it.
const AppID = "io.github.vmimages.app"

// Options configure the window.
type Options struct {
	Version string
}

// Run opens the window and blocks until the app quits; it returns the exit
// code.
func Run(opts Options) int {
	a := app.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", resources.IconPNG))
	w := a.NewWindow("VM Images")
	w.SetContent(widget.NewLabel("VM Images " + opts.Version))
	w.Resize(fyne.NewSize(900, 600))
	w.ShowAndRun()
	return 0
}
