// Package resources holds the assets embedded in the binary: the app icon
// (drawn by gen_icon.go) and the smaller tray icon.
package resources

import _ "embed"

// IconPNG is the 512×512 application icon.
//
//go:embed icon.png
var IconPNG []byte

// TrayPNG is the 64×64 tray icon (PNG: Linux trays decode images with
// image.Decode, which has no SVG support).
//
//go:embed tray.png
var TrayPNG []byte
