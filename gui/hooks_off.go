//go:build !guihooks

package gui

import "vmimages/gui/internal/ui"

// hooks are empty in the shipped binary: the VMIMAGES_GUI_* variables
// exist only in builds with the tag guihooks (see hooks_on.go).
type hooks struct{}

func hooksFromEnv() hooks  { return hooks{} }
func (hooks) apply(*ui.UI) {}
