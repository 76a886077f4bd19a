// Package qemuimg runs qemu-img to inspect disk images and convert them to
// raw. Running the tool (Tool.Info, Tool.ConvertToRaw) is kept apart from
// reading its output (ParseInfo), which is tested on captured samples.
//
// Images come from the network, so conversion is defensive: a source that
// refers to other files (a backing file or an external data file), is
// encrypted, or has a format outside qcow2, raw, vpc and vhdx is refused
// before qemu-img converts anything, and the source format is always passed
// explicitly so qemu-img never guesses it. Paths are made absolute so that
// qemu-img reads no file name as an option or a protocol ("nbd:", "json:").
//
// Whether an existing raw disk is still up to date is not decided here: the
// cache records the digest of the disk each raw file was converted from
// (cache.RawMeta.SourceDigest), which is a sounder test than timestamps.
package qemuimg
