package config

import (
	"fmt"
	"os"
	"strings"
)

// Secret reads a secret from the environment: NAME itself, or the file named
// by NAME_FILE (Docker and Kubernetes secrets). The value is never logged.
// A missing secret, or a file that is empty or blank, returns "" and no
// error: callers treat it as not configured. A NAME_FILE that cannot be read
// is an error that names the variable, not the value.
func Secret(getenv func(string) string, name string) (string, error) {
	if v := getenv(name); v != "" {
		return v, nil
	}
	path := getenv(name + "_FILE")
	if path == "" {
		return "", nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("secret %s_FILE: %w", name, err)
	}
	return strings.TrimSpace(string(b)), nil
}
