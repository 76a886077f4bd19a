// Package discover finds what the upstreams publish now, so that a catalog
// shipped inside a binary does not go stale: new releases, end-of-life dates,
// releases that lost support, and the newest build of each.
//
// Parsing is kept apart from fetching. ParseIndex and ParseUbuntuProducts
// read Ubuntu's simplestreams JSON, ParseFedoraReleases reads Fedora's
// releases.json and VersionsFromListing reads the names of a directory
// listing (catalog.ParseListing); each is a pure function of its input.
// Refresh fetches those documents through a catalog.Fetcher and records what
// it found in a Snapshot, which Save and LoadSnapshot keep on disk between
// runs. Apply lays a Snapshot over a catalog: it adds the releases the
// catalog lacks, modelled on the newest release it has, and marks the ones
// upstream no longer supports, so that "latest" follows upstream without a
// new binary.
package discover
