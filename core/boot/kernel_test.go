package boot_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vmimages/core/boot"
	"vmimages/internal/boottest"
)

// TestDecompressArm64Real turns Debian's real arm64 kernel, compressed every
// way upstreams publish one, back into the very same Image.
func TestDecompressArm64Real(t *testing.T) {
	k := boottest.Load(t)
	image, err := os.ReadFile(k.Vmlinuz("arm64"))
	if err != nil {
		t.Fatal(err)
	}
	if boot.Detect(image) != boot.FormatArm64Image {
		t.Fatalf("Debian's arm64 vmlinuz is not detected as an Image")
	}
	gz := boottest.Gzip(t, image)
	for _, tc := range []struct {
		name   string
		in     []byte
		format boot.Format
	}{
		{"Image", image, boot.FormatArm64Image},
		{"Image.gz", gz, boot.FormatGzip},
		{"Image.gz with trailing padding", append(append([]byte{}, gz...), make([]byte, 4096)...), boot.FormatGzip},
		{"zboot gzip", boottest.Zboot("gzip", gz), boot.FormatZboot},
		{"zboot zstd", boottest.Zboot("zstd", boottest.Zstd(t, image)), boot.FormatZboot},
		{"zboot zstd22", boottest.Zboot("zstd22", boottest.Zstd(t, image)), boot.FormatZboot},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			f, n, err := boot.DecompressArm64(context.Background(), &out, bytes.NewReader(tc.in), int64(len(tc.in)), 0)
			if err != nil {
				t.Fatal(err)
			}
			if f != tc.format || n != int64(len(image)) {
				t.Fatalf("format %v, %d bytes; want %v, %d", f, n, tc.format, len(image))
			}
			if sha256.Sum256(out.Bytes()) != sha256.Sum256(image) {
				t.Fatal("the decompressed Image differs from Debian's")
			}
		})
	}
}

// TestDecompressArm64Boots boots the Image decompressed from a zboot
// container under qemu-system-aarch64 -M virt -cpu max.
func TestDecompressArm64Boots(t *testing.T) {
	k := boottest.Load(t)
	boottest.Need(t, "qemu-system-aarch64")
	image, err := os.ReadFile(k.Vmlinuz("arm64"))
	if err != nil {
		t.Fatal(err)
	}
	zb := boottest.Zboot("zstd", boottest.Zstd(t, image))
	dir := t.TempDir()
	kernel := filepath.Join(dir, "Image")
	f, err := os.Create(kernel)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := boot.DecompressArm64(context.Background(), f, bytes.NewReader(zb), int64(len(zb)), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	initrd := filepath.Join(dir, "initrd")
	if err := os.WriteFile(initrd, boottest.Initramfs(t, k.Busybox("arm64")), 0o644); err != nil {
		t.Fatal(err)
	}
	boottest.Boot(t, "arm64", kernel, initrd)
}

// fakeImage is the smallest thing with an arm64 boot header.
func fakeImage(size int) []byte {
	b := make([]byte, size)
	copy(b[0x38:], "ARM\x64")
	for i := 0x40; i < size; i++ {
		b[i] = byte(i * 7)
	}
	return b
}

func TestDecompressArm64Refuses(t *testing.T) {
	img := fakeImage(4096)
	gz := boottest.Gzip(t, img)
	bz := make([]byte, 0x400)
	copy(bz[0x202:], "HdrS")
	outside := boottest.Zboot("gzip", gz)
	binary.LittleEndian.PutUint32(outside[12:], uint32(len(gz)+1))
	hugeOff := boottest.Zboot("gzip", gz)
	binary.LittleEndian.PutUint32(hugeOff[8:], 0xffffffff)
	for _, tc := range []struct {
		name, want string
		in         []byte
		maxOut     int64
		format     boot.Format
	}{
		{"bzImage", "x86 bzImage", bz, 0, boot.FormatBzImage},
		{"empty", "not an arm64 Image", nil, 0, boot.FormatUnknown},
		{"text", "not an arm64 Image", []byte("#!/bin/sh\necho not a kernel\n"), 0, boot.FormatUnknown},
		{"zboot payload past the end", "outside the", outside, 0, boot.FormatZboot},
		{"zboot offset past the end", "outside the", hugeOff, 0, boot.FormatZboot},
		{"zboot truncated header", "truncated", boottest.Zboot("gzip", nil)[:30], 0, boot.FormatZboot},
		{"zboot lzma", `"lzma" is not supported`, boottest.Zboot("lzma", gz), 0, boot.FormatZboot},
		{"gzip of something else", "not an arm64 Image", boottest.Gzip(t, bytes.Repeat([]byte("x"), 5000)), 0, boot.FormatGzip},
		{"gzip too short", "too short", boottest.Gzip(t, []byte("tiny")), 0, boot.FormatGzip},
		{"zboot zstd of something else", "not an arm64 Image", boottest.Zboot("zstd", boottest.Zstd(t, bytes.Repeat([]byte("y"), 5000))), 0, boot.FormatZboot},
		{"truncated gzip", "unexpected EOF", gz[:len(gz)/2], 0, boot.FormatGzip},
		{"over the cap", "exceeds the size limit", gz, 1000, boot.FormatGzip},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _, err := boot.DecompressArm64(context.Background(), io.Discard, bytes.NewReader(tc.in), int64(len(tc.in)), tc.maxOut)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
			if f != tc.format {
				t.Errorf("format %v, want %v", f, tc.format)
			}
			var fe *boot.FormatError
			if tc.maxOut == 0 && !strings.Contains(tc.want, "EOF") && !errors.As(err, &fe) {
				t.Errorf("%v is not a *FormatError", err)
			}
		})
	}
}

