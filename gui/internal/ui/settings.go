package ui

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"vmimages/core/config"
)

// settingsView edits the settings file the command line reads too: cache
// folder, mirrors, parallel downloads, bandwidth cap and the raw conversion
// default.
type settingsView struct {
	u       *UI
	content fyne.CanvasObject

	cacheDir  *widget.Entry
	inUse     *widget.Label
	mirrors   *widget.Entry
	parallel  *widget.Select
	bandwidth *widget.Entry
	convert   *widget.RadioGroup
	registry  *widget.Entry
	regFirst  *widget.Check
	save      *widget.Button
	revert    *widget.Button
	status    *widget.Label
}

// convertChoices are the raw conversion radio labels, by config value.
var convertChoices = []struct{ value, label string }{
	{config.ConvertAuto, "Automatic (on macOS only)"},
	{config.ConvertAlways, "Always"},
	{config.ConvertNever, "Never"},
}

func newSettingsView(u *UI) *settingsView {
	s := &settingsView{u: u}
	s.cacheDir = widget.NewEntry()
	browse := widget.NewButtonWithIcon("Choose…", theme.FolderOpenIcon(), s.chooseFolder)
	s.inUse = helpText("")
	s.mirrors = widget.NewMultiLineEntry()
	s.mirrors.SetPlaceHolder("debian=https://mirror.example.org/debian-cloud-images/")
	s.mirrors.SetMinRowsVisible(3)
	s.mirrors.Wrapping = fyne.TextWrapOff
	var counts []string
	for i := 1; i <= 8; i++ {
		counts = append(counts, itoa(i))
	}
	s.parallel = widget.NewSelect(counts, nil)
	s.bandwidth = widget.NewEntry()
	s.bandwidth.SetPlaceHolder("no limit")
	var labels []string
	for _, c := range convertChoices {
		labels = append(labels, c.label)
	}
	s.convert = widget.NewRadioGroup(labels, nil)
	s.convert.Required = true
	s.registry = widget.NewEntry()
	s.registry.SetPlaceHolder("oci://registry.lab:5000/vmimages")
	s.regFirst = widget.NewCheck("Try the team registry first", nil)
	s.save = widget.NewButtonWithIcon("Save", theme.DocumentSaveIcon(), s.submit)
	s.save.Importance = widget.HighImportance
	s.revert = widget.NewButtonWithIcon("Revert", theme.ContentUndoIcon(), s.load)
	s.status = wrapLabel("")

	key := func(t string) *widget.Label {
		return widget.NewLabelWithStyle(t, fyne.TextAlignTrailing, fyne.TextStyle{Bold: true})
	}
	field := func(o fyne.CanvasObject, help string) fyne.CanvasObject {
		return container.NewVBox(o, helpText(help))
	}
	form := container.New(layout.NewFormLayout(),
		key("Cache folder"), container.NewVBox(container.NewBorder(nil, nil, nil, browse, s.cacheDir), s.inUse,
			helpText("Where images are stored. Empty means the default. Takes effect at the next start.")),
		key("Mirrors"), field(s.mirrors, "One distro=URL per line; the URL must mirror the distribution's own layout. Takes effect at the next start."),
		key("Parallel downloads"), field(container.NewHBox(s.parallel), "How many files download at once. Applies at once."),
		key("Bandwidth cap"), field(s.bandwidth, "For all downloads together, like 20M for 20 MiB/s; empty for no limit. Applies at once."),
		key("Convert disks to raw"), field(s.convert, "Apple Virtualization and UTM need raw disks; QEMU reads qcow2. Applies to the next download."),
		key("Registry"), field(container.NewVBox(s.registry, s.regFirst), "Pull from this OCI registry first, proving every file against the distribution's checksums, and from upstream when it cannot serve an image; empty for never. Untick the box to pull from upstream only and keep the address. Applies to the next download."),
	)
	where := "These settings are saved in " + u.m.ConfigPath() + ", which the vmimages command line reads too."
	if u.m.ConfigPath() == "" {
		where = "These settings apply to this session only."
	}
	if u.settingsErr != "" {
		where = u.settingsErr
	}
	top := wrapLabel(where)
	buttons := container.NewHBox(s.save, s.revert)
	s.content = container.NewVScroll(container.NewPadded(container.NewVBox(top, widget.NewSeparator(), form, buttons, s.status)))
	s.load()
	return s
}

