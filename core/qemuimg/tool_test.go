package qemuimg

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needQemuImg skips the test when qemu-img is not installed.
func needQemuImg(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img not installed (Debian: qemu-utils)")
	}
}

func sh(t *testing.T, name string, args ...string) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
}

// makeQcow2 creates a 64 MiB qcow2 with 2 MiB of 0xab at offset 1 MiB and
// 64 KiB of 0x5c at 40 MiB.
func makeQcow2(t *testing.T, dir string) string {
	t.Helper()
	src := filepath.Join(dir, "disk.qcow2")
	sh(t, "qemu-img", "create", "-q", "-f", "qcow2", src, "64M")
	if _, err := exec.LookPath("qemu-io"); err == nil {
		sh(t, "qemu-io", "-c", "write -P 0xab 1M 2M", "-c", "write -P 0x5c 40M 64k", src)
		return src
	}
	raw := filepath.Join(dir, "seed.raw")
	f, err := os.Create(raw)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt(bytes.Repeat([]byte{0xab}, 2<<20), 1<<20)
	f.WriteAt(bytes.Repeat([]byte{0x5c}, 64<<10), 40<<20)
	f.Truncate(64 << 20)
	f.Close()
	os.Remove(src)
	sh(t, "qemu-img", "convert", "-f", "raw", "-O", "qcow2", raw, src)
	return src
}

func TestInfoReal(t *testing.T) {
	needQemuImg(t)
	src := makeQcow2(t, t.TempDir())
	info, err := Tool{}.Info(t.Context(), src)
	if err != nil {
		t.Fatal(err)
	}
	if info.Format != "qcow2" || info.VirtualSize != 64<<20 || info.BackingFile != "" || info.ActualSize <= 0 {
		t.Errorf("Info = %+v", info)
	}
	if _, err := (Tool{}).Info(t.Context(), filepath.Join(t.TempDir(), "nope")); err == nil || !strings.Contains(err.Error(), "No such file") {
		t.Errorf("Info of a missing file = %v", err)
	}
}

func TestConvertToRaw(t *testing.T) {
	needQemuImg(t)
	dir := t.TempDir()
	src := makeQcow2(t, dir)
	want := filepath.Join(dir, "want.raw")
	sh(t, "qemu-img", "convert", "-O", "raw", src, want)

	dst := filepath.Join(dir, "disk.raw")
	os.WriteFile(dst, []byte("an older raw disk"), 0o644) // replaced atomically
	if err := (Tool{}).ConvertToRaw(t.Context(), src, dst); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	wantB, _ := os.ReadFile(want)
	if !bytes.Equal(got, wantB) {
		t.Fatal("ConvertToRaw output differs from a hand-run qemu-img convert -O raw")
	}
	if len(got) != 64<<20 || got[1<<20] != 0xab || got[40<<20] != 0x5c || got[0] != 0 {
		t.Fatalf("raw content wrong (len %d)", len(got))
	}
	onDisk, apparent := allocated(t, dst)
	if onDisk >= apparent/4 {
		t.Errorf("raw disk not sparse: %d bytes on disk for %d apparent", onDisk, apparent)
	}
	assertNoTemp(t, dir)

	info, err := Tool{}.Info(t.Context(), dst)
	if err != nil || info.Format != "raw" || info.VirtualSize != 64<<20 {
		t.Errorf("Info(dst) = %+v, %v", info, err)
	}
}

func assertNoTemp(t *testing.T, dir string) {
	t.Helper()
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left: %s", e.Name())
		}
	}
}

func TestConvertRefusesBackingFile(t *testing.T) {
	needQemuImg(t)
	dir := t.TempDir()
	// The overlay's backing file stands for a host file an image should never reach.
	secret := filepath.Join(dir, "host-secret")
	os.WriteFile(secret, []byte("root:x:0:0"), 0o600)
	overlay := filepath.Join(dir, "evil.qcow2")
	sh(t, "qemu-img", "create", "-q", "-f", "qcow2", "-b", secret, "-F", "raw", overlay, "1M")
	dst := filepath.Join(dir, "disk.raw")
	err := Tool{}.ConvertToRaw(t.Context(), overlay, dst)
	if !errors.Is(err, ErrBackingFile) || !strings.Contains(err.Error(), "host-secret") {
		t.Fatalf("ConvertToRaw of an overlay = %v, want ErrBackingFile naming the file", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dst created: %v", err)
	}
	assertNoTemp(t, dir)
}

func TestConvertCancelled(t *testing.T) {
	needQemuImg(t)
	dir := t.TempDir()
	src := makeQcow2(t, dir)
	dst := filepath.Join(dir, "disk.raw")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := (Tool{}).ConvertToRaw(ctx, src, dst); !errors.Is(err, context.Canceled) {
		t.Fatalf("ConvertToRaw with a cancelled context = %v", err)
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dst created: %v", err)
	}
	assertNoTemp(t, dir)
}

// TestConvertCancelledMidway cancels while "qemu-img convert" is writing,
// using a stand-in script that writes part of the temp file and hangs.
func TestConvertCancelledMidway(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	started := filepath.Join(dir, "started")
	fake := filepath.Join(dir, "fake-qemu-img")
	script := "#!/bin/sh\n" +
		"case \"$1\" in\n" +
		"info) cat '" + filepath.Join(mustAbs(t, "testdata"), "info-qcow2.json") + "' ;;\n" +
		"convert) for last; do :; done; echo partial > \"$last\"; touch '" + started + "'; exec sleep 30 ;;\n" +
		"*) exit 2 ;;\n" +
		"esac\n"
	if err := os.WriteFile(fake, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "disk.qcow2")
	os.WriteFile(src, nil, 0o644)
	dst := filepath.Join(dir, "disk.raw")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for ctx.Err() == nil {
			if _, err := os.Stat(started); err == nil {
				cancel()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	begin := time.Now()
	err := Tool{Path: fake}.ConvertToRaw(ctx, src, dst)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("ConvertToRaw = %v, want context.Canceled", err)
	}
	if d := time.Since(begin); d > 10*time.Second {
		t.Errorf("cancel took %v", d)
	}
	if _, err := os.Stat(started); err != nil {
		t.Fatal("the fake convert never started")
	}
	if _, err := os.Stat(dst); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dst created: %v", err)
	}
	assertNoTemp(t, dir)
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func TestMissing(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "disk.qcow2")
	os.WriteFile(src, nil, 0o644)
	check := func(t *testing.T, tool Tool) {
		t.Helper()
		_, err := tool.Info(t.Context(), src)
		if !errors.Is(err, ErrMissing) || !strings.Contains(err.Error(), "install") {
			t.Errorf("Info = %v, want ErrMissing with an install hint", err)
		}
		err = tool.ConvertToRaw(t.Context(), src, filepath.Join(dir, "disk.raw"))
		if !errors.Is(err, ErrMissing) {
			t.Errorf("ConvertToRaw = %v, want ErrMissing", err)
		}
		assertNoTemp(t, dir)
	}
	t.Run("path to nonexistent file", func(t *testing.T) {
		check(t, Tool{Path: filepath.Join(dir, "no-such-qemu-img")})
	})
	t.Run("empty PATH", func(t *testing.T) {
		t.Setenv("PATH", "")
		check(t, Tool{})
	})
}
