package qemuimg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrMissing means qemu-img is not installed (or not where Tool.Path
	// says). The error wrapping it names the package to install.
	ErrMissing = errors.New("qemu-img not found")
	// ErrBackingFile means an image refers to another file, through a
	// backing file or an external data file, and is refused: its content
	// could come from anywhere on the host.
	ErrBackingFile = errors.New("image refers to another file")
	// ErrUnsupportedFormat means an image's format or features (encryption,
	// vmdk extents, …) are not accepted for conversion.
	ErrUnsupportedFormat = errors.New("unsupported disk image")
)

// convertFormats are the source formats ConvertToRaw accepts: self-contained
// formats that cloud images ship in. vmdk is left out because its
// descriptors can name arbitrary extent files.
var convertFormats = map[string]bool{"qcow2": true, "raw": true, "vpc": true, "vhdx": true}

// waitDelay bounds how long a killed qemu-img may keep its output open.
const waitDelay = 5 * time.Second

// Tool runs qemu-img. The zero Tool looks "qemu-img" up in PATH at each call.
type Tool struct {
	// Path is the qemu-img executable; "" means look it up in PATH.
	Path string
}

// executable resolves the qemu-img to run.
func (t Tool) executable() (string, error) {
	if t.Path != "" {
		if _, err := os.Stat(t.Path); errors.Is(err, fs.ErrNotExist) {
			return "", missing(t.Path + " does not exist")
		}
		return t.Path, nil
	}
	p, err := exec.LookPath("qemu-img")
	if err != nil {
		return "", missing("not in PATH")
	}
	return p, nil
}

func missing(detail string) error {
	return fmt.Errorf("%w (%s); %s", ErrMissing, detail, InstallHint())
}

// run runs qemu-img with args and returns its standard output.
func (t Tool) run(ctx context.Context, args ...string) ([]byte, error) {
	return t.runTo(ctx, nil, args...)
}

// runTo is run with stdout also copied to w (when not nil).
func (t Tool) runTo(ctx context.Context, w io.Writer, args ...string) ([]byte, error) {
	exe, err := t.executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if w != nil {
		cmd.Stdout = io.MultiWriter(&stdout, w)
	}
	cmd.WaitDelay = waitDelay
	dieWithParent(cmd)
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("qemu-img %s: %w", args[0], context.Cause(ctx))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, missing(exe + " vanished")
	}
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return nil, fmt.Errorf("qemu-img %s: %w: %s", args[0], err, msg)
		}
		return nil, fmt.Errorf("qemu-img %s: %w", args[0], err)
	}
	return stdout.Bytes(), nil
}

// Info runs `qemu-img info --output=json` on file. It opens the image with
// -U (shared access), so it also works while a VM has the image open.
func (t Tool) Info(ctx context.Context, file string) (Info, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return Info{}, fmt.Errorf("inspect %q: %w", file, err)
	}
	out, err := t.run(ctx, "info", "-U", "--output=json", abs)
	if err != nil {
		return Info{}, fmt.Errorf("inspect %s: %w", file, err)
	}
	info, err := ParseInfo(out)
	if err != nil {
		return Info{}, fmt.Errorf("inspect %s: %w", file, err)
	}
	return info, nil
}

// CheckConvertible returns an error unless info describes an image that
// ConvertToRaw accepts: no backing or external data file (ErrBackingFile),
// not encrypted, and in qcow2, raw, vpc or vhdx format (ErrUnsupportedFormat).
func CheckConvertible(info Info) error {
	switch {
	case info.BackingFile != "":
		return fmt.Errorf("%w: it has the backing file %q; only self-contained images are converted", ErrBackingFile, info.BackingFile)
	case info.DataFile != "":
		return fmt.Errorf("%w: it has the external data file %q; only self-contained images are converted", ErrBackingFile, info.DataFile)
	case !convertFormats[info.Format]:
		return fmt.Errorf("%w: format %q (accepted: qcow2, raw, vpc, vhdx)", ErrUnsupportedFormat, info.Format)
	case info.Encrypted:
		return fmt.Errorf("%w: it is encrypted", ErrUnsupportedFormat)
	case info.Corrupt:
		return fmt.Errorf("%w: qemu-img reports it corrupt", ErrUnsupportedFormat)
	}
	return nil
}

