package cli

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"vmimages/core"
	"vmimages/core/catalog"
	"vmimages/core/config"
	"vmimages/core/download"
	"vmimages/core/trust"
)

func TestExplainSaysWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		err       error
		hint      string
		integrity bool
	}{
		{&download.DigestError{URL: "u"}, "did not match the published checksum", true},
		{&download.RedirectError{From: "https://a/x", To: "http://b/x", Err: download.ErrDowngrade}, "never followed", false},
		{fmt.Errorf("x: %w", download.ErrTooSlow), "too slowly", false},
		{fmt.Errorf("x: %w", trust.ErrBadSignature), "signature could not be verified", true},
		{fmt.Errorf("x: %w", trust.ErrWeakHash), "weak algorithm", true},
		{fmt.Errorf("x: %w", download.ErrInsufficientSpace), "free some space", false},
		{fmt.Errorf("%w: bad", config.ErrInvalid), "settings file", false},
		{fmt.Errorf("x: %w", catalog.ErrNoBuild), "layout may have changed", false},
		{&download.StatusError{URL: "u", Code: 404}, "does not have that file", false},
		{fmt.Errorf("fetch: %w", &net.OpError{Op: "dial", Err: fmt.Errorf("connection refused")}), "check the network", false},
		{fmt.Errorf("%w: http", core.ErrInsecure), "https:// mirror", false},
		{context.Canceled, "", false},
	} {
		got := explain(tc.err)
		if !strings.HasPrefix(got, tc.err.Error()) {
			t.Errorf("Explain(%v) = %q: must start with what happened", tc.err, got)
		}
		if tc.hint == "" && strings.Contains(got, "→") {
			t.Errorf("Explain(%v) = %q: no advice expected", tc.err, got)
		}
		if tc.hint != "" && !strings.Contains(got, "→ ") || !strings.Contains(got, tc.hint) {
			t.Errorf("Explain(%v) = %q, want advice containing %q", tc.err, got, tc.hint)
		}
		if core.IsIntegrity(tc.err) != tc.integrity {
			t.Errorf("IsIntegrity(%v) = %v", tc.err, !tc.integrity)
		}
	}
}
