package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"vmimages/core/cache"
	"vmimages/core/catalog"
	"vmimages/core/config"
	"vmimages/core/download"
	"vmimages/core/localfs"
	"vmimages/core/qemuimg"
	"vmimages/core/registry"
	"vmimages/core/trust"
)

// Manager is the core's one entry point: a catalog, a cache, a transfer
// engine, a keyring and qemu-img, shared by every job. Its methods are safe
// for concurrent use.
type Manager struct {
	opts     Options
	cat      *catalog.Catalog
	problems []catalog.Problem
	cache    *cache.Cache
	dl       *download.Client
	keys     *trust.Keyring
	qemu     qemuimg.Tool
	now      func() time.Time

	mu   sync.Mutex
	cfg  config.Config
	jobs []*Job
	live map[cache.Key]*Job // running or paused pulls, one per image
	ops  map[opKey]*Job     // running verify, convert and remove jobs
	subs []func()           // called when the job list changes

	// onPark, when set (tests), is called when a paused job's loop waits
	// for Resume.
	onPark func(*Job)

	source CatalogSource

	userAgent string
	regOnce   sync.Once
	reg       *registry.Client
	regdl     *download.Client // transfers of registry blobs
	regErr    error
}

// Open builds a Manager from opts: it loads the catalog with overlays,
// applies mirrors, opens the cache and embeds the pinned keys.
func Open(ctx context.Context, opts Options) (*Manager, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.GOOS == "" {
		opts.GOOS = runtime.GOOS
	}
	transport := opts.Transport
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	} else {
		if transport == nil {
			transport = download.NewTransport()
		}
		transport = download.LogTransport(opts.Logger, transport)
	}
	cat, problems, err := catalog.LoadWithOverlays(opts.OverlayDir)
	if err != nil {
		return nil, err
	}
	// Mirrors from the settings file or the environment that name no
	// distro are reported and skipped, so one stale line does not stop
	// every command; explicit ones (the --mirror flag) are errors.
	soft := map[string]string{}
	for k, v := range opts.Config.Mirrors {
		soft[strings.ToLower(k)] = v
	}
	for k, v := range opts.SoftMirrors {
		soft[k] = v
	}
	for _, id := range sortedKeys(soft) {
		if _, ok := opts.Mirrors[id]; ok {
			continue
		}
		if err := applyMirror(cat, id, soft[id]); err != nil {
			problems = append(problems, catalog.Problem{File: "settings or environment", Err: err})
		}
	}
	for _, id := range sortedKeys(opts.Mirrors) {
		if err := applyMirror(cat, id, opts.Mirrors[id]); err != nil {
			return nil, err
		}
	}
	// The cache is opened lazily: nothing is created until a change needs
	// it, and without a known folder the Manager still does what needs none
	// (catalog, resolve); the cache then reports why it is unavailable.
	var c *cache.Cache
	if root, err := opts.cacheRoot(); err != nil {
		c = cache.Unavailable(err, cache.WithClock(opts.Now))
	} else if c, err = cache.Open(root, cache.WithClock(opts.Now)); err != nil {
		return nil, fmt.Errorf("opening the cache at %s: %w", root, err)
	}
	keys, err := trust.Embedded()
	if err != nil {
		return nil, fmt.Errorf("loading the pinned signing keys: %w", err)
	}
	for _, k := range opts.Config.Keys {
		b, err := os.ReadFile(k.File)
		if err != nil {
			return nil, fmt.Errorf("signing key for %s from settings: %w", k.Distro, err)
		}
		if keys, err = keys.With(k.Distro, b, k.Fingerprint); err != nil {
			return nil, fmt.Errorf("signing key %s from settings: %w", k.File, err)
		}
	}
	ua := "vmimages/" + strings.TrimPrefix(opts.Version, "v")
	if opts.Version == "" {
		ua = "vmimages/dev"
	}
	dl := download.New(download.Options{
		Parallel:  opts.Config.ParallelOrDefault(),
		RateLimit: opts.Config.BandwidthBytes(),
		UserAgent: ua,
		Transport: transport,
		Backoff:   opts.Backoff,

		SmallTimeout: opts.SmallTimeout,
	})
	m := &Manager{
		opts: opts, cat: cat, problems: problems, cache: c, dl: dl, keys: keys,
		qemu: qemuimg.Tool{Path: opts.QemuImg}, now: opts.Now, cfg: opts.Config,
		live: map[cache.Key]*Job{}, ops: map[opKey]*Job{}, userAgent: ua,
	}
	if r := opts.registryRef(opts.Config); r != "" {
		if _, err := registry.ParseTarget(r); err != nil {
			return nil, err
		}
	}
	m.loadRefresh()
	return m, nil
}

