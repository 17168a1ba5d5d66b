//go:build integration

package testenv

// Integration is true in the integration run (go test -tags=integration):
// suites then use the real servers, and fail under CI when they are absent.
const Integration = true