// TestDecompressArm64Bomb: a gzip stream that would expand past
// MaxImageSize stops there with ErrTooLarge, having written no more.
func TestDecompressArm64Bomb(t *testing.T) {
	var buf bytes.Buffer
	buf.Write(fakeImage(64))
	zeros := make([]byte, 1<<20)
	var gz bytes.Buffer
	zw := newGzip(&gz)
	if _, err := zw.Write(buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	for range boot.MaxImageSize>>20 + 64 {
		if _, err := zw.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("bomb: %d compressed bytes", gz.Len())
	var n countWriter
	_, _, err := boot.DecompressArm64(context.Background(), &n, bytes.NewReader(gz.Bytes()), int64(gz.Len()), 0)
	if !errors.Is(err, boot.ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if n > boot.MaxImageSize+1 {
		t.Fatalf("wrote %d bytes, more than the cap", n)
	}
}

func TestDecompressArm64Cancel(t *testing.T) {
	gz := boottest.Gzip(t, fakeImage(1<<20))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err := boot.DecompressArm64(ctx, io.Discard, bytes.NewReader(gz), int64(len(gz)), 0)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

type countWriter int64

func (c *countWriter) Write(p []byte) (int, error) { *c += countWriter(len(p)); return len(p), nil }

func FuzzDecompressArm64(f *testing.F) {
	img := fakeImage(2048)
	gz := boottest.Gzip(f, img)
	f.Add(img)
	f.Add(gz)
	f.Add(boottest.Zboot("gzip", gz))
	f.Add(boottest.Zboot("zstd", boottest.Zstd(f, img)))
	f.Add(boottest.Zboot("zstd", nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		var out bytes.Buffer
		_, n, err := boot.DecompressArm64(context.Background(), &out, bytes.NewReader(in), int64(len(in)), 1<<20)
		if err != nil {
			return
		}
		if n > 1<<20 || int64(out.Len()) != n {
			t.Fatalf("n %d, wrote %d", n, out.Len())
		}
		if got := out.Bytes(); len(got) < 0x3c || string(got[0x38:0x3c]) != "ARM\x64" {
			t.Fatal("succeeded with something that is not an arm64 Image")
		}
	})
}
