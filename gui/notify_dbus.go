//go:build linux || freebsd || openbsd || netbsd

package gui

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/godbus/dbus/v5"

	"vmimages/resources"
)

const notificationsName = "org.freedesktop.Notifications"

// notifier sends desktop notifications over the session bus as "VM
// Images", with the app's icon. Without a notification server (nothing
// owns the name and nothing can be started for it) it stays quiet instead
// of logging an error for every notification, as Fyne's would.
func notifier() func(title, body string) {
	var iconOnce sync.Once
	var icon string
	return func(title, body string) {
		go func() {
			conn, err := dbus.SessionBus() // shared; never closed here
			if err != nil || !notificationServer(conn) {
				return
			}
			iconOnce.Do(func() { icon = iconFile() })
			ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
			defer cancel()
			obj := conn.Object(notificationsName, "/org/freedesktop/Notifications")
			obj.CallWithContext(ctx, notificationsName+".Notify", 0, AppName, uint32(0), icon,
				title, body, []string{}, map[string]dbus.Variant{}, int32(-1))
		}()
	}
}

// notificationServer reports whether a notification server runs or can be
// started on the bus.
func notificationServer(conn *dbus.Conn) bool {
	ctx, cancel := context.WithTimeout(context.Background(), busTimeout)
	defer cancel()
	var has bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, notificationsName).Store(&has); err == nil && has {
		return true
	}
	var names []string
	err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.ListActivatableNames", 0).Store(&names)
	return err == nil && slices.Contains(names, notificationsName)
}

// iconFile writes the app icon where a notification server can read it
// and returns its path; "" when that fails (the notification then has no
// icon).
func iconFile() string {
	dir, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	p := filepath.Join(dir, "vmimages", "icon.png")
	if b, err := os.ReadFile(p); err == nil && len(b) == len(resources.IconPNG) {
		return p
	}
	if os.MkdirAll(filepath.Dir(p), 0o755) != nil || os.WriteFile(p, resources.IconPNG, 0o644) != nil {
		return ""
	}
	return p
}
