// Package dashboards holds Tanggap's Grafana dashboards (grafana/*.json) and
// Prometheus recording and alerting rules (rules/*.yml, with promtool unit
// tests in rules/tests), and the list of metrics they name (metrics.txt).
//
// CI checks the rules with promtool (scripts/integration.sh); the tests here
// check that the files parse, that dashboards name their datasource through
// the ${datasource} variable, and that they use only the metrics in
// metrics.txt. Metrics and Used let a test elsewhere prove that every listed
// metric is registered by the code.
package dashboards

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
)

// Files holds the dashboards, the rules and the metric list.
//
//go:embed grafana/*.json rules/*.yml metrics.txt
var Files embed.FS

// Metric is one line of metrics.txt.
type Metric struct {
	Name   string
	Type   string   // counter, gauge or histogram
	Labels []string // without le for histograms
}

// Metrics returns the metrics the dashboards and rules may use, as listed in metrics.txt.
func Metrics() ([]Metric, error) {
	b, err := Files.ReadFile("metrics.txt")
	if err != nil {
		return nil, err
	}
	var ms []Metric
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, fmt.Errorf("metrics.txt:%d: want \"name type labels\", got %q", n, line)
		}
		switch f[1] {
		case "counter", "gauge", "histogram":
		default:
			return nil, fmt.Errorf("metrics.txt:%d: unknown type %q", n, f[1])
		}
		m := Metric{Name: f[0], Type: f[1]}
		if f[2] != "-" {
			m.Labels = strings.Split(f[2], ",")
		}
		ms = append(ms, m)
	}
	return ms, sc.Err()
}

// metricRef finds metric names: tanggap_ not preceded by a name character or
// a colon (recording rules are named tanggap:...).
var metricRef = regexp.MustCompile(`(?:^|[^a-zA-Z0-9_:])(tanggap_[a-zA-Z0-9_]+)`)

// Used returns every tanggap_ metric name that appears in the dashboards and
// rules, mapped to the files that name it. Histogram series (_bucket, _sum,
// _count) are reported under their base name when metrics.txt lists it as a
// histogram; any other name is reported as it is written.
func Used() (map[string][]string, error) {
	ms, err := Metrics()
	if err != nil {
		return nil, err
	}
	hist := map[string]bool{}
	for _, m := range ms {
		if m.Type == "histogram" {
			hist[m.Name] = true
		}
	}
	used := map[string][]string{}
	err = fs.WalkDir(Files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "metrics.txt" {
			return err
		}
		b, err := Files.ReadFile(path)
		if err != nil {
			return err
		}
		seen := map[string]bool{}
		for _, m := range metricRef.FindAllSubmatch(b, -1) {
			name := HistogramBase(string(m[1]), hist)
			if !seen[name] {
				seen[name] = true
				used[name] = append(used[name], path)
			}
		}
		return nil
	})
	for _, files := range used {
		sort.Strings(files)
	}
	return used, err
}

// HistogramBase maps name_bucket, name_sum and name_count to name when name is
// one of the histograms; other names are returned unchanged.
func HistogramBase(name string, histograms map[string]bool) string {
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok && histograms[base] {
			return base
		}
	}
	return name
}
