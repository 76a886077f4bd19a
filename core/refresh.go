package core

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

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

// RefreshResult is the outcome of RefreshCatalog.
type RefreshResult struct {
	Changes discover.Changes
	// Failed lists the distributions that could not be asked, with why.
	Failed []error
	// Offline is true when no distribution answered; the catalog then
	// falls back to the last refresh, or to the embedded one.
	Offline bool
	Source  CatalogSource
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
	res := RefreshResult{Failed: errs}
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
