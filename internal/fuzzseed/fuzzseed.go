// Package fuzzseed reads the seed corpora of fuzz targets from testdata: each target's
// seeds live in testdata/fuzz-seeds/<FuzzName>.txt of its package, so that they are
// reviewed as data and extended without editing the test.
//
// A seed file holds one seed a line: the fuzz function's arguments, each written as a Go
// string literal (strconv.Quote, so any byte string fits) and separated by spaces. Blank
// lines and lines starting with # are ignored. Arguments that are not strings (numbers,
// booleans, byte slices) are written as strings too and converted by the target.
package fuzzseed

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Read returns the seeds of the named target, each with exactly args arguments, from
// testdata/fuzz-seeds/<name>.txt; a missing file or a malformed line fails the test.
func Read(tb testing.TB, name string, args int) [][]string {
	tb.Helper()
	path := filepath.Join("testdata", "fuzz-seeds", name+".txt")
	data, err := os.ReadFile(path) // #nosec G304 -- a file of the test's own package
	if err != nil {
		tb.Fatalf("fuzz seeds: %v", err)
	}
	seeds, err := Parse(string(data), args)
	if err != nil {
		tb.Fatalf("fuzz seeds %s: %v", path, err)
	}
	if len(seeds) == 0 {
		tb.Fatalf("fuzz seeds %s: no seed", path)
	}
	return seeds
}

// Strings adds the seeds of a target whose arguments are all strings.
func Strings(f *testing.F, name string, args int) {
	f.Helper()
	for _, s := range Read(f, name, args) {
		vals := make([]any, len(s))
		for i, v := range s {
			vals[i] = v
		}
		f.Add(vals...)
	}
}

// Parse reads seed lines (see the package comment), each with exactly args arguments.
func Parse(text string, args int) ([][]string, error) {
	var out [][]string
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var seed []string
		for line != "" {
			q, err := strconv.QuotedPrefix(line)
			if err != nil {
				return nil, fmt.Errorf("line %d: argument %d is not a quoted string", n+1, len(seed)+1)
			}
			v, err := strconv.Unquote(q)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n+1, err)
			}
			seed = append(seed, v)
			rest := line[len(q):]
			line = strings.TrimLeft(rest, " \t")
			if line != "" && len(line) == len(rest) {
				return nil, fmt.Errorf("line %d: arguments must be separated by spaces", n+1)
			}
		}
		if len(seed) != args {
			return nil, fmt.Errorf("line %d: %d arguments, want %d", n+1, len(seed), args)
		}
		out = append(out, seed)
	}
	return out, nil
}
