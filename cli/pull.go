package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"vmimages/core"
	"vmimages/core/catalog"
	"vmimages/core/units"
)

// progressEvery is how often plain progress lines are printed when stderr
// is not a terminal.
const progressEvery = 5 * time.Second

func runPull(ctx context.Context, r *runner, pos []string) error {
	r.doc = failedPullDoc(pos, r.o.arch)
	if err := needArgs("pull", pos, 2, "DISTRO VERSION"); err != nil {
		return err
	}
	m, err := r.manager(ctx)
	if err != nil {
		return err
	}
	ref := catalog.Ref{Distro: pos[0], Version: pos[1], Arch: r.o.arch}
	if _, err := m.Key(ref); err != nil {
		return err
	}
	job := m.Pull(ctx, ref, core.PullOptions{Raw: r.o.raw, RawDefault: !r.o.raw, Update: r.o.update, Kernel: r.o.kernel})
	img, err := r.follow(ctx, job)
	if err != nil {
		if errors.Is(err, context.Canceled) || ctx.Err() != nil {
			s := job.Snapshot()
			fmt.Fprintf(r.env.Stderr, "vmimages: interrupted; %s of %s kept in the cache. Run the same command again to resume:\n  vmimages pull %s %s --arch %s%s\n",
				units.Bytes(s.BytesDone), units.Bytes(s.BytesTotal), pos[0], pos[1], s.Key.Arch, r.globalFlags())
			return errInterrupted
		}
		return err
	}
	if r.o.json {
		return r.printJSON(pullJSON(img))
	}
	w := r.env.Stdout
	fmt.Fprintf(w, "%s %s %s build %s\n", img.Distro, img.Version, img.Arch, img.Build)
	for _, kv := range [][2]string{{"kernel", img.Kernel}, {"initramfs", img.Initramfs}, {"disk", img.Disk}, {"disk_raw", img.DiskRaw}} {
		if kv[1] != "" {
			fmt.Fprintf(w, "  %-10s %s\n", kv[0], kv[1])
		}
	}
	if img.KernelSource != "" {
		fmt.Fprintf(w, "kernel source: %s\n", img.KernelSource)
	}
	fmt.Fprintf(w, "signature: %s\n", describeSignature(img.Signature))
	return nil
}

// errInterrupted is reported after its own message was printed.
var errInterrupted = &silentError{code: ExitFailure}

type silentError struct{ code int }

func (e *silentError) Error() string { return "interrupted" }

type pullDoc struct {
	Distro    string         `json:"distro"`
	Version   string         `json:"version"`
	Arch      string         `json:"arch"`
	Build     string         `json:"build"`
	Kernel    *string        `json:"kernel"`
	Initramfs *string        `json:"initramfs"`
	Disk      *string        `json:"disk"`
	DiskRaw   *string        `json:"disk_raw"`
	Signature *signatureJSON `json:"signature"`
	// KernelSource is "upstream" or "extracted"; null without a kernel.
	KernelSource *string `json:"kernel_source"`
	// Error says why the pull failed; then every path is null.
	Error string `json:"error,omitempty"`
}

func (d *pullDoc) setError(msg string) { d.Error = msg }

// failedPullDoc is pull's document before anything is known: the image as
// the command line names it.
func failedPullDoc(pos []string, arch string) *pullDoc {
	d := &pullDoc{Arch: arch}
	if len(pos) >= 2 {
		d.Distro, d.Version = pos[0], pos[1]
	}
	return d
}

func pullJSON(img *core.PreparedImage) pullDoc {
	ptr := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return pullDoc{Distro: img.Distro, Version: img.Version, Arch: img.Arch, Build: img.Build,
		Kernel: ptr(img.Kernel), Initramfs: ptr(img.Initramfs), Disk: ptr(img.Disk), DiskRaw: ptr(img.DiskRaw),
		Signature: ptrTo(toSignatureJSON(img.Signature)), KernelSource: ptr(img.KernelSource)}
}

func ptrTo[T any](v T) *T { return &v }

// follow shows a job's progress on stderr until it ends.
func (r *runner) follow(ctx context.Context, job *core.Job) (*core.PreparedImage, error) {
	var p progressView
	switch {
	case r.g.quiet:
		p = nopView{}
	case r.env.StderrIsTerminal:
		p = &barView{w: r.env.Stderr}
	default:
		p = &lineView{w: r.env.Stderr}
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-job.Done():
			s := job.Snapshot()
			p.finish(s)
			if !r.g.quiet { // -q: stderr is for errors only
				for _, n := range s.Notices {
					fmt.Fprintf(r.env.Stderr, "vmimages: %s\n", n)
				}
			}
			return job.Wait(context.Background())
		case <-ctx.Done():
			job.Cancel()
			<-job.Done()
			p.finish(job.Snapshot())
			return nil, ctx.Err()
		case <-tick.C:
			p.show(job.Snapshot())
		}
	}
}

type progressView interface {
	show(core.Snapshot)
	finish(core.Snapshot)
}

type nopView struct{}

