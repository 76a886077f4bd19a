package core

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"vmimages/core/catalog"
	"vmimages/core/discover"
)

// refreshFile is where the last catalog refresh is kept, in the cache root.
const refreshFile = "catalog-refresh.json"

// CatalogSource says where the catalog's releases come from.
type CatalogSource struct {
	// Refreshed is when the upstream refresh in use was taken; zero when
	// the catalog is the embedded one alone.
	Refreshed time.Time
	// Added lists releases the refresh added to the embedded catalog.
	Added []string
}

// String describes the source for people.
func (s CatalogSource) String() string {
	if s.Refreshed.IsZero() {
		return "the catalog built into this version"
	}
	return fmt.Sprintf("the built-in catalog updated from upstream on %s", s.Refreshed.UTC().Format("2006-01-02 15:04 UTC"))
}

// CatalogSource reports where the catalog in use comes from.
func (m *Manager) CatalogSource() CatalogSource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.source
}

// loadRefresh applies the last stored refresh, if any; a damaged file is
// ignored (and replaced by the next refresh).
func (m *Manager) loadRefresh() {
	s, err := discover.LoadSnapshot(filepath.Join(m.cache.Root(), refreshFile))
	if err != nil {
		return
	}
	ch := discover.ApplyChanges(m.cat, s)
	m.source = CatalogSource{Refreshed: s.Taken, Added: ch.Added}
}

// DistroRefresh is what a refresh heard from one distribution.
type DistroRefresh struct {
	// Distro is the catalog id, Name its name for people.
	Distro, Name string
	// Found lists the releases upstream, oldest first; empty when it failed.
	Found []string
	// Err is why the distribution could not be asked; nil when it answered.
	// The catalog keeps what an earlier refresh found for it.
	Err error
}

// RefreshResult is the outcome of RefreshCatalog.
type RefreshResult struct {
	// Distros has one entry per distribution a refresh can ask, in catalog
	// order: what it found, or why it failed. One failure never stops the
	// others.
	Distros []DistroRefresh
	Changes discover.Changes
	// Failed lists the distributions that could not be asked, with why.
	Failed []error
	// Offline is true when no distribution answered; the catalog then
	// falls back to the last refresh, or to the embedded one.
	Offline bool
	Source  CatalogSource
}

// distroReports says per distribution what a refresh found or why it failed.
func distroReports(cat *catalog.Catalog, s *discover.Snapshot, errs []error) []DistroRefresh {
	failed := map[string]error{}
	for _, err := range errs {
		var se *discover.SourceError
		if errors.As(err, &se) {
			failed[se.Distro] = err
		}
	}
	var out []DistroRefresh
	for _, d := range cat.Distros {
		if !discover.Covers(d.ID) {
			continue
		}
		r := DistroRefresh{Distro: d.ID, Name: d.Name, Err: failed[d.ID]}
		if s != nil {
			for _, f := range s.Distros[d.ID] {
				r.Found = append(r.Found, f.Version)
			}
		}
		if r.Err == nil && len(r.Found) == 0 {
			r.Err = discover.ErrNoReleases
		}
		out = append(out, r)
	}
	return out
}

// RefreshCatalog asks the distributions which releases exist now, adds new
// ones to the catalog, stores what it found in the cache for later runs,
// and says what changed. Distributions that fail keep what the previous
// refresh found for them.
func (m *Manager) RefreshCatalog(ctx context.Context) (RefreshResult, error) {
	s, errs := discover.Refresh(ctx, m.dl, m.Catalog(), m.now())
	if ctx.Err() != nil {
		return RefreshResult{}, ctx.Err()
	}
	path := filepath.Join(m.cache.Root(), refreshFile)
	prev, _ := discover.LoadSnapshot(path) // nil when missing or damaged
	res := RefreshResult{Failed: errs, Distros: distroReports(m.Catalog(), s, errs)}
	if s == nil || len(s.Distros) == 0 {
		res.Offline = true
		res.Source = m.CatalogSource()
		return res, nil
	}
	if prev != nil {
		for id, found := range prev.Distros {
			if _, ok := s.Distros[id]; !ok {
				s.Distros[id] = found
			}
		}
	}
	if err := s.Save(path); err != nil {
		return res, fmt.Errorf("storing the catalog refresh: %w", err)
	}
	// Apply to a copy and swap it in: readers keep a consistent catalog.
	next := m.Catalog().Clone()
	res.Changes = discover.ApplyChanges(next, s)
	m.mu.Lock()
	m.cat = next
	m.source = CatalogSource{Refreshed: s.Taken, Added: append(m.source.Added, res.Changes.Added...)}
	res.Source = m.source
	m.mu.Unlock()
	return res, nil
}
