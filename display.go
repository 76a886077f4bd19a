//go:build !nogui

package main

import "runtime"

// noDisplay says why the window cannot open on this machine, or "" when it
// can try. On Linux and the BSDs the window needs an X11 or Wayland
// display; without one, GLFW would panic deep in its start-up, so the user
// gets this sentence instead of a stack trace.
func noDisplay(getenv func(string) string) string {
	switch runtime.GOOS {
	case "darwin", "windows", "android", "ios", "js":
		return ""
	}
	if getenv("DISPLAY") != "" || getenv("WAYLAND_DISPLAY") != "" {
		return ""
	}
	return "no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is set); run 'vmimages help' for the command line"
}
