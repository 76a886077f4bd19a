// Package units formats and parses the quantities people read: byte sizes,
// rates and durations. It is the one place that decides how they look, for
// the command line and the window alike.
package units

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Bytes formats n with binary prefixes: "512 B", "1.5 KiB", "600.2 MiB",
// "1.2 GiB". Negative n (unknown) formats as "?".
func Bytes(n int64) string {
	if n < 0 {
		return "?"
	}
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// Rate formats bytes per second: "12.3 MiB/s"; 0 or less is "—".
func Rate(bps float64) string {
	if bps <= 0 || math.IsNaN(bps) || math.IsInf(bps, 0) {
		return "—"
	}
	return Bytes(int64(bps)) + "/s"
}

// Duration formats a remaining time for people: "45s", "3m05s", "1h02m";
// zero or less is "—".
func Duration(d time.Duration) string {
	if d <= 0 {
		return "—"
	}
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	switch {
	case h > 0:
		return fmt.Sprintf("%dh%02dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%02ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// Age formats how long ago t was, in the largest sensible unit: "just now",
// "5 min ago", "3 h ago", "12 days ago"; the zero time is "never".
func Age(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return fmt.Sprintf("%d days ago", int(d.Hours()/24))
}

// ParseSize reads "512", "20K", "20M", "1.5G", "2GiB", "10MB" (powers of
// 1024). "" is 0.
func ParseSize(s string) (int64, error) {
	in := s
	s = strings.TrimSpace(strings.ToUpper(s))
	if s == "" {
		return 0, nil
	}
	s = strings.TrimSuffix(s, "B")
	s = strings.TrimSuffix(s, "I")
	mult := int64(1)
	if n := len(s); n > 0 {
		switch s[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			s = s[:n-1]
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f*float64(mult) > math.MaxInt64/2 {
		return 0, fmt.Errorf("%q is not a size such as 500M or 2G", in)
	}
	return int64(f * float64(mult)), nil
}

// ParseAge reads a duration that may use days and weeks: "30d", "2w",
// "12h", "90m". A bare number means days.
func ParseAge(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return 0, fmt.Errorf("empty duration; use e.g. 30d, 2w or 12h")
	}
	mult := 24 * time.Hour
	switch {
	case strings.HasSuffix(s, "d"):
		s = s[:len(s)-1]
	case strings.HasSuffix(s, "w"):
		s, mult = s[:len(s)-1], 7*24*time.Hour
	default:
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			d, err := time.ParseDuration(s)
			if err != nil || d < 0 {
				return 0, fmt.Errorf("%q is not a duration such as 30d, 2w or 12h", s)
			}
			return d, nil
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 30d, 2w or 12h", s)
	}
	return time.Duration(f * float64(mult)), nil
}
