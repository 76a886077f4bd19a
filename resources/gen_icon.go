//go:build ignore

// gen_icon draws the app icon: a rounded tile with three stacked disk
// platters and a download arrow. Run: go run gen_icon.go (writes icon.png and
// tray.png).
package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
)

func main() {
	write("icon.png", draw(512))
	write("tray.png", draw(64))
}

func write(name string, img image.Image) {
	f, err := os.Create(name)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		panic(err)
	}
}

// draw renders the icon at size n with 4x4 supersampling.
func draw(n int) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	const ss = 4
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					u := (float64(x) + (float64(sx)+0.5)/ss) / float64(n)
					v := (float64(y) + (float64(sy)+0.5)/ss) / float64(n)
					c := shade(u, v)
					r += c[0] * c[3]
					g += c[1] * c[3]
					b += c[2] * c[3]
					a += c[3]
				}
			}
			if a > 0 {
				img.SetNRGBA(x, y, color.NRGBA{uint8(r / a * 255), uint8(g / a * 255), uint8(b / a * 255), uint8(a / ss / ss * 255)})
			}
		}
	}
	return img
}

// shade returns RGBA (0..1) at u,v in the unit square.
func shade(u, v float64) [4]float64 {
	// Rounded tile.
	if !inRoundRect(u, v, 0.04, 0.04, 0.96, 0.96, 0.2) {
		return [4]float64{}
	}
	// Blue-to-teal gradient background.
	bg := [4]float64{0.13 + 0.05*v, 0.35 + 0.25*v, 0.75 - 0.1*v, 1}
	white := [4]float64{1, 1, 1, 1}
	pale := [4]float64{0.82, 0.92, 1, 1}
	// Three platters (ellipses stacked), drawn back to front.
	for i, cy := range []float64{0.66, 0.52, 0.38} {
		top := ellipse(u, v, 0.5, cy, 0.28, 0.09)
		body := u > 0.22 && u < 0.78 && v > cy && v < cy+0.08
		bottom := ellipse(u, v, 0.5, cy+0.08, 0.28, 0.09)
		if top < 1 {
			if top > 0.78 {
				return pale
			}
			if i == 2 {
				return white
			}
			return pale
		}
		if body || bottom < 1 {
			return [4]float64{0.6 + 0.1*float64(i), 0.78, 0.95, 1}
		}
	}
	// Download arrow in the top area.
	if u > 0.45 && u < 0.55 && v > 0.08 && v < 0.2 {
		return white
	}
	if v >= 0.2 && v < 0.29 && math.Abs(u-0.5) < (0.29-v)*1.3 {
		return white
	}
	return bg
}

func ellipse(u, v, cx, cy, rx, ry float64) float64 {
	dx, dy := (u-cx)/rx, (v-cy)/ry
	return dx*dx + dy*dy
}

func inRoundRect(u, v, x0, y0, x1, y1, r float64) bool {
	if u < x0 || u > x1 || v < y0 || v > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(u, x1-r))
	cy := math.Max(y0+r, math.Min(v, y1-r))
	return (u-cx)*(u-cx)+(v-cy)*(v-cy) <= r*r
}
