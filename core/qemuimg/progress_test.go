package qemuimg

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestParseProgress(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"    (0.00/100%)", 0, true},
		{"(25.00/100%)", 0.25, true},
		{"    (100.00/100%)", 1, true},
		{"(101.00/100%)", 0, false},
		{"(-1/100%)", 0, false},
		{"(abc/100%)", 0, false},
		{"25.00/100%", 0, false},
		{"", 0, false},
	} {
		got, ok := ParseProgress([]byte(tc.in))
		if ok != tc.ok || got != tc.want {
			t.Errorf("ParseProgress(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// TestProgressWriterOnCapturedOutput feeds a real `qemu-img convert -p`
// output (testdata/convert-progress.txt) in awkward pieces.
func TestProgressWriterOnCapturedOutput(t *testing.T) {
	out, err := os.ReadFile("testdata/convert-progress.txt")
	if err != nil {
		t.Fatal(err)
	}
	var got []float64
	w := &progressWriter{report: func(f float64) { got = append(got, f) }}
	for len(out) > 0 {
		n := min(7, len(out))
		w.Write(out[:n])
		out = out[n:]
	}
	want := []float64{0, 0.25, 0.5, 0.75, 1, 1}
	if len(got) != len(want) {
		t.Fatalf("reports %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("reports %v, want %v", got, want)
		}
	}
}

func TestConvertToRawProgress(t *testing.T) {
	needQemuImg(t)
	dir := t.TempDir()
	src := makeQcow2(t, dir)
	dst := filepath.Join(dir, "disk.raw")
	var reports []float64
	if err := (Tool{}).ConvertToRawProgress(t.Context(), src, dst, func(f float64) { reports = append(reports, f) }); err != nil {
		t.Fatal(err)
	}
	if len(reports) < 2 || reports[len(reports)-1] != 1 {
		t.Fatalf("progress reports %v: want several, ending at 1", reports)
	}
	for i := 1; i < len(reports); i++ {
		if reports[i] < reports[i-1] {
			t.Fatalf("progress went backwards: %v", reports)
		}
	}
	want := filepath.Join(dir, "want.raw")
	sh(t, "qemu-img", "convert", "-O", "raw", src, want)
	a, _ := os.ReadFile(dst)
	b, _ := os.ReadFile(want)
	if !bytes.Equal(a, b) {
		t.Error("the output with progress differs from a hand-run conversion")
	}
}
