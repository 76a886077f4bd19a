package cache

import (
	"os"
	"slices"
	"testing"
	"time"
)

func img(distro, version string, state State, size int64, pulledDaysAgo, usedDaysAgo int) Image {
	im := Image{Key: Key{distro, version, "x86_64"}, State: state, SizeBytes: size}
	if pulledDaysAgo >= 0 {
		im.PulledAt = t0.Add(-time.Duration(pulledDaysAgo) * 24 * time.Hour)
	}
	if usedDaysAgo >= 0 {
		im.LastUsed = t0.Add(-time.Duration(usedDaysAgo) * 24 * time.Hour)
	}
	return im
}

func TestPruneCandidates(t *testing.T) {
	const day = 24 * time.Hour
	images := []Image{
		img("debian", "11", StateReady, 100, 300, 200),
		img("debian", "12", StateReady, 200, 30, 1),
		img("debian", "13", StatePartial, 50, -1, 40),
		img("fedora", "40", StateReady, 300, 100, 100),
		img("fedora", "41", StateCorrupt, 400, 10, -1),
		img("ubuntu", "22.04", StateReady, 500, 60, 5),
		img("ubuntu", "24.04", StateReady, 600, 60, 2),
	}
	names := func(ims []Image) []string {
		var s []string
		for _, im := range ims {
			s = append(s, im.Distro+"/"+im.Version)
		}
		return s
	}
	tests := []struct {
		name string
		p    PrunePolicy
		want []string
	}{
		{"no policy", PrunePolicy{Now: t0}, nil},
		{"keep 1 per distro", PrunePolicy{KeepNewest: 1, Now: t0}, []string{"debian/11", "fedora/40", "ubuntu/22.04"}},
		{"keep 2 per distro", PrunePolicy{KeepNewest: 2, Now: t0}, nil},
		{"older than 30 days", PrunePolicy{OlderThan: 30 * day, Now: t0}, []string{"debian/11", "debian/13", "fedora/40"}},
		{"older than 7 days falls back to PulledAt", PrunePolicy{OlderThan: 7 * day, Now: t0}, []string{"debian/11", "debian/13", "fedora/40", "fedora/41"}},
		{"older than without Now picks nothing", PrunePolicy{OlderThan: 7 * day}, nil},
		{"max size over total", PrunePolicy{MaxSize: 10000, Now: t0}, nil},
		{"max size removes LRU first", PrunePolicy{MaxSize: 1500, Now: t0}, []string{"debian/11", "debian/13", "fedora/40", "fedora/41"}},
		{"max size exactly at total", PrunePolicy{MaxSize: 2150, Now: t0}, nil},
		{"max size one byte under", PrunePolicy{MaxSize: 2149, Now: t0}, []string{"debian/11"}},
		{"max size after older-than", PrunePolicy{OlderThan: 30 * day, MaxSize: 1500, Now: t0}, []string{"debian/11", "debian/13", "fedora/40", "fedora/41"}},
		{"keep protects", PrunePolicy{KeepNewest: 1, Keep: []Key{{"debian", "11", "x86_64"}}, Now: t0}, []string{"fedora/40", "ubuntu/22.04"}},
		{"keep counts toward max size", PrunePolicy{MaxSize: 1800, Keep: []Key{{"debian", "11", "x86_64"}}, Now: t0}, []string{"debian/13", "fedora/40"}},
		{"all rules", PrunePolicy{KeepNewest: 1, OlderThan: 30 * day, MaxSize: 100, Now: t0}, []string{"debian/11", "debian/12", "debian/13", "fedora/40", "fedora/41", "ubuntu/22.04", "ubuntu/24.04"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(images)
			got := names(PruneCandidates(in, tt.p))
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if !slices.EqualFunc(in, images, func(a, b Image) bool { return a.Key == b.Key }) {
				t.Error("PruneCandidates reordered its input")
			}
		})
	}
}

func TestPruneKeepNewestTies(t *testing.T) {
	// Same PulledAt: the higher version is the newer.
	images := []Image{
		img("alpine", "3.9", StateReady, 1, 5, 5),
		img("alpine", "3.20", StateReady, 1, 5, 5),
		img("alpine", "3.10", StateReady, 1, 5, 5),
	}
	got := PruneCandidates(images, PrunePolicy{KeepNewest: 1, Now: t0})
	if len(got) != 2 || got[0].Version != "3.9" || got[1].Version != "3.10" {
		t.Errorf("got %v", got)
	}
}

func TestPrune(t *testing.T) {
	c := openTest(t)
	old := Key{"debian", "11", "x86_64"}
	fresh := Key{"debian", "12", "x86_64"}
	stale := Key{"debian", "13", "x86_64"} // an abandoned partial pull
	putImage(t, c, old, map[string]string{"vmlinuz": "old"}, t0.Add(-90*24*time.Hour))
	putImage(t, c, fresh, map[string]string{"vmlinuz": "new"}, t0.Add(-time.Hour))
	unlock, _, _ := c.TryLock(stale)
	unlock()
	long := t0.Add(-60 * 24 * time.Hour)
	for _, p := range []string{c.Dir(stale) + "/.lock", c.Dir(stale)} {
		os.Chtimes(p, long, long)
	}
	p := PrunePolicy{OlderThan: 30 * 24 * time.Hour}

	before, _ := c.List(t.Context())
	removed, freed, err := c.Prune(t.Context(), p, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || removed[0].Key != old || removed[1].Key != stale || freed != removed[0].SizeBytes+removed[1].SizeBytes || freed <= 0 {
		t.Fatalf("dry run = %v, %d", removed, freed)
	}
	after, _ := c.List(t.Context())
	if len(after) != len(before) {
		t.Fatalf("dry run removed something: %d images before, %d after", len(before), len(after))
	}
	for _, k := range []Key{old, fresh, stale} {
		if _, err := os.Stat(c.Dir(k)); err != nil {
			t.Errorf("dry run removed %s: %v", k, err)
		}
	}

	removed, freed2, err := c.Prune(t.Context(), p, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 2 || freed2 != freed {
		t.Fatalf("prune = %v, %d", removed, freed2)
	}
	left, _ := c.List(t.Context())
	if len(left) != 1 || left[0].Key != fresh {
		t.Fatalf("left %v", left)
	}
}
