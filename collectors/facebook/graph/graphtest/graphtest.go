// Package graphtest holds the test helper the Facebook and Instagram
// collector tests share: a server that answers from the real-format Graph
// responses in a package's testdata. It is a package of
// its own, not a _test file, so that both collectors' tests can import it.
package graphtest

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// Token is the access token the fixture server expects, as a bearer
// header and never in the query string.
const Token = "fixture-token"

// FixtureServer answers from the real-format responses in testdata: routes
// maps a path (and its after cursor, "path?after=...") to a file name. A
// file that begins with an "error" object is answered with HTTP 400. Every
// answer carries header (the usage headers).
func FixtureServer(t *testing.T, routes, header map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.URL.Path
		if a := r.URL.Query().Get("after"); a != "" {
			key += "?after=" + a
		}
		name, ok := routes[key]
		if !ok {
			t.Errorf("fixture server: unexpected request %s", key)
			http.Error(w, "no fixture", http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != "Bearer "+Token {
			t.Errorf("fixture server: request without the bearer token")
		}
		if r.URL.Query().Has("access_token") {
			t.Errorf("fixture server: token in the query string")
		}
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		status := http.StatusOK
		if bytes.Contains(b[:min(len(b), 20)], []byte(`"error"`)) {
			status = http.StatusBadRequest
		}
		w.Header().Set("Content-Type", "application/json; charset=UTF-8")
		for k, v := range header {
			w.Header().Set(k, v)
		}
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}))
	t.Cleanup(srv.Close)
	return srv
}
