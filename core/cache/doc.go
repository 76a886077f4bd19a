// Package cache owns the on-disk layout of the image cache and is the only
// package that knows it.
//
// The cache lives under a root directory that the caller chooses (DefaultRoot
// gives the XDG location; flags, environment and configuration are the
// caller's business). Open creates nothing; the first change makes the root.
// Its layout is
//
//	<root>/CACHEDIR.TAG
//	<root>/images/<distro>/<version>/<arch>/
//	    meta.json        Meta: the committed build, naming its files; the switch
//	    vmlinuz, initramfs, disk.qcow2 or disk.img, disk.raw
//	                     the files meta.json names (build-suffixed, "disk-2.qcow2",
//	                     only while a switch is under way)
//	    .partial/        a transaction's files: <file>.part and <file>.part.json
//	                     (transfers, kept for resume), <file> (verified downloads
//	                     waiting for Commit), disk.raw.tmp (a conversion)
//	    .lock            inter-process lock, held by a transaction
//	    .meta.lock       guards meta.json updates
//
// Every change to an image is a transaction (Begin, then PartFile and Stage,
// RawTemp and StageRaw, Keep and KeepRaw, then Commit or Abort): files are
// written in .partial, the committed build stays intact and listed ready
// until Commit, and Commit switches builds by writing meta.json last. Abort
// keeps what a later pull can resume from and, for an image that has no
// committed build, leaves no folder behind.
//
// One image is identified by a Key. Key components are restricted to a small
// lower-case alphabet so that no catalog entry, manifest or user input can
// name a path outside the cache.
//
// Several processes (the GUI, the tray and any number of CLI runs) share one
// cache: the image lock (Begin, Lock) is an advisory, inter-process lock on
// an image directory, which a transaction holds while it writes and which
// Remove and Prune take before deleting. Readers (List, ReadMeta, Verify)
// take no lock: files are only ever put in place by rename, so a reader sees
// a whole file or none.
//
// The cache never follows a symbolic link out of itself: an image whose path
// below the root passes through a symbolic link, or whose lock file or
// .partial is one, is refused (ErrUnsafePath).
package cache