func applyMirror(cat *catalog.Catalog, id, base string) error {
	if err := cat.SetBase(id, base); err != nil {
		return fmt.Errorf("mirror %s=%s: %w", id, base, err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Close cancels running jobs (their partial files stay for a later
// resume) and waits for them to stop.
func (m *Manager) Close() {
	m.mu.Lock()
	jobs := append([]*Job(nil), m.jobs...)
	m.mu.Unlock()
	for _, j := range jobs {
		j.Cancel()
	}
	for _, j := range jobs {
		<-j.done
	}
}

// Catalog is the catalog in use, overlays and mirrors applied. Treat it as
// read-only: a catalog refresh replaces it with a new one rather than
// changing it, so a caller may keep using the one it got.
func (m *Manager) Catalog() *catalog.Catalog {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cat
}

// CatalogProblems lists overlay files that were skipped.
func (m *Manager) CatalogProblems() []catalog.Problem { return m.problems }

// CacheDir is the cache's root folder.
func (m *Manager) CacheDir() string { return m.cache.Root() }

// Cache gives read access to the cache's layout and lists.
func (m *Manager) Cache() *cache.Cache { return m.cache }

// Config is the settings in effect.
func (m *Manager) Config() config.Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg
}

// SetConfig applies new settings at once where possible (parallel
// transfers, bandwidth cap, conversion default) and saves them to the
// settings file. A new cache folder or mirrors take effect at the next
// start; the returned flag says a restart is needed.
func (m *Manager) SetConfig(c config.Config) (restart bool, err error) {
	if err := c.Validate(); err != nil {
		return false, err
	}
	if m.opts.ConfigPath != "" {
		if err := c.Save(m.opts.ConfigPath); err != nil {
			return false, err
		}
	}
	m.mu.Lock()
	old := m.cfg
	m.cfg = c
	m.mu.Unlock()
	m.dl.SetParallel(c.ParallelOrDefault())
	m.dl.SetRateLimit(c.BandwidthBytes())
	if _, rdl, err := m.registryClient(); err == nil {
		rdl.SetParallel(c.ParallelOrDefault())
		rdl.SetRateLimit(c.BandwidthBytes())
	}
	restart = old.CacheDir != c.CacheDir || fmt.Sprint(old.Mirrors) != fmt.Sprint(c.Mirrors)
	return restart, nil
}

// convertByDefault applies the "auto" policy: macOS hypervisors want raw.
func (m *Manager) convertByDefault() bool {
	switch m.Config().Convert {
	case config.ConvertAlways:
		return true
	case config.ConvertNever:
		return false
	}
	return m.opts.GOOS == "darwin"
}

// Subscribe registers fn to be called (from any goroutine) when a job is
// added or ends. It returns a function that unsubscribes.
func (m *Manager) Subscribe(fn func()) (unsubscribe func()) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.subs = append(m.subs, fn)
	i := len(m.subs) - 1
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.subs[i] = nil
	}
}

func (m *Manager) notify() {
	m.mu.Lock()
	subs := append([]func(){}, m.subs...)
	m.mu.Unlock()
	for _, fn := range subs {
		if fn != nil {
			fn()
		}
	}
}

// Jobs lists every job of this Manager, oldest first.
func (m *Manager) Jobs() []*Job {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Job(nil), m.jobs...)
}