// ConvertToRaw converts src to a raw disk at dst. It inspects src first and
// refuses it unless CheckConvertible accepts it; it then runs
// `qemu-img convert -f <format> -O raw src dst`, which writes a sparse file,
// and syncs dst. dst is meant to be a temporary name the caller owns and
// renames once it has checked the result (the cache's transactions do). On
// failure or when ctx ends, qemu-img is killed and dst removed. qemu-img dies
// with the calling process where the system allows it (Linux), so a killed
// caller leaves no conversion running.
func (t Tool) ConvertToRaw(ctx context.Context, src, dst string) error {
	return t.ConvertToRawProgress(ctx, src, dst, nil)
}

// ConvertToRawProgress is ConvertToRaw reporting how far qemu-img got, as a
// fraction in [0,1], to progress (when not nil). progress runs on the
// goroutine that copies qemu-img's output; a finished conversion reports 1.
func (t Tool) ConvertToRawProgress(ctx context.Context, src, dst string, progress func(fraction float64)) (err error) {
	absSrc, err := filepath.Abs(src)
	if err != nil {
		return fmt.Errorf("convert %q to raw: %w", src, err)
	}
	absDst, err := filepath.Abs(dst)
	if err != nil {
		return fmt.Errorf("convert %q to raw: %w", src, err)
	}
	info, err := t.Info(ctx, absSrc)
	if err != nil {
		return fmt.Errorf("convert %s to raw: %w", src, err)
	}
	if err := CheckConvertible(info); err != nil {
		return fmt.Errorf("convert %s to raw: %w", src, err)
	}

	tmp := absDst
	defer func() {
		if err != nil {
			os.Remove(tmp)
		}
	}()
	args := []string{"convert", "-f", info.Format, "-O", "raw", absSrc, tmp}
	var w io.Writer
	if progress != nil {
		args = append([]string{"convert", "-p"}, args[1:]...)
		w = &progressWriter{report: progress}
	}
	if _, err := t.runTo(ctx, w, args...); err != nil {
		return fmt.Errorf("convert %s to raw: %w", src, err)
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("convert %s to raw: %w", src, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("convert %s to raw: %w", src, context.Cause(ctx))
	}
	return nil
}

// syncFile flushes a file qemu-img wrote, so that a crash after the rename
// cannot leave a raw disk with holes where data should be.
func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// InstallHint says how to install qemu-img on this system, for example
// "install it with: sudo apt install qemu-utils".
func InstallHint() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		b, _ = os.ReadFile("/usr/lib/os-release")
	}
	return installHint(runtime.GOOS, b)
}

// installHint picks the package for goos and the os-release contents.
func installHint(goos string, osRelease []byte) string {
	if goos == "darwin" {
		return "install it with: brew install qemu"
	}
	if goos != "linux" {
		return "install QEMU's qemu-img tool"
	}
	var ids []string
	for _, line := range strings.Split(string(osRelease), "\n") {
		key, val, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || (key != "ID" && key != "ID_LIKE") {
			continue
		}
		val = strings.Trim(val, `"'`)
		if key == "ID" {
			ids = append(strings.Fields(val), ids...)
		} else {
			ids = append(ids, strings.Fields(val)...)
		}
	}
	for _, id := range ids {
		switch strings.ToLower(id) {
		case "debian", "ubuntu":
			return "install it with: sudo apt install qemu-utils"
		case "fedora", "rhel", "centos":
			return "install it with: sudo dnf install qemu-img"
		case "arch":
			return "install it with: sudo pacman -S qemu-img"
		case "suse", "opensuse":
			return "install it with: sudo zypper install qemu-tools"
		case "alpine":
			return "install it with: sudo apk add qemu-img"
		}
	}
	return "install the package that provides qemu-img (qemu-utils on Debian/Ubuntu, qemu-img on Fedora and Arch)"
}
