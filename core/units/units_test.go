package units

import (
	"testing"
	"time"
)

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{
		{-1, "?"}, {0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"},
		{600 << 20, "600.0 MiB"}, {3 << 30, "3.0 GiB"}, {5 << 40, "5.0 TiB"},
	} {
		if got := Bytes(tc.in); got != tc.want {
			t.Errorf("Bytes(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   time.Duration
		want string
	}{
		{0, "—"}, {45 * time.Second, "45s"}, {185 * time.Second, "3m05s"}, {62 * time.Minute, "1h02m"},
	} {
		if got := Duration(tc.in); got != tc.want {
			t.Errorf("Duration(%v) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"", 0, false}, {"512", 512, false}, {"20K", 20 << 10, false}, {"20M", 20 << 20, false},
		{"1.5G", 3 << 29, false}, {"2GiB", 2 << 30, false}, {"10MB", 10 << 20, false},
		{"ten", 0, true}, {"-5M", 0, true}, {"1e30G", 0, true},
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestParseAge(t *testing.T) {
	day := 24 * time.Hour
	for _, tc := range []struct {
		in      string
		want    time.Duration
		wantErr bool
	}{
		{"30d", 30 * day, false}, {"2w", 14 * day, false}, {"12h", 12 * time.Hour, false},
		{"7", 7 * day, false}, {"", 0, true}, {"soon", 0, true}, {"-3d", 0, true},
	} {
		got, err := ParseAge(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v, err %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestAge(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		t    time.Time
		want string
	}{
		{time.Time{}, "never"}, {now.Add(-10 * time.Second), "just now"},
		{now.Add(-5 * time.Minute), "5 min ago"}, {now.Add(-3 * time.Hour), "3 h ago"},
		{now.Add(-12 * 24 * time.Hour), "12 days ago"},
	} {
		if got := Age(now, tc.t); got != tc.want {
			t.Errorf("Age(%v) = %q, want %q", tc.t, got, tc.want)
		}
	}
}
