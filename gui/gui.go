// Package gui is the Fyne front: one window with the catalog, the downloads,
// the cache and the settings, plus a tray icon. It opens the core Manager,
// wires the views of package gui/internal/ui to a real Fyne app, decides
// whether a tray can exist, and quits cleanly on SIGTERM. The views read the
// Manager's snapshots on a ticker and change widgets only on Fyne's thread.
//
// Built with the tag guihooks (make screenshots does), a few environment
// variables steer the window at start for scripts/screenshots.sh; see
// hooks.go. The shipped binary has none of them.
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

// AppName is the name people see: the window's title, the tray item's
// title and the sender of notifications.
const AppName = "VM Images"

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

	icon := fyne.NewStaticResource("icon.png", resources.IconPNG)
	// The name titles the tray item; notifications carry it too.
	app.SetMetadata(fyne.AppMetadata{ID: fyneID, Name: AppName, Version: opts.Version, Icon: icon})
	a := app.NewWithID(fyneID)
	a.SetIcon(icon)
	w := a.NewWindow(AppName)

	hooks := hooksFromEnv()
	var u *ui.UI
	u = ui.New(a, w, ui.Options{
		TrayHost:        trayHost,
		NoNotifications: !tray,
		Notify:          notifier(),
		OnAttach: func() {
			hooks.apply(u)
			u.StartAutoRefresh(core.DefaultRefreshSchedule, core.SystemClock)
		},
	})
	w.SetContent(u.Content())
	w.SetMainMenu(u.MainMenu())
	w.Resize(fyne.NewSize(960, 620)) // 1440×930 pixels at 1.5× scale
	w.SetCloseIntercept(u.CloseRequested)

	stopTray := func() {}
	if desk, ok := a.(desktop.App); ok && tray {
		stopTray = installTray(desk, u) // before ShowAndRun
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
	stopTray()
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
