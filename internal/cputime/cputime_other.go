//go:build !unix

// Package cputime reads the CPU time this process has used, for the
// benchmarks that report it next to wall-clock time.
package cputime

import "time"

// Process is not measured on this platform: always 0.
func Process() time.Duration { return 0 }
