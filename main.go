// Command vmimages gets official VM cloud images onto this machine: with no
// arguments it opens the window, with a subcommand it is the command line.
// This file only wires the two fronts to the core.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"golang.org/x/term"

	"vmimages/cli"
	"vmimages/gui"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) == 1 {
		os.Exit(gui.Run(gui.Options{Version: version}))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	code := cli.Run(ctx, os.Args[1:], cli.Env{
		Stdout:           os.Stdout,
		Stderr:           os.Stderr,
		Version:          version,
		StderrIsTerminal: term.IsTerminal(int(os.Stderr.Fd())),
	})
	stop()
	os.Exit(code)
}
