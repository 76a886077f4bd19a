package boot

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// Format names the shape of a kernel file.
type Format int

// The kernel formats Detect tells apart.
const (
	FormatUnknown    Format = iota
	FormatArm64Image        // uncompressed arm64 Image
	FormatGzip              // gzip stream (arm64 Image.gz)
	FormatZboot             // EFI zboot container
	FormatBzImage           // x86 bzImage
)

// String names the format for messages.
func (f Format) String() string {
	switch f {
	case FormatArm64Image:
		return "arm64 Image"
	case FormatGzip:
		return "gzip"
	case FormatZboot:
		return "EFI zboot"
	case FormatBzImage:
		return "x86 bzImage"
	}
	return "unknown"
}

// MaxImageSize caps the uncompressed arm64 Image DecompressArm64 writes.
// Distribution kernels are 20–70 MiB uncompressed; the cap only stops a
// compression bomb.
const MaxImageSize = 256 << 20

// arm64MagicOffset is where the arm64 boot header keeps its magic.
const arm64MagicOffset = 0x38

var arm64Magic = []byte("ARM\x64")

// zboot header layout (linux drivers/firmware/efi/libstub/zboot-header.S).
const (
	zbootTypeOffset   = 4
	zbootPayloadOff   = 8
	zbootPayloadSize  = 12
	zbootCompOffset   = 24
	zbootCompLen      = 32
	zbootHeaderLength = zbootCompOffset + zbootCompLen
)

// ErrTooLarge means a decompressed kernel would exceed its size cap: a
// compression bomb or not a kernel at all.
var ErrTooLarge = errors.New("decompressed kernel exceeds the size limit")

// FormatError says a kernel file is not in a shape DecompressArm64 can turn
// into an arm64 Image.
type FormatError struct {
	Format Format // what the file looked like
	Reason string
}

func (e *FormatError) Error() string {
	return "arm64 kernel: " + e.Reason
}

// Detect names the format of a kernel file from its first bytes (at least
// 0x3c of them for an arm64 Image, 0x206 for a bzImage).
func Detect(head []byte) Format {
	switch {
	case len(head) >= zbootTypeOffset+4 && bytes.Equal(head[:2], []byte("MZ")) &&
		bytes.Equal(head[zbootTypeOffset:zbootTypeOffset+4], []byte("zimg")):
		return FormatZboot
	case len(head) >= arm64MagicOffset+4 && bytes.Equal(head[arm64MagicOffset:arm64MagicOffset+4], arm64Magic):
		return FormatArm64Image
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return FormatGzip
	case len(head) >= 0x206 && bytes.Equal(head[0x202:0x206], []byte("HdrS")):
		return FormatBzImage
	}
	return FormatUnknown
}

