// Package core is the one API both fronts use: open a Manager with the
// user's settings, ask it what the catalog holds, resolve an image, pull it
// (a Job with progress snapshots, pause, resume and cancel), and list,
// verify, convert, remove or prune what the cache holds. Verify, convert
// and remove also run as jobs (VerifyJob, ConvertJob, RemoveJob) with the
// same snapshots, so both fronts show their progress the same way. A job's
// life is a state machine (Phase.CanMoveTo). The core returns typed errors
// (NotCachedError, SpaceError, InUseError and the Err… sentinels) and words
// no advice: each front says what to do in its own terms. It never imports a
// UI toolkit; the command line and the window are thin layers over it.
//
// A program that needs "kernel + initramfs + disk for distro D, version V,
// arch A" can import it directly:
//
//	m, err := core.Open(ctx, core.Options{})
//	if err != nil { … }
//	defer m.Close()
//	job := m.Pull(ctx, catalog.Ref{Distro: "ubuntu", Version: "24.04"}, core.PullOptions{})
//	img, err := job.Wait(ctx)
//	if err != nil { … }
//	fmt.Println(img.Kernel, img.Initramfs, img.Disk)
package core
