package qemuimg

import (
	"bytes"
	"strconv"
)

// progressWriter reads the "(12.34/100%)" updates that `qemu-img convert -p`
// writes, separated by carriage returns, and reports each as a fraction.
type progressWriter struct {
	report func(fraction float64)
	buf    []byte
}

func (w *progressWriter) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexAny(w.buf, "\r\n")
		if i < 0 {
			break
		}
		if f, ok := ParseProgress(w.buf[:i]); ok {
			w.report(f)
		}
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > 256 { // not qemu-img's progress: keep memory bounded
		w.buf = w.buf[:0]
	}
	return len(p), nil
}

// ParseProgress reads one "(12.34/100%)" update of `qemu-img convert -p`
// as a fraction in [0,1]; ok is false for anything else.
func ParseProgress(line []byte) (fraction float64, ok bool) {
	line = bytes.TrimSpace(line)
	rest, found := bytes.CutPrefix(line, []byte("("))
	if !found {
		return 0, false
	}
	num, found := bytes.CutSuffix(rest, []byte("/100%)"))
	if !found {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(num), 64)
	if err != nil || v < 0 || v > 100 {
		return 0, false
	}
	return v / 100, true
}
