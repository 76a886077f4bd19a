// Package download owns the transfer of large files (VM images of hundreds of
// MB) from HTTP servers to local paths: resumable, concurrent, rate limited
// and verified against a strong digest while the bytes arrive.
//
// Transfers run on github.com/cavaliergopher/grab/v3, driven so that grab's
// known traps cannot corrupt a file:
//
//   - Bytes go to a part file, Dest's directory/.partial/<name>.part, next to a
//     small JSON sidecar (<name>.part.json) holding the URL, the server's
//     validator (ETag or Last-Modified), the size and the digest. Dest is
//     replaced by a rename only after the digest matched, so an earlier good
//     copy is never touched by wrong bytes.
//   - A part file is resumed only when its sidecar names the same URL and
//     digest and carries a validator. The sidecar also records the URL the
//     bytes came from after redirects, and the resume asks that server — the
//     one whose validator it holds — not the redirector, which may pick
//     another mirror. The resumed request carries If-Range, and a BeforeCopy
//     hook refuses to append anything but a 206 from that URL whose
//     Content-Range starts exactly at the local size; otherwise the part is
//     dropped and the attempt restarts from zero. A file changed upstream is
//     never spliced onto old bytes.
//   - A file assembled from a kept part that fails its digest (the part may
//     have been damaged on disk) is downloaded once more from zero; only if
//     that clean copy is wrong too is a *DigestError returned.
//   - Redirects follow a transport policy (see redirect.go): never from
//     https to plain http unless Request.AllowDowngrade, each hop judged by
//     the context's URLPolicy, and Result.FinalURL says where the bytes
//     came from.
//   - The digest is computed from the response body as grab reads it (the
//     HTTP client handed to grab tees each body into a hashing goroutine), so
//     verification costs no second read of the file; on resume the part's
//     prefix is hashed from disk first.
//   - Connection errors, 408, 429 and 5xx are retried with backoff; an attempt
//     that receives no bytes for Options.StallTimeout is cancelled and
//     retried. A small document (FetchSmall) must arrive whole within
//     Options.SmallTimeout, retries included, or fails with ErrTooSlow. Other 4xx fail at once with a *StatusError; a wrong digest fails
//     at once with a *DigestError.
//   - A Client limits how many transfers run at once and how many bytes per
//     second they take together; both limits can change at run time. Two
//     Fetch calls for one destination share one transfer.
//
// Cancelling the context passed to Fetch stops the transfer at once and keeps
// the part file and its sidecar for a later resume. Locking between processes
// is not done here: the cache package holds a lock per image directory.
package download
