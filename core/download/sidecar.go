package download

import (
	"encoding/json"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"strconv"
	"strings"

	"vmimages/core/localfs"
	"vmimages/core/manifest"
)

// sidecar records what a part file holds, so a later run may resume it only
// when that is safe.
type sidecar struct {
	URL       string          `json:"url"`
	Source    string          `json:"source,omitempty"` // URL the bytes came from, after redirects
	Validator string          `json:"validator"`        // ETag, or Last-Modified
	Size      int64           `json:"size"`             // -1 when unknown
	Digest    manifest.Digest `json:"digest"`
}

// readSidecar reads path; a missing or unreadable sidecar is reported as ok
// false, never as an error, because it only means "do not resume".
func readSidecar(path string) (sidecar, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return sidecar{}, false
	}
	var s sidecar
	if err := json.Unmarshal(b, &s); err != nil {
		return sidecar{}, false
	}
	return s, true
}

// writeSidecar replaces path atomically and durably.
func writeSidecar(path string, s sidecar) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return localfs.WriteFile(path, b, 0o644)
}

// removePart deletes a part file and its sidecar; missing files are fine.
func removePart(part, side string) error {
	return errors.Join(removeIfExists(side), removeIfExists(part))
}

func removeIfExists(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// validatorOf picks the validator to send in If-Range: a strong ETag, else
// Last-Modified. A weak ETag must not be used in If-Range (RFC 9110 13.1.5).
func validatorOf(h http.Header) string {
	if etag := h.Get("ETag"); etag != "" && !strings.HasPrefix(etag, "W/") {
		return etag
	}
	return h.Get("Last-Modified")
}

// parseContentRange parses "bytes first-last/total" ("*" total gives -1).
func parseContentRange(s string) (first, last, total int64, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	span, size, found := strings.Cut(rest, "/")
	if !found {
		return 0, 0, 0, false
	}
	a, b, found := strings.Cut(span, "-")
	if !found {
		return 0, 0, 0, false
	}
	var err1, err2, err3 error
	first, err1 = strconv.ParseInt(a, 10, 64)
	last, err2 = strconv.ParseInt(b, 10, 64)
	total = -1
	if size != "*" {
		total, err3 = strconv.ParseInt(size, 10, 64)
	}
	if err1 != nil || err2 != nil || err3 != nil || first < 0 || last < first || (total >= 0 && last >= total) {
		return 0, 0, 0, false
	}
	return first, last, total, true
}
