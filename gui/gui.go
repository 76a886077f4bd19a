// Package gui is the Fyne front: one window with the catalog, the downloads,
// the cache and the settings, plus a tray icon. It opens the core Manager,
// wires the views of package gui/internal/ui to a real Fyne app, decides
// whether a tray can exist, and quits cleanly on SIGTERM. The views read the
// Manager's snapshots on a ticker and change widgets only on Fyne's thread.
//
// For scripts/screenshots.sh a few environment variables steer the window
// at start: VMIMAGES_GUI_TAB (catalog, downloads, cache or settings),
// VMIMAGES_GUI_SELECT ("DISTRO VERSION": the entry shown in the catalog and
// selected in the cache), VMIMAGES_GUI_PULL ("DISTRO VERSION [ARCH]": a
// pull started at once) and VMIMAGES_GUI_PRUNE ("keep=N,older=D,max=S":
// the prune dialog, open with those fields).
package gui

import (
	"log"
	"os"
	"os/signal"
	"runtime"
	"syscall"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"

	"vmimages/core"
	"vmimages/gui/internal/ui"
	"vmimages/resources"
)

// AppID is the application's reverse-DNS id; Fyne keys preferences and
// notifications on it.
const AppID = "io.github.vmimages.app"

// Options configure the window.
type Options struct {
	// Version is the program's version, shown to mirrors in the User-Agent.
	Version string
}

// Run opens the window and blocks until the app quits; it returns the exit
// code. Closing the window keeps the app in the tray while a tray host is
// present and quits otherwise; SIGTERM and SIGINT quit.
func Run(opts Options) int {
	tray, trayHost := trayPolicy()
	if !tray {
		// Without a session bus, libraries that want one (the theme
		// watcher, notifications) would start a stray dbus-daemon through
		// dbus-launch; an address that cannot connect stops them.
		os.Setenv("DBUS_SESSION_BUS_ADDRESS", ui.NoSessionBusAddress)
		log.Print("vmimages: no session D-Bus, so no tray icon and no notifications; closing the window quits")
	}

	a := app.NewWithID(AppID)
	a.SetIcon(fyne.NewStaticResource("icon.png", resources.IconPNG))
	w := a.NewWindow("VM Images")

	hooks := hooksFromEnv()
	var u *ui.UI
	u = ui.New(a, w, ui.Options{
		TrayHost:        trayHost,
		NoNotifications: !tray,
		OnAttach: func() {
			hooks.apply(u)
			u.StartAutoRefresh(core.DefaultRefreshSchedule, core.SystemClock)
		},
	})
	w.SetContent(u.Content())
	w.Resize(fyne.NewSize(1040, 700))
	w.SetCloseIntercept(u.CloseRequested)

	if desk, ok := a.(desktop.App); ok && tray {
		// Before ShowAndRun: Fyne starts the tray only if the menu is set
		// by then.
		desk.SetSystemTrayMenu(u.TrayMenu())
		desk.SetSystemTrayIcon(fyne.NewStaticResource("tray.png", resources.TrayPNG))
		u.EnableTray(u.TrayMenu().Refresh)
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		if _, ok := <-sigs; ok {
			fyne.Do(a.Quit)
		}
	}()

	u.Open(func() (core.Options, error) {
		o, err := core.LoadOptions("", "", nil)
		o.Version = opts.Version
		return o, err
	})
	w.ShowAndRun()

	signal.Stop(sigs)
	close(sigs)
	u.Close()
	if m := u.Manager(); m != nil {
		m.Close() // partial files stay; the next start offers to resume them
	}
	return 0
}

// trayPolicy says whether to install a tray icon and how to tell, later,
// whether a tray host shows it. On Linux and the BSDs the tray is a
// StatusNotifierItem on the session D-Bus: without a bus Fyne's tray would
// panic on quit (fyne-io/fyne#6403), so there is none.
func trayPolicy() (install bool, host func() bool) {
	switch runtime.GOOS {
	case "linux", "freebsd", "openbsd", "netbsd":
		if !sessionBusUsable() {
			return false, func() bool { return false }
		}
		return true, trayHostPresent
	}
	return true, func() bool { return true } // macOS and Windows always have one
}