// DecompressArm64 writes to dst the uncompressed arm64 Image held by the
// size bytes of src, which may be the Image itself, a gzip stream, or an
// EFI zboot container with a gzip or zstd payload. It returns the format it
// found and the bytes written. More than maxOut bytes of output (at most
// MaxImageSize when maxOut <= 0) is ErrTooLarge; output that is not an arm64
// Image, a zboot header pointing outside the file, an unsupported
// compression or a damaged stream is a *FormatError or a wrapped decoder
// error. On an error dst holds a partial Image and must be discarded.
func DecompressArm64(ctx context.Context, dst io.Writer, src io.ReaderAt, size, maxOut int64) (Format, int64, error) {
	if maxOut <= 0 || maxOut > MaxImageSize {
		maxOut = MaxImageSize
	}
	head := make([]byte, min(size, 0x206))
	if _, err := src.ReadAt(head, 0); err != nil && !errors.Is(err, io.EOF) {
		return FormatUnknown, 0, fmt.Errorf("arm64 kernel: read header: %w", err)
	}
	f := Detect(head)
	var (
		payload io.Reader
		comp    string
	)
	switch f {
	case FormatArm64Image:
		payload, comp = io.NewSectionReader(src, 0, size), "none"
	case FormatGzip:
		payload, comp = io.NewSectionReader(src, 0, size), "gzip"
	case FormatZboot:
		if size < zbootHeaderLength {
			return f, 0, &FormatError{f, "zboot header is truncated"}
		}
		off := int64(binary.LittleEndian.Uint32(head[zbootPayloadOff:]))
		n := int64(binary.LittleEndian.Uint32(head[zbootPayloadSize:]))
		if off < zbootHeaderLength || n == 0 || off+n > size {
			return f, 0, &FormatError{f, fmt.Sprintf("zboot payload (offset %d, %d bytes) lies outside the %d-byte file", off, n, size)}
		}
		name := head[zbootCompOffset : zbootCompOffset+zbootCompLen]
		if i := bytes.IndexByte(name, 0); i >= 0 {
			name = name[:i]
		}
		payload, comp = io.NewSectionReader(src, off, n), string(name)
	case FormatBzImage:
		return f, 0, &FormatError{f, "this is an x86 bzImage, not an arm64 kernel"}
	default:
		return f, 0, &FormatError{f, "not an arm64 Image, a gzip stream or an EFI zboot container"}
	}
	r, closeFn, err := decoder(comp, payload)
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Format = f
		}
		return f, 0, err
	}
	defer closeFn()
	w := &imageWriter{w: dst}
	n, err := io.Copy(w, io.LimitReader(&ctxReader{ctx: ctx, r: r}, maxOut+1))
	switch {
	case err != nil:
		if ctx.Err() != nil {
			return f, n, ctx.Err()
		}
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Format = f
			return f, n, fe
		}
		return f, n, fmt.Errorf("arm64 kernel: %s: %w", comp, err)
	case n > maxOut:
		return f, n, fmt.Errorf("arm64 kernel: %w (%d bytes)", ErrTooLarge, maxOut)
	case !w.checked:
		return f, n, &FormatError{f, fmt.Sprintf("%s output is %d bytes, too short for an arm64 Image", comp, n)}
	}
	return f, n, nil
}

// decoder opens the decompressor named by a zboot header (or "none").
func decoder(comp string, r io.Reader) (io.Reader, func(), error) {
	switch comp {
	case "none":
		return r, func() {}, nil
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, nil, fmt.Errorf("arm64 kernel: gzip: %w", err)
		}
		// A kernel is one gzip member; whatever follows it (padding, a
		// signature) is not part of the Image.
		zr.Multistream(false)
		return zr, func() { _ = zr.Close() }, nil
	case "zstd", "zstd22":
		// zstd -22 --ultra, which the kernel uses, needs a 128 MiB window.
		zr, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderMaxWindow(128<<20), zstd.WithDecoderMaxMemory(MaxImageSize))
		if err != nil {
			return nil, nil, fmt.Errorf("arm64 kernel: zstd: %w", err)
		}
		return zr, zr.Close, nil
	}
	return nil, nil, &FormatError{Reason: fmt.Sprintf("zboot compression %q is not supported (gzip and zstd are)", comp)}
}

// imageWriter passes bytes through once the first 0x3c of them show the
// arm64 magic, so nothing but an Image reaches the destination.
type imageWriter struct {
	w       io.Writer
	head    []byte
	checked bool
}

func (iw *imageWriter) Write(p []byte) (int, error) {
	if iw.checked {
		return iw.w.Write(p)
	}
	need := arm64MagicOffset + 4 - len(iw.head)
	take := min(need, len(p))
	iw.head = append(iw.head, p[:take]...)
	if len(iw.head) < arm64MagicOffset+4 {
		return len(p), nil
	}
	if !bytes.Equal(iw.head[arm64MagicOffset:], arm64Magic) {
		return 0, &FormatError{Reason: "the decompressed data is not an arm64 Image (no ARM\\x64 magic at 0x38)"}
	}
	iw.checked = true
	if _, err := iw.w.Write(iw.head); err != nil {
		return 0, err
	}
	if _, err := iw.w.Write(p[take:]); err != nil {
		return 0, err
	}
	return len(p), nil
}

// ctxReader stops a long copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
