package boottest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Gzip compresses b the way distributions ship arm64 Image.gz.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// Zstd compresses b with zstd.
func Zstd(t testing.TB, b []byte) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedBetterCompression))
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

// Zboot wraps an already compressed payload in an EFI zboot header as
// linux's drivers/firmware/efi/libstub/zboot-header.S lays it out: "MZ",
// "zimg" at 4, the payload's offset and size at 8 and 12 (little endian),
// the compression's name at 24. The PE stub that would decompress it is
// left out: nothing here executes it.
func Zboot(comp string, payload []byte) []byte {
	const headerLen = 64
	h := make([]byte, headerLen)
	copy(h, "MZ")
	copy(h[4:], "zimg")
	binary.LittleEndian.PutUint32(h[8:], headerLen)
	binary.LittleEndian.PutUint32(h[12:], uint32(len(payload)))
	copy(h[24:56], comp)
	return append(h, payload...)
}
