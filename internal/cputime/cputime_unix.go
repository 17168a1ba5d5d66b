//go:build unix

// Package cputime reads the CPU time this process has used, for the
// benchmarks that report it next to wall-clock time (on a shared machine
// wall time also counts other processes' work).
package cputime

import (
	"syscall"
	"time"
)

// Process is the CPU time (user + system) this process has used; 0 when
// the system does not say.
func Process() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
