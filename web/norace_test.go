//go:build !race

package web

// slowdown stretches the browser tests' time bounds (see race_test.go).
const slowdown = 1
