package cli

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"vmimages/core"
	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/units"
)

type listDoc struct {
	Images     []listImage `json:"images"`
	TotalBytes int64       `json:"total_bytes"`
	// Checked is true when --check asked upstream; Problems lists images
	// that could not be checked.
	Checked  bool     `json:"checked,omitempty"`
	Problems []string `json:"check_problems,omitempty"`
	// Error says why list failed.
	Error string `json:"error,omitempty"`
}

func (d *listDoc) setError(msg string) { d.Error = msg }

type listImage struct {
	Distro    string     `json:"distro"`
	Version   string     `json:"version"`
	Arch      string     `json:"arch"`
	Build     string     `json:"build"`
	State     string     `json:"state"`
	Reason    string     `json:"reason,omitempty"`
	SizeBytes int64      `json:"size_bytes"`
	Path      string     `json:"path"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	Signature any        `json:"signature,omitempty"`
	// Newer is the newer upstream build, with --check.
	Newer string `json:"newer_build,omitempty"`
}

func runList(ctx context.Context, r *runner, pos []string) error {
	doc := &listDoc{Images: []listImage{}}
	r.doc = doc
	if len(pos) != 0 {
		return usagef("list takes no arguments")
	}
	m, err := r.manager(ctx)
	if err != nil {
		return err
	}
	images, err := m.List(ctx)
	if err != nil {
		return err
	}
	doc.TotalBytes = cache.TotalBytes(images)
	newer := map[cache.Key]string{}
	if r.o.check {
		doc.Checked = true
		r.infof("checking upstream for newer builds …")
		updates, err := m.CheckUpdates(ctx)
		if err != nil {
			for _, line := range strings.Split(err.Error(), "\n") {
				doc.Problems = append(doc.Problems, line)
				r.warnf("could not check %s", line)
			}
		}
		for _, u := range updates {
			newer[u.Key] = u.Latest
		}
	}
	for _, im := range images {
		li := listImage{Distro: im.Distro, Version: im.Version, Arch: im.Arch, Build: im.Build, State: string(im.State),
			Reason: im.Reason, SizeBytes: im.SizeBytes, Path: im.Path, Newer: newer[im.Key]}
		if !im.LastUsed.IsZero() {
			t := im.LastUsed
			li.LastUsed = &t
		}
		if im.Meta != nil && im.Meta.Signature != nil {
			li.Signature = im.Meta.Signature
		}
		doc.Images = append(doc.Images, li)
	}
	if r.o.json {
		return r.printJSON(doc)
	}
	if len(images) == 0 {
		fmt.Fprintf(r.env.Stdout, "The cache at %s is empty. Try 'vmimages catalog' and 'vmimages pull'.\n", m.CacheDir())
		return nil
	}
	tw := tabwriter.NewWriter(r.env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DISTRO\tVERSION\tARCH\tBUILD\tSTATE\tSIZE\tLAST USED")
	now := time.Now()
	for _, im := range images {
		state := string(im.State)
		if im.Reason != "" {
			state += " (" + im.Reason + ")"
		}
		if n := newer[im.Key]; n != "" {
			state += ", newer build " + n + " (pull --update)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", im.Distro, im.Version, im.Arch, dash(im.Build), state,
			units.Bytes(im.SizeBytes), units.Age(now, im.LastUsed))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	free := ""
	if f, err := m.FreeSpace(); err == nil {
		free = ", " + units.Bytes(f) + " free on its disk"
	}
	fmt.Fprintf(r.env.Stdout, "%d image(s), %s in %s%s\n", len(images), units.Bytes(doc.TotalBytes), m.CacheDir(), free)
	if r.o.check && len(newer) == 0 && len(doc.Problems) == 0 {
		fmt.Fprintln(r.env.Stdout, "every cached image is the newest build upstream")
	}
	return nil
}

type verifyDoc struct {
	Images []verifyImage `json:"images"`
	// Verdict is the worst image's verdict ("ok" when none is cached),
	// "unreadable" when verify could not look.
	Verdict string `json:"verdict"`
	// Error says why verify could not give every image its verdict.
	Error string `json:"error,omitempty"`
}

func (d *verifyDoc) setError(msg string) {
	d.Error = msg
	if core.VerdictUnreadable.Worse(core.VerdictStatus(d.Verdict)) {
		d.Verdict = string(core.VerdictUnreadable)
	}
}

type verifyImage struct {
	Distro  string `json:"distro"`
	Version string `json:"version"`
	Arch    string `json:"arch"`
	OK      bool   `json:"ok"`
	// Verdict is "ok", "damaged", "partial" or "unreadable".
	Verdict   string   `json:"verdict"`
	Problems  []string `json:"problems"`
	Signature any      `json:"signature,omitempty"`
	signed    string
}

// verdictExit is the exit code each verdict asks for; verify exits with
// the worst.
func verdictExit(v core.VerdictStatus) int {
	switch v {
	case core.VerdictOK:
		return ExitOK
	case core.VerdictDamaged:
		return ExitIntegrity
	}
	return ExitFailure
}

func runVerify(ctx context.Context, r *runner, pos []string) error {
	doc := &verifyDoc{Images: []verifyImage{}, Verdict: string(core.VerdictOK)}
	r.doc = doc
	if len(pos) != 0 && len(pos) != 2 {
		return usagef("verify takes nothing (all images) or DISTRO VERSION; see 'vmimages help verify'")
	}
	m, err := r.manager(ctx)
	if err != nil {
		return err
	}
	var keys []cache.Key
	if len(pos) == 2 {
		k, err := m.Key(catalog.Ref{Distro: pos[0], Version: pos[1], Arch: r.o.arch})
		if err != nil {
			return err
		}
		if _, err := m.Cache().Image(k); err != nil {
			return err // not cached at all: an error, as for rm and convert
		}
		keys = append(keys, k)
	} else {
		images, err := m.List(ctx)
		if err != nil {
			return err
		}
		for _, im := range images {
			keys = append(keys, im.Key)
		}
	}
	worst := core.VerdictOK
	for _, k := range keys {
		job := m.VerifyJob(ctx, k)
		if _, err := r.follow(ctx, job); err != nil {
			return err
		}
		v := job.Snapshot().Verdict
		if v == nil {
			return fmt.Errorf("verify %s: no verdict", k)
		}
		if v.Status.Worse(worst) {
			worst = v.Status
			doc.Verdict = string(worst)
		}
		vi := verifyImage{Distro: k.Distro, Version: k.Version, Arch: k.Arch, OK: v.Status == core.VerdictOK,
			Verdict: string(v.Status), Problems: v.Problems}
		if v.Meta != nil && v.Meta.Signature != nil {
			vi.Signature = v.Meta.Signature
			vi.signed = describeSignature(core.SignatureFromMeta(v.Meta.Signature))
		}
		doc.Images = append(doc.Images, vi)
	}
	if r.o.json {
		if err := r.printJSON(doc); err != nil {
			return err
		}
	} else {
		for _, im := range doc.Images {
			if im.OK {
				fmt.Fprintf(r.env.Stdout, "ok      %s %s %s", im.Distro, im.Version, im.Arch)
				if im.signed != "" {
					fmt.Fprintf(r.env.Stdout, "  (manifest signature: %s)", im.signed)
				}
				fmt.Fprintln(r.env.Stdout)
				continue
			}
			label := "FAILED"
			if im.Verdict != string(core.VerdictDamaged) {
				label = strings.ToUpper(im.Verdict)
			}
			fmt.Fprintf(r.env.Stdout, "%-7s %s %s %s\n", label, im.Distro, im.Version, im.Arch)
			for _, p := range im.Problems {
				fmt.Fprintf(r.env.Stdout, "        %s\n", p)
			}
		}
		if len(doc.Images) == 0 {
			fmt.Fprintln(r.env.Stdout, "nothing cached to verify")
		}
	}
	if code := verdictExit(worst); code != ExitOK {
		return &silentError{code: code}
	}
	return nil
}

func runRemove(ctx context.Context, r *runner, pos []string) error {
	m, k, err := r.imageArgs(ctx, "rm", pos)
	if err != nil {
		return err
	}
	if _, err := r.follow(ctx, m.RemoveJob(ctx, k)); err != nil {
		return err
	}
	r.infof("removed %s", k)
	return nil
}

type pruneDoc struct {
	Removed    []pruneImage `json:"removed"`
	FreedBytes int64        `json:"freed_bytes"`
	DryRun     bool         `json:"dry_run"`
	// Kept lists images the policy picked but left alone because another
	// process was using them.
	Kept []pruneImage `json:"kept"`
	// Problems lists removals that failed.
	Problems []string `json:"problems,omitempty"`
	// Error says why prune failed before it could look at the cache.
	Error string `json:"error,omitempty"`
}

func (d *pruneDoc) setError(msg string) { d.Error = msg }

type pruneImage struct {
	Distro    string `json:"distro"`
	Version   string `json:"version"`
	Arch      string `json:"arch"`
	SizeBytes int64  `json:"size_bytes"`
	Reason    string `json:"reason,omitempty"`
}

func runPrune(ctx context.Context, r *runner, pos []string) error {
	doc := &pruneDoc{Removed: []pruneImage{}, Kept: []pruneImage{}, DryRun: r.o.dryRun}
	r.doc = doc
	if len(pos) != 0 {
		return usagef("prune takes no arguments, only flags; see 'vmimages help prune'")
	}
	p := cache.PrunePolicy{KeepNewest: r.o.keep}
	if r.set["keep"] && r.o.keep < 1 {
		return usagef("--keep must be at least 1: it keeps the N most recently pulled images of each distro (to remove images, use --older-than, --max-size or rm)")
	}
	if r.o.olderThan != "" {
		d, err := units.ParseAge(r.o.olderThan)
		if err != nil {
			return usagef("--older-than: %v", err)
		}
		p.OlderThan = d
	}
	if r.o.maxSize != "" {
		n, err := units.ParseSize(r.o.maxSize)
		if err != nil {
			return usagef("--max-size: %v", err)
		}
		p.MaxSize = n
	}
	if p.KeepNewest == 0 && p.OlderThan == 0 && p.MaxSize == 0 {
		return usagef("prune needs at least one of --keep N, --older-than D, --max-size S")
	}
	m, err := r.manager(ctx)
	if err != nil {
		return err
	}
	// A cache that cannot be looked at is an error, not a report of
	// nothing removed.
	if err := m.Cache().Err(); err != nil {
		return err
	}
	if _, err := m.List(ctx); err != nil {
		return err
	}
	res, perr := m.PruneImages(ctx, p, r.o.dryRun)
	doc.FreedBytes = res.Freed
	for _, im := range res.Removed {
		doc.Removed = append(doc.Removed, pruneImage{Distro: im.Distro, Version: im.Version, Arch: im.Arch, SizeBytes: im.SizeBytes})
	}
	for _, im := range res.Kept {
		doc.Kept = append(doc.Kept, pruneImage{Distro: im.Distro, Version: im.Version, Arch: im.Arch, SizeBytes: im.SizeBytes, Reason: "in use"})
	}
	if perr != nil {
		doc.Problems = append(doc.Problems, strings.Split(perr.Error(), "\n")...)
	}
	if r.o.json {
		if err := r.printJSON(doc); err != nil {
			return err
		}
	} else {
		verb := "removed"
		if r.o.dryRun {
			verb = "would remove"
		}
		for _, im := range doc.Removed {
			fmt.Fprintf(r.env.Stdout, "%s %s %s %s (%s)\n", verb, im.Distro, im.Version, im.Arch, units.Bytes(im.SizeBytes))
		}
		for _, im := range doc.Kept {
			fmt.Fprintf(r.env.Stdout, "kept %s %s %s (%s): in use by another vmimages process\n", im.Distro, im.Version, im.Arch, units.Bytes(im.SizeBytes))
		}
		if r.o.dryRun {
			fmt.Fprintf(r.env.Stdout, "%d image(s), %s would be freed (dry run: nothing removed)\n", len(doc.Removed), units.Bytes(res.Freed))
		} else {
			fmt.Fprintf(r.env.Stdout, "%d image(s) removed, %s freed\n", len(doc.Removed), units.Bytes(res.Freed))
		}
		if len(doc.Kept) > 0 {
			fmt.Fprintf(r.env.Stdout, "%d image(s) kept because they are in use; run prune again when they are free\n", len(doc.Kept))
		}
	}
	if perr != nil {
		return perr
	}
	return nil
}

func runConvert(ctx context.Context, r *runner, pos []string) error {
	m, k, err := r.imageArgs(ctx, "convert", pos)
	if err != nil {
		return err
	}
	r.infof("converting %s to raw …", k)
	img, err := r.follow(ctx, m.ConvertJob(ctx, k))
	if err != nil {
		return err
	}
	fmt.Fprintln(r.env.Stdout, img.DiskRaw)
	return nil
}

// imageArgs reads DISTRO VERSION (and --arch) into a cache key, without the
// network.
func (r *runner) imageArgs(ctx context.Context, cmd string, pos []string) (*core.Manager, cache.Key, error) {
	if err := needArgs(cmd, pos, 2, "DISTRO VERSION"); err != nil {
		return nil, cache.Key{}, err
	}
	m, err := r.manager(ctx)
	if err != nil {
		return nil, cache.Key{}, err
	}
	k, err := m.Key(catalog.Ref{Distro: pos[0], Version: pos[1], Arch: r.o.arch})
	return m, k, err
}
