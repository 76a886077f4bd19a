package catalog

import (
	"testing"
	"time"
)

func TestLatestSkipsEndedReleases(t *testing.T) {
	d := &Distro{ID: "x", Versions: []*Version{
		{Version: "1", EOL: "2026-01-31"},
		{Version: "2", EOL: "2026-06-30"},
		{Version: "3", Preview: true},
	}}
	at := func(s string) time.Time { t, _ := time.Parse(time.DateOnly, s); return t }
	for _, tc := range []struct {
		now, want string
	}{
		{"2026-01-01", "2"},
		{"2026-06-30", "2"}, // the last day still counts
		{"2026-07-02", "2"}, // all ended: the newest still answers
	} {
		if got := d.LatestAt(at(tc.now)); got == nil || got.Version != tc.want {
			t.Errorf("LatestAt(%s) = %v, want %s", tc.now, got, tc.want)
		}
	}
	d.Versions[1].EOL = "2026-03-01"
	if got := d.LatestAt(at("2026-04-01")); got.Version != "2" {
		t.Errorf("both ended: got %s, want the newest, 2", got.Version)
	}
	d.Versions[0].EOL = "2027-01-01"
	if got := d.LatestAt(at("2026-04-01")); got.Version != "1" {
		t.Errorf("only 1 supported: got %s", got.Version)
	}
	if (&Version{EOL: "soon"}).EndedBy(at("2030-01-01")) {
		t.Error("an unreadable date must not end a release")
	}
}

func TestLatestSkipsUnsupported(t *testing.T) {
	d := &Distro{ID: "x", Versions: []*Version{{Version: "1"}, {Version: "2", Unsupported: true}}}
	now := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	if got := d.LatestAt(now); got.Version != "1" {
		t.Errorf("LatestAt = %s, want 1 (2 is unsupported)", got.Version)
	}
	if d.Versions[1].Supported(now) || !d.Versions[0].Supported(now) {
		t.Error("Supported disagrees with Unsupported")
	}
}
