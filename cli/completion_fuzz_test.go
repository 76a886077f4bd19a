package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"vmimages/core"
)

// FuzzComplete feeds the completion word reader arbitrary command lines
// (NUL-separated words): it must never panic nor print to stderr, and every
// line it prints starts with the current word, or is a ":file"/":dir" hint.
func FuzzComplete(f *testing.F) {
	for _, seed := range []string{
		"", "pu", "pull\x00", "pull\x00deb", "pull\x00debian\x00", "pull\x00--arch\x00", "--arch=x\x00pull\x00de",
		"--mirror\x00deb", "--cache-dir\x00", "help\x00p", "rm\x00debian\x00", "--\x00x", "-\x00-", "pull\x00-q\x00--json\x00ub",
		"clone\x00a\x00b\x00", "completion\x00z", "--=\x00", "nosuch\x00",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		words := strings.Split(line, "\x00")
		var out, errb bytes.Buffer
		r := &runner{env: Env{Stdout: &out, Stderr: &errb}}
		r.open = func(context.Context) (*core.Manager, error) { return nil, errors.New("no catalog in this test") }
		if err := r.dispatch(context.Background(), append([]string{completeCommand}, words...)); err != nil {
			t.Fatalf("__complete %q: %v", words, err)
		}
		if errb.Len() != 0 {
			t.Fatalf("__complete %q wrote to stderr: %q", words, errb.String())
		}
		cur := words[len(words)-1]
		for _, l := range strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n") {
			if l != "" && !strings.HasPrefix(l, cur) && !strings.HasPrefix(l, ":") {
				t.Fatalf("__complete %q printed %q, which does not complete %q", words, l, cur)
			}
		}
	})
}
