package web

import (
	_ "embed"
	"net/http"
)

// openAPIDoc is the OpenAPI 3.1 document of the JSON API and the Open311
// endpoint. openapi_test.go checks every handler's answers against it.
//
//go:embed openapi.yaml
var openAPIDoc string

// openAPIHandler serves the OpenAPI document. It is public: it describes
// the API and holds no data.
func openAPIHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/yaml")
		w.Header().Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write([]byte(openAPIDoc))
	})
}