// helpText is a small grey line of help under a field.
func helpText(s string) *widget.Label {
	l := widget.NewLabel(s)
	l.Wrapping = fyne.TextWrapWord
	l.SizeName = theme.SizeNameCaptionText
	return l
}

// load fills the fields from the settings in effect.
func (s *settingsView) load() {
	c := s.u.m.Config()
	s.cacheDir.SetText(c.CacheDir)
	s.inUse.SetText("In use now: " + s.u.m.CacheDir())
	var lines []string
	for _, id := range slices.Sorted(maps.Keys(c.Mirrors)) {
		lines = append(lines, id+"="+c.Mirrors[id])
	}
	s.mirrors.SetText(strings.Join(lines, "\n"))
	n := itoa(c.ParallelOrDefault())
	if !slices.Contains(s.parallel.Options, n) {
		s.parallel.Options = append(s.parallel.Options, n)
	}
	s.parallel.SetSelected(n)
	s.bandwidth.SetText(c.Bandwidth)
	s.registry.SetText(c.Registry)
	s.regFirst.SetChecked(!c.RegistryOff)
	conv := c.Convert
	if conv == "" {
		conv = config.ConvertAuto
	}
	for _, ch := range convertChoices {
		if ch.value == conv {
			s.convert.SetSelected(ch.label)
		}
	}
	s.status.SetText("")
}

// chooseFolder picks the cache folder with a folder dialog.
func (s *settingsView) chooseFolder() {
	dialog.ShowFolderOpen(func(dir fyne.ListableURI, err error) {
		if err == nil && dir != nil {
			s.cacheDir.SetText(dir.Path())
		}
	}, s.u.win)
}

// parseMirrors reads "distro=URL" lines; the error names the line.
func (s *settingsView) parseMirrors(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		id, raw, ok := strings.Cut(line, "=")
		id, raw = strings.ToLower(strings.TrimSpace(id)), strings.TrimSpace(raw)
		if !ok || id == "" || raw == "" {
			return nil, fmt.Errorf("line %d of Mirrors (“%s”) is not distro=URL", i+1, line)
		}
		if _, err := s.u.m.Catalog().Distro(id); err != nil {
			return nil, fmt.Errorf("line %d of Mirrors: “%s” is not a distribution in the catalog; use one of %s", i+1, id, strings.Join(s.u.m.Catalog().IDs(), ", "))
		}
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("line %d of Mirrors: “%s” is not an http:// or https:// URL", i+1, raw)
		}
		out[id] = raw
	}
	return out, nil
}

// submit validates the fields and saves them in a goroutine.
func (s *settingsView) submit() {
	u := s.u
	c := u.m.Config() // keeps what the window does not edit (keys, allow_insecure)
	c.CacheDir = strings.TrimSpace(s.cacheDir.Text)
	mirrors, err := s.parseMirrors(s.mirrors.Text)
	if err != nil {
		u.showMessage("Settings not saved", theme.ErrorIcon(), sentence(err.Error()), "Correct the line and press Save again.", nil)
		return
	}
	c.Mirrors = mirrors
	if len(mirrors) == 0 {
		c.Mirrors = nil
	}
	c.Parallel = 0
	if n := s.parallel.Selected; n != "" && n != itoa(config.DefaultParallel) {
		fmt.Sscan(n, &c.Parallel)
	}
	c.Bandwidth = strings.TrimSpace(s.bandwidth.Text)
	c.Registry = strings.TrimSpace(s.registry.Text)
	c.RegistryOff = !s.regFirst.Checked
	c.Convert = ""
	for _, ch := range convertChoices {
		if ch.label == s.convert.Selected && ch.value != config.ConvertAuto {
			c.Convert = ch.value
		}
	}
	s.save.Disable()
	go func() {
		restart, err := u.m.SetConfig(c)
		u.do(func() {
			s.save.Enable()
			if err != nil {
				what, todo := explain(err, "Correct the value and press Save again.")
				u.showMessage("Settings not saved", theme.ErrorIcon(), what, todo, nil)
				return
			}
			msg := "Saved. Parallel downloads, the bandwidth cap and the conversion default apply now."
			if u.m.ConfigPath() == "" {
				msg = "Applied for this session; not saved."
			}
			if restart {
				msg += " The cache folder and mirrors take effect at the next start."
				s.status.Importance = widget.WarningImportance
			} else {
				s.status.Importance = widget.MediumImportance
			}
			s.status.SetText(msg)
			u.cat.resetRawDefault()
		})
	}()
}
