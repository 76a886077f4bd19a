//go:build guihooks

package gui

import (
	"log"
	"os"
	"strings"

	"vmimages/core/catalog"
	"vmimages/gui/internal/ui"
)

// hooks steer the window at start for scripts/screenshots.sh; see the
// package doc for the environment variables.
type hooks struct {
	tab   string
	sel   []string // distro, version
	pull  []string // distro, version[, arch]
	prune *ui.PruneInput
}

// hooksFromEnv reads the VMIMAGES_GUI_* variables.
func hooksFromEnv() hooks {
	h := hooks{tab: os.Getenv("VMIMAGES_GUI_TAB")}
	if f := strings.Fields(os.Getenv("VMIMAGES_GUI_SELECT")); len(f) == 2 {
		h.sel = f
	}
	if f := strings.Fields(os.Getenv("VMIMAGES_GUI_PULL")); len(f) == 2 || len(f) == 3 {
		h.pull = f
	}
	if s, ok := os.LookupEnv("VMIMAGES_GUI_PRUNE"); ok {
		in := ui.PruneInput{}
		for _, kv := range strings.Split(s, ",") {
			k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
			switch k {
			case "keep":
				in.Keep = v
			case "older":
				in.OlderThan = v
			case "max":
				in.MaxSize = v
			}
		}
		h.prune = &in
	}
	return h
}

// apply runs the hooks once the views exist.
func (h hooks) apply(u *ui.UI) {
	if h.sel != nil {
		u.SelectEntry(h.sel[0], h.sel[1])
	}
	if h.pull != nil {
		ref := catalog.Ref{Distro: h.pull[0], Version: h.pull[1], Arch: catalog.HostArch()}
		if len(h.pull) == 3 {
			ref.Arch = h.pull[2]
		}
		u.Pull(ref, false)
	}
	if h.tab != "" {
		u.ShowTab(h.tab)
	}
	if h.prune != nil {
		u.ShowPrune(*h.prune)
	}
	log.Print("vmimages: start-up hooks applied") // scripts/screenshots.sh waits for this line
}
