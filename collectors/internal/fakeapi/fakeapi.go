// Package fakeapi is what the fake platform APIs (graphfake, xv2fake,
// youtubefake) do alike with the faults tests inject into them: which
// requests a fault hits, how many times, and holding the answer. Each fake
// keeps its own Fault type, since the error it answers with is the
// platform's own.
package fakeapi

import (
	"net/http"
	"strings"
	"time"
)

// Scope gives a fault's path filter (a substring of the request path; ""
// hits every request) and its remaining uses (negative: forever).
type Scope[F any] func(f *F) (path string, times *int)

// Add appends f to faults, where it matches after those added before; 0
// uses means one.
func Add[F any](faults []*F, f F, scope Scope[F]) []*F {
	if _, times := scope(&f); *times == 0 {
		*times = 1
	}
	return append(faults, &f)
}

// Take returns a copy of the first fault of *faults that hits path, or nil,
// and spends one of its uses (a spent fault leaves the list).
func Take[F any](faults *[]*F, path string, scope Scope[F]) *F {
	for i, f := range *faults {
		p, times := scope(f)
		if p != "" && !strings.Contains(path, p) {
			continue
		}
		c := *f
		if *times > 0 {
			*times--
			if *times == 0 {
				*faults = append((*faults)[:i:i], (*faults)[i+1:]...)
			}
		}
		return &c
	}
	return nil
}

// Stall holds the answer to r for d; false when the client gave up first.
func Stall(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
