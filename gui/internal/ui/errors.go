package ui

import (
	"context"
	"errors"
	"net"
	"net/url"
	"strings"

	"vmimages/core"
	"vmimages/core/catalog"
	"vmimages/core/config"
	"vmimages/core/download"
)

// explain turns an error into two sentences for people: what happened and
// what to do. Advice worded for the window (Settings, Retry) wins; then the
// core's own (core.Explain, worded for both fronts); else fallback.
func explain(err error, fallback string) (what, todo string) {
	if err == nil {
		return "", ""
	}
	what, coreTodo, _ := strings.Cut(core.Explain(err), "\n  → ")
	todo = advice(err)
	if todo == "" {
		todo = coreTodo
	}
	if todo == "" {
		todo = fallback
	}
	return sentence(what), sentence(todo)
}

// explainPull explains why a pull failed.
func explainPull(err error) (what, todo string) {
	return explain(err, "Press Retry to try again; what was already downloaded is kept.")
}

// advice is advice worded for the window; "" leaves it to core.Explain.
func advice(err error) string {
	var se *download.StatusError
	var ue *url.Error
	var ne net.Error
	switch {
	case errors.As(err, &se) && (se.Code == 404 || se.Code == 410):
		return "The server does not have this file. If you use a mirror, check its URL in Settings; otherwise the distribution may have withdrawn this build, so try again later."
	case errors.As(err, &se) && (se.Code == 401 || se.Code == 403):
		return "The server refused access. If you use a mirror, check its URL in Settings."
	case errors.As(err, &se) && se.Code >= 500:
		return "The server had a problem. Try again later; Retry continues where the download stopped."
	case errors.Is(err, download.ErrStalled):
		return "The server stopped sending data. Press Retry; the download continues where it stopped."
	case errors.Is(err, download.ErrSizeMismatch):
		return "The server sent a different size than it announced. Try again later or use another mirror."
	case errors.Is(err, catalog.ErrNoBuild):
		return "Upstream publishes no build of this version for this architecture. Choose another version or architecture, or check the mirror in Settings."
	case errors.Is(err, catalog.ErrNotInCatalog):
		return "Choose an entry from the Catalog tab."
	case errors.Is(err, config.ErrInvalid):
		return "Correct the value and save again."
	case errors.Is(err, context.Canceled):
		return "Nothing to do: it was cancelled."
	case errors.As(err, &ue), errors.As(err, &ne):
		return "Check the network connection and any proxy settings, then press Retry; what was already downloaded is kept."
	}
	return ""
}
