//go:build nogui

package main

import (
	"fmt"
	"os"
)

// guiBuiltIn says the window is part of this build: not in a nogui build.
const guiBuiltIn = false

// runWindow explains that this build is the command line alone; 2 is the
// usage exit code.
func runWindow() int {
	fmt.Fprintln(os.Stderr, "vmimages: the window is not in this build (built with -tags nogui); run 'vmimages help' for the command line")
	return 2
}

func beforeCommandLine() {}
