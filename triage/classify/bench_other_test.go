//go:build !unix

package classify

import "time"

// processCPU is not measured here: the CPU-time metrics read 0.
func processCPU() time.Duration { return 0 }
