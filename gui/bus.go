package gui

import (
	"context"
	"time"

	"github.com/godbus/dbus/v5"
)

// watcherName is the bus name a tray host (StatusNotifierWatcher) owns.
const watcherName = "org.kde.StatusNotifierWatcher"

// busTimeout bounds every probe of the session bus.
const busTimeout = 2 * time.Second

// sessionBusUsable reports whether a session bus answers. Unlike
// dbus.SessionBus it never autolaunches one: a desktop without a bus stays
// without.
func sessionBusUsable() bool {
	ok := make(chan bool, 1)
	go func() {
		conn, err := dbus.SessionBusPrivateNoAutoStartup()
		if err != nil {
			ok <- false
			return
		}
		defer conn.Close()
		ok <- conn.Auth(nil) == nil && conn.Hello() == nil
	}()
	select {
	case v := <-ok:
		return v
	case <-time.After(busTimeout):
		return false
	}
}

// trayHostPresent reports whether a tray host owns the watcher name on the
// session bus, so a tray icon would be visible.
func trayHostPresent() bool {
	conn, err := dbus.SessionBus() // shared with Fyne's tray; never closed here
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
	defer cancel()
	var has bool
	err = conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&has)
	return err == nil && has
}
