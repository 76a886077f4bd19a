package core

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestLayering keeps the architecture honest: nothing under core/ imports a
// UI toolkit or a front, so both fronts (and other programs) can use it.
func TestLayering(t *testing.T) {
	forbidden := []string{"fyne.io/", "vmimages/cli", "vmimages/gui", "github.com/schollz/progressbar"}
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			for _, bad := range forbidden {
				if strings.HasPrefix(p, bad) {
					t.Errorf("%s imports %s: core must not depend on a front or a UI toolkit", path, p)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("only %d files checked; the walk is broken", checked)
	}
}

// TestCoreWordsNoFrontAdvice: core returns typed errors and each front
// words its own advice, so no string in core tells a person to run a
// command or use a command-line flag (the window would show it verbatim).
func TestCoreWordsNoFrontAdvice(t *testing.T) {
	bad := regexp.MustCompile(`(?i)(run '?vmimages|'vmimages [a-z]|\(vmimages [a-z]|(^|[\s(])--(cache-dir|mirror|config|arch|raw|update|json|keep|older-than|max-size|dry-run|check|refresh)\b|[\s(]VMIMAGES_[A-Z])`)
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && bad.MatchString(s) && !strings.HasPrefix(s, "VMIMAGES_") {
				t.Errorf("%s: core words advice for one front: %q", fset.Position(lit.Pos()), s)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 20 {
		t.Fatalf("only %d files checked; the walk is broken", checked)
	}
}
