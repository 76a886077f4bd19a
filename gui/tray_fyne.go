//go:build !(linux || freebsd || openbsd || netbsd)

package gui

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"vmimages/gui/internal/ui"
	"vmimages/resources"
)

// fyneID is the id Fyne gets: on macOS and Windows Fyne's notifications
// and tray need it.
const fyneID = AppID

// installTray puts Fyne's own tray up (the macOS menu bar, the Windows
// notification area) before the app runs; Fyne takes it down on quit.
func installTray(desk desktop.App, u *ui.UI) (stop func()) {
	desk.SetSystemTrayMenu(u.TrayMenu())
	desk.SetSystemTrayIcon(fyne.NewStaticResource("tray.png", resources.TrayPNG))
	u.EnableTray(u.TrayMenu().Refresh)
	return func() {}
}
