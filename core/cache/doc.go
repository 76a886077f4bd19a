// Package cache owns the on-disk layout of the image cache and is the only
// package that knows it.
//
// The cache lives under a root directory that the caller chooses (DefaultRoot
// gives the XDG location; flags, environment and configuration are the
// caller's business). Its layout is
//
//	<root>/CACHEDIR.TAG
//	<root>/images/<distro>/<version>/<arch>/
//	    vmlinuz, initramfs, disk.qcow2 or disk.img, disk.raw   assets, stable names
//	    meta.json                                               Meta, written atomically
//	    .partial/                                               transfers in flight
//	    .lock                                                   inter-process lock
//	    .meta.lock                                              guards meta.json updates
//
// One image is identified by a Key. Key components are restricted to a small
// lower-case alphabet so that no catalog entry, manifest or user input can
// name a path outside the cache.
//
// Several processes (the GUI, the tray and any number of CLI runs) share one
// cache: Lock takes an advisory, inter-process lock on an image directory,
// which a pull holds while it writes and which Remove and Prune take before
// deleting. Readers (List, ReadMeta, Verify) take no lock: files are only ever
// put in place by rename, so a reader sees a whole file or none.
//
// The cache never follows a symbolic link out of itself when it deletes: an
// image whose path below the root passes through a symbolic link is refused.
package cache