func (nopView) show(core.Snapshot)   {}
func (nopView) finish(core.Snapshot) {}

// lineView prints a plain line per phase change and every progressEvery.
type lineView struct {
	w     io.Writer
	last  time.Time
	phase core.Phase
	retry string
}

func (v *lineView) show(s core.Snapshot) {
	if s.Phase == v.phase && s.Retrying == v.retry && time.Since(v.last) < progressEvery {
		return
	}
	if s.Phase == core.PhaseDownloading && progressText(s) == "" {
		return // wait for the first bytes: a downloading line carries numbers
	}
	v.phase, v.retry, v.last = s.Phase, s.Retrying, time.Now()
	line := fmt.Sprintf("%s: %s", s.Title, s.Phase)
	if t := progressText(s); t != "" {
		line += " " + t
	}
	fmt.Fprintln(v.w, line)
}

func (v *lineView) finish(s core.Snapshot) {
	if s.Phase == core.PhaseDone && s.Kind == core.KindPull {
		fmt.Fprintf(v.w, "%s: done, %s\n", s.Title, units.Bytes(s.BytesTotal))
	}
}

func progressText(s core.Snapshot) string {
	if s.Phase == core.PhaseConverting {
		return fmt.Sprintf("%.0f%%", 100*s.Converted)
	}
	if s.BytesTotal <= 0 && s.BytesDone == 0 {
		if s.Retrying != "" {
			return "(retrying: " + s.Retrying + ")"
		}
		return ""
	}
	out := units.Bytes(s.BytesDone) + " / " + units.Bytes(s.BytesTotal)
	if s.BytesTotal > 0 {
		out += fmt.Sprintf(" (%.0f%%)", 100*s.Fraction())
	}
	if s.Speed > 0 {
		out += ", " + units.Rate(s.Speed) + ", " + units.Duration(s.ETA) + " left"
	}
	if s.Retrying != "" {
		out += "; retrying: " + s.Retrying
	}
	return out
}

// barView draws a terminal progress bar.
type barView struct {
	w          io.Writer
	bar        *progressbar.ProgressBar
	max        int64
	retry      string
	converting bool // the bar shows a conversion
}

func (v *barView) show(s core.Snapshot) {
	if s.Retrying != "" && s.Retrying != v.retry && v.bar == nil {
		fmt.Fprintf(v.w, "%s: retrying: %s\n", s.Title, s.Retrying)
	}
	v.retry = s.Retrying
	if s.Phase == core.PhaseConverting {
		v.showConversion(s)
		return
	}
	if s.Phase != core.PhaseDownloading && s.Phase != core.PhaseVerifying || s.BytesTotal == 0 {
		if v.bar != nil {
			v.bar.Describe(s.Title + " " + string(s.Phase))
		}
		return
	}
	if v.bar == nil || v.max != s.BytesTotal {
		v.max = s.BytesTotal
		v.bar = progressbar.NewOptions64(s.BytesTotal,
			progressbar.OptionSetWriter(v.w),
			progressbar.OptionSetDescription(s.Title),
			progressbar.OptionShowBytes(true),
			progressbar.OptionShowTotalBytes(true),
			progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionFullWidth(),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = v.bar.Set64(s.BytesDone)
}

// convertSteps is the conversion bar's scale: per cent.
const convertSteps = 100

// showConversion draws qemu-img's progress as a percentage bar, replacing
// the transfer bar of a pull --raw.
func (v *barView) showConversion(s core.Snapshot) {
	if v.bar == nil || v.max != convertSteps || !v.converting {
		if v.bar != nil {
			_ = v.bar.Finish()
			fmt.Fprintln(v.w)
		}
		v.max, v.converting = convertSteps, true
		v.bar = progressbar.NewOptions64(convertSteps,
			progressbar.OptionSetWriter(v.w),
			progressbar.OptionSetDescription(s.Title+" qemu-img convert"),
			progressbar.OptionSetWidth(30),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionFullWidth(),
			progressbar.OptionClearOnFinish(),
		)
	}
	_ = v.bar.Set64(int64(convertSteps * s.Converted))
}

func (v *barView) finish(s core.Snapshot) {
	if v.bar != nil {
		if s.Phase == core.PhaseDone {
			_ = v.bar.Finish()
		} else {
			_ = v.bar.Exit()
		}
		fmt.Fprintln(v.w)
	}
}

// globalFlags repeats the global flags the user gave, for a command to copy.
func (r *runner) globalFlags() string {
	var b strings.Builder
	if r.g.cacheDir != "" {
		fmt.Fprintf(&b, " --cache-dir %s", shellQuote(r.g.cacheDir))
	}
	if r.g.config != "" {
		fmt.Fprintf(&b, " --config %s", shellQuote(r.g.config))
	}
	for _, k := range slices.Sorted(maps.Keys(r.g.mirrors)) {
		fmt.Fprintf(&b, " --mirror %s", shellQuote(k+"="+r.g.mirrors[k]))
	}
	return b.String()
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("-_./:=@%+,", c))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
