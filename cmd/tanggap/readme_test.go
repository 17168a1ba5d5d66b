package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// envLiteral matches the names of environment variables in Go source.
var envLiteral = regexp.MustCompile(`"((?:TANGGAP|REDIS|X)_[A-Z0-9_]*)"`)

// Every environment variable the binary reads is in the README's table (or
// its text): an operator looks there, not in the source.
func TestREADMEListsEnvironment(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, pat := range []string{"*.go", "../../notify/*.go", "../../collectors/*.go", "../../collectors/*/*.go"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	seen := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.Contains(f, "fake") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range envLiteral.FindAllSubmatch(b, -1) {
			name := strings.TrimSuffix(string(m[1]), "_FILE")
			seen++
			if !strings.Contains(string(readme), "`"+name) {
				t.Errorf("%s reads %s, which README.md does not list", f, name)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("found %d variables in the source: the pattern no longer matches how they are read", seen)
	}
}
