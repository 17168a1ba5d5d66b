// Package shareddata finds ../shared/data (the project's read-only data
// beside the checkout) for tests and tools. TANGGAP_SHARED_DATA overrides it.
package shareddata

import (
	"errors"
	"os"
	"path/filepath"
)

// Dir returns the shared data directory, looking from the working directory
// up to the module root and then beside it.
func Dir() (string, error) {
	if d := os.Getenv("TANGGAP_SHARED_DATA"); d != "" {
		return d, nil
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			p := filepath.Join(filepath.Dir(d), "shared", "data")
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
			return "", errors.New("shared data not found: expected " + p + " (set TANGGAP_SHARED_DATA)")
		}
		if filepath.Dir(d) == d {
			return "", errors.New("shared data not found: no go.mod above " + wd)
		}
	}
}

// File returns the path of one file in the shared data directory.
func File(name string) (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(d, name)
	if _, err := os.Stat(p); err != nil {
		return "", err
	}
	return p, nil
}
