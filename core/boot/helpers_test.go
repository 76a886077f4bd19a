package boot_test

import (
	"io"

	"github.com/klauspost/compress/gzip"
)

func newGzip(w io.Writer) *gzip.Writer {
	zw, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return zw
}
