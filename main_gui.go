//go:build !nogui

package main

import (
	"fmt"
	"os"

	"early/fynelocale"

	"vmimages/gui"
)

// guiBuiltIn says the window is part of this build.
const guiBuiltIn = true

// runWindow opens the window and returns the exit code.
func runWindow() int {
	if why := noDisplay(os.Getenv); why != "" {
		fmt.Fprintln(os.Stderr, "vmimages: "+why)
		return 2
	}
	return gui.Run(gui.Options{Version: version})
}

// beforeCommandLine undoes what only the window needs: fynelocale may have
// set LANGUAGE so that Fyne's init stays quiet, and the programs the command
// line runs (qemu-img) get the environment the user gave.
func beforeCommandLine() {
	fynelocale.Restore()
}
