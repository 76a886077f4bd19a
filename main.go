// Command vmimages gets official VM cloud images onto this machine: with no
// arguments it opens the window, with a subcommand it is the command line.
// This file only wires the two fronts to the core; main_gui.go and
// main_nogui.go decide whether the window is built in (go build -tags nogui
// leaves it, Fyne and cgo out).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"vmimages/cli"
)

// version and commit are set at build time with
// -ldflags "-X main.version=… -X main.commit=…".
var (
	version = "dev"
	commit  = ""
)

func main() {
	if len(os.Args) == 1 {
		os.Exit(runWindow())
	}
	beforeCommandLine()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := cli.Run(ctx, os.Args[1:], cli.Env{
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Version:          version,
		Commit:           commit,
		GUI:              guiBuiltIn,
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	})
	stop()
	os.Exit(code)
}
