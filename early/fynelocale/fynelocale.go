// Package fynelocale keeps Fyne's start-up locale lookup quiet: under a
// locale that is not a language tag ("C.UTF-8", the default in Docker and CI
// images, or anything else golang.org/x/text cannot parse) Fyne's lang
// package logs "Fyne error: Error parsing user locale …" three times on
// stderr, from its init, before main runs, whatever the command.
//
// Why a package of its own, in a module of its own, named "early": Go
// initialises packages in import-path order among those whose imports are
// already initialised (the Go spec, since Go 1.21). This package imports
// only packages that fyne.io/fyne/v2/lang imports too, so whenever lang is
// ready to initialise, this package is as well, and "early/…" sorts before
// "fyne.io/…": its init runs first, every time. No package of the vmimages
// module can do this, as "vmimages/…" sorts after "fyne.io/…". main_gui.go
// imports it; the nogui build links neither it nor Fyne.
//
// What it changes: only when Fyne would fail to parse a locale, it sets
// LANGUAGE — the variable Fyne's locale library (jeandeaual/go-locale) reads
// first unless the locale is exactly "C" or "POSIX" — to the entries that do
// parse, or to "en". A C locale means untranslated messages, which for Fyne
// is English, so the window keeps the locale the user meant. The command
// line, which never opens the window, calls Restore to hand the original
// environment to the programs it runs.
package fynelocale

import (
	"os"
	"strings"

	"github.com/jeandeaual/go-locale"
	"golang.org/x/text/language"
)

// saved is LANGUAGE as it was before init changed it.
var saved struct {
	changed, set bool
	value        string
}

func init() {
	value, ok := normalized()
	if !ok {
		return
	}
	saved.value, saved.set = os.LookupEnv("LANGUAGE")
	saved.changed = true
	os.Setenv("LANGUAGE", value)
}

// normalized returns the LANGUAGE value that makes every locale Fyne reads
// parse, and false when nothing needs to change.
func normalized() (string, bool) {
	all, err := locale.GetLocales()
	if err != nil || len(all) == 0 {
		return "", false
	}
	var good []string
	for _, l := range all {
		if _, err := language.Parse(l); err == nil {
			good = append(good, l)
		}
	}
	if len(good) == len(all) {
		return "", false
	}
	if len(good) == 0 {
		return "en", true
	}
	return strings.Join(good, ":"), true
}

// Restore puts LANGUAGE back as it was before init, for a process that will
// not open a window.
func Restore() {
	if !saved.changed {
		return
	}
	if saved.set {
		os.Setenv("LANGUAGE", saved.value)
	} else {
		os.Unsetenv("LANGUAGE")
	}
	saved.changed = false
}