// List returns what the cache holds.
func (m *Manager) List(ctx context.Context) ([]cache.Image, error) {
	return m.cache.List(ctx)
}

// Key resolves a ref to its cache key without the network.
func (m *Manager) Key(ref catalog.Ref) (cache.Key, error) {
	_, v, arch, err := m.Catalog().Lookup(ref)
	if err != nil {
		return cache.Key{}, err
	}
	return cache.Key{Distro: strings.ToLower(ref.Distro), Version: strings.ToLower(v.Version), Arch: arch}, nil
}

// Remove deletes a cached image. Its pull, verify or conversion in this
// process is cancelled first. A missing image gives a *NotCachedError.
func (m *Manager) Remove(ctx context.Context, k cache.Key) error {
	m.mu.Lock()
	var jobs []*Job
	for _, j := range []*Job{m.live[k], m.ops[opKey{KindVerify, k}], m.ops[opKey{KindConvert, k}]} {
		if j != nil {
			jobs = append(jobs, j)
		}
	}
	m.mu.Unlock()
	for _, j := range jobs {
		j.Cancel()
	}
	for _, j := range jobs {
		select {
		case <-j.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return notCached(k, m.cache.Remove(ctx, k))
}

// RemoveJob deletes a cached image as a job: PhaseQueued, PhaseRemoving
// (after stopping a pull of it in this process and waiting for its lock),
// then PhaseDone. A second RemoveJob of the same image returns the same job.
func (m *Manager) RemoveJob(ctx context.Context, k cache.Key) *Job {
	return m.startOp(ctx, KindRemove, k, func(ctx context.Context, j *Job) (*PreparedImage, error) {
		j.update(func(s *Snapshot) { s.Phase = PhaseRemoving })
		return nil, m.Remove(ctx, k)
	})
}

// Prune removes images by policy; with dryRun it only reports.
func (m *Manager) Prune(ctx context.Context, p cache.PrunePolicy, dryRun bool) ([]cache.Image, int64, error) {
	if p.Now.IsZero() {
		p.Now = m.now()
	}
	return m.cache.Prune(ctx, p, dryRun)
}

// PruneResult is what a prune did, or with a dry run would do.
type PruneResult struct {
	// Removed lists the images removed (or that would be), Freed their size.
	Removed []cache.Image
	Freed   int64
	// Kept lists images the policy picked but that were left alone because
	// another process or job was using them.
	Kept []cache.Image
}

// PruneImages removes images by policy (with dryRun it only reports) and
// says what it removed and what it kept because it was in use. Images in
// use are not an error; err reports removals that failed, and the result
// still says what was done.
func (m *Manager) PruneImages(ctx context.Context, p cache.PrunePolicy, dryRun bool) (PruneResult, error) {
	removed, freed, err := m.Prune(ctx, p, dryRun)
	res := PruneResult{Removed: removed, Freed: freed}
	var errs []error
	for _, e := range flatten(err) {
		var iu *InUseError
		if errors.As(e, &iu) {
			res.Kept = append(res.Kept, iu.Images...)
			continue
		}
		errs = append(errs, e)
	}
	return res, errors.Join(errs...)
}

// flatten lists the errors an errors.Join holds.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// FreeSpace is the free space on the cache's file system.
func (m *Manager) FreeSpace() (int64, error) { return localfs.FreeSpace(m.cache.Root()) }

// RemoteSize is the size the server gives for url (a HEAD request through
// the Manager's HTTP client: its proxies, certificates and redirect policy);
// -1 when the server does not say.
func (m *Manager) RemoteSize(ctx context.Context, url string) (int64, error) {
	return m.dl.Size(ctx, url)
}
