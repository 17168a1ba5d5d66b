//go:build !unix

package web

import "time"

// processCPU is not measured on this platform.
func processCPU() time.Duration { return 0 }
