//go:build integration

package dashboards

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/tanggap/tanggap/internal/testenv"
)

// grafanaVars stand in for the dashboards' variables so promtool can parse the queries.
var grafanaVars = strings.NewReplacer(
	"$__rate_interval", "5m",
	"$__interval", "1m",
	"$__range", "1h",
	"$platform", ".*",
	"$account", ".*",
	"$opd", ".*",
)

// TestDashboardQueriesParse hands every dashboard query to promtool as a recording rule:
// `promtool check rules` parses each one with Prometheus's own PromQL parser.
func TestDashboardQueriesParse(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if testenv.CI() {
			t.Fatal("CI is set and promtool is missing: install Debian's prometheus package (scripts/services.sh install)")
		}
		t.Skip("promtool not found (Debian package prometheus)")
	}
	files, err := fs.Glob(Files, "grafana/*.json")
	if err != nil {
		t.Fatal(err)
	}
	type rule struct {
		Record string `yaml:"record"`
		Expr   string `yaml:"expr"`
	}
	var rules []rule
	var exprs []string
	for _, file := range files {
		b, err := Files.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		collectExprs(v, func(expr string) {
			exprs = append(exprs, file+": "+expr)
			rules = append(rules, rule{Record: fmt.Sprintf("tanggap:dashboard_query:%d", len(rules)), Expr: grafanaVars.Replace(expr)})
		})
	}
	if len(rules) == 0 {
		t.Fatal("no dashboard queries found")
	}
	doc := map[string]any{"groups": []any{map[string]any{"name": "dashboard-queries", "rules": rules}}}
	b, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "dashboard-queries.yml")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(promtool, "check", "rules", path).CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check rules on %d dashboard queries: %v\n%s\nqueries:\n%s", len(rules), err, out, strings.Join(exprs, "\n"))
	}
	t.Logf("promtool parsed %d dashboard queries", len(rules))
}

// collectExprs calls f with every "expr" string and query-variable definition in a dashboard.
func collectExprs(v any, f func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "expr" && s != "" {
				f(s)
				continue
			}
			collectExprs(x, f)
		}
	case []any:
		for _, x := range v {
			collectExprs(x, f)
		}
	}
}
