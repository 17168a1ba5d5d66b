package dashboards

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"
)

// contract is the metric set the code registers (issue 2 item 7, issue 6 item 5): name, type
// and labels. metrics.txt may list only these, exactly as here.
var contract = map[string]Metric{
	"tanggap_collector_polls_total":                    {Type: "counter", Labels: []string{"platform", "account", "result"}},
	"tanggap_collector_posts_published_total":          {Type: "counter", Labels: []string{"platform", "account"}},
	"tanggap_collector_rate_limit_remaining":           {Type: "gauge", Labels: []string{"platform", "account"}},
	"tanggap_collector_last_success_timestamp_seconds": {Type: "gauge", Labels: []string{"platform", "account"}},
	"tanggap_collector_gaps_total":                     {Type: "counter", Labels: []string{"platform", "account", "reason"}},
	"tanggap_collector_poll_duration_seconds":          {Type: "histogram", Labels: []string{"platform"}},
	"tanggap_bus_produced_total":                       {Type: "counter", Labels: []string{"topic"}},
	"tanggap_bus_produce_errors_total":                 {Type: "counter", Labels: []string{"topic"}},
	"tanggap_bus_topic_kept":                           {Type: "gauge", Labels: []string{"topic"}},
	"tanggap_triage_records_total":                     {Type: "counter", Labels: []string{"result"}},
	"tanggap_triage_latency_seconds":                   {Type: "histogram"},
	"tanggap_triage_consumer_lag":                      {Type: "gauge"},
	"tanggap_triage_dead_letters_total":                {Type: "counter", Labels: []string{"reason"}},
	"tanggap_triage_held_resumed_total":                {Type: "counter", Labels: []string{"result"}},
	"tanggap_workflow_autoclosed_total":                {Type: "counter", Labels: []string{"reason"}},
	"tanggap_workflow_autoclose_errors_total":          {Type: "counter", Labels: []string{"reason"}},
	"tanggap_store_open_items":                         {Type: "gauge", Labels: []string{"opd", "state"}},
	"tanggap_store_up":                                 {Type: "gauge"},
	"tanggap_store_items":                              {Type: "gauge"},
	"tanggap_store_redis_used_memory_bytes":            {Type: "gauge"},
	"tanggap_store_redis_maxmemory_bytes":              {Type: "gauge"},
	"tanggap_store_outbox_events":                      {Type: "gauge"},
	"tanggap_store_outbox_oldest_age_seconds":          {Type: "gauge"},
	"tanggap_store_retention_runs_total":               {Type: "counter", Labels: []string{"result"}},
	"tanggap_store_retention_pruned_total":             {Type: "counter"},
	"tanggap_notify_digests_total":                     {Type: "counter", Labels: []string{"result"}},
	"tanggap_webhook_deliveries_total":                 {Type: "counter", Labels: []string{"endpoint", "result"}},
	"tanggap_webhook_delivery_retries_total":           {Type: "counter", Labels: []string{"endpoint"}},
	"tanggap_webhook_consumer_lag":                     {Type: "gauge"},
	"tanggap_webhook_resume_gaps_total":                {Type: "counter", Labels: []string{"reason"}},
	"tanggap_instagram_mentions_consumer_lag":          {Type: "gauge"},
	"tanggap_instagram_mentions_total":                 {Type: "counter", Labels: []string{"result"}},
	"tanggap_instagram_mentions_dead_letters_total":    {Type: "counter", Labels: []string{"reason"}},
	"tanggap_instagram_mentions_parked_total":          {Type: "counter", Labels: []string{"reason"}},
	"tanggap_instagram_mentions_waiting":               {Type: "gauge"},
	"tanggap_instagram_mentions_queued":                {Type: "gauge"},
	"tanggap_instagram_webhook_requests_total":         {Type: "counter", Labels: []string{"result"}},
	"tanggap_http_requests_total":                      {Type: "counter", Labels: []string{"route", "code"}},
	"tanggap_http_request_duration_seconds":            {Type: "histogram", Labels: []string{"route"}},
	"tanggap_calendar_last_year":                       {Type: "gauge"},
}

// Labels that Prometheus adds to every scraped series and that dashboards and rules may use.
var targetLabels = []string{"instance", "job"}

func metricsByName(t *testing.T) map[string]Metric {
	t.Helper()
	ms, err := Metrics()
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Metric{}
	for _, m := range ms {
		if _, dup := byName[m.Name]; dup {
			t.Errorf("metrics.txt lists %s twice", m.Name)
		}
		byName[m.Name] = m
	}
	return byName
}

func TestMetricListFollowsTheContract(t *testing.T) {
	for name, m := range metricsByName(t) {
		want, ok := contract[name]
		if !ok {
			t.Errorf("metrics.txt: %s is not a metric the code registers", name)
			continue
		}
		want.Name = name
		if diff := cmp.Diff(want, m); diff != "" {
			t.Errorf("metrics.txt: %s (-contract +listed):\n%s", name, diff)
		}
	}
}

func TestDashboardsAndRulesUseExactlyTheListedMetrics(t *testing.T) {
	listed := metricsByName(t)
	used, err := Used()
	if err != nil {
		t.Fatal(err)
	}
	for name, files := range used {
		if _, ok := listed[name]; !ok {
			t.Errorf("%s names %s, which metrics.txt does not list", strings.Join(files, ", "), name)
		}
	}
	for name := range listed {
		if _, ok := used[name]; !ok {
			t.Errorf("metrics.txt lists %s, but no dashboard or rule uses it", name)
		}
	}
}

// selector finds name{matchers} in PromQL.
var (
	selector = regexp.MustCompile(`(tanggap_[a-zA-Z0-9_]+)\{([^}]*)\}`)
	matcher  = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)`)
	grouping = regexp.MustCompile(`\b(?:by|without|on|ignoring)\s*\(([^)]*)\)`)
)

// checkLabels reports label names in selectors and groupings that no listed metric has.
func checkLabels(t *testing.T, where, expr string, listed map[string]Metric) {
	t.Helper()
	hist := map[string]bool{}
	all := map[string]bool{"le": true}
	for _, l := range targetLabels {
		all[l] = true
	}
	for _, m := range listed {
		hist[m.Name] = m.Type == "histogram"
		for _, l := range m.Labels {
			all[l] = true
		}
	}
	for _, sel := range selector.FindAllStringSubmatch(expr, -1) {
		m, ok := listed[HistogramBase(sel[1], hist)]
		if !ok {
			continue // reported by TestDashboardsAndRulesUseExactlyTheListedMetrics
		}
		allowed := append(slices.Clone(m.Labels), targetLabels...)
		if m.Type == "histogram" {
			allowed = append(allowed, "le")
		}
		for _, lm := range matcher.FindAllStringSubmatch(sel[2], -1) {
			if !slices.Contains(allowed, lm[1]) {
				t.Errorf("%s: %s has no label %q: %s", where, sel[1], lm[1], expr)
			}
		}
	}
	for _, g := range grouping.FindAllStringSubmatch(expr, -1) {
		for _, l := range strings.Split(g[1], ",") {
			if l = strings.TrimSpace(l); l != "" && !all[l] {
				t.Errorf("%s: no metric has label %q: %s", where, l, expr)
			}
		}
	}
}

type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    *struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // collapsed rows
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	Datasource *datasource     `json:"datasource"`
}

// wantDatasource is how every panel, target and query variable names its datasource: by the
// uid variable, so the dashboards work with whatever uid a Grafana gives its Prometheus.
var wantDatasource = datasource{Type: "prometheus", UID: "${datasource}"}

func TestGrafanaDashboards(t *testing.T) {
	listed := metricsByName(t)
	files, err := fs.Glob(Files, "grafana/*.json")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"grafana/collectors.json", "grafana/pipeline.json", "grafana/queues.json"}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("dashboards (-want +got):\n%s", diff)
	}
	uids := map[string]string{}
	for _, file := range files {
		t.Run(path.Base(file), func(t *testing.T) {
			b, err := Files.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var d dashboard
			if err := json.Unmarshal(b, &d); err != nil {
				t.Fatalf("%s does not parse: %v", file, err)
			}
			if d.UID == "" || d.Title == "" || d.SchemaVersion == 0 {
				t.Errorf("uid %q, title %q, schemaVersion %d: all are needed", d.UID, d.Title, d.SchemaVersion)
			}
			if other, dup := uids[d.UID]; dup {
				t.Errorf("uid %q is also used by %s", d.UID, other)
			}
			uids[d.UID] = file

			var dsVar bool
			for _, v := range d.Templating.List {
				switch v.Type {
				case "datasource":
					var q string
					_ = json.Unmarshal(v.Query, &q)
					if v.Name == "datasource" && q == "prometheus" {
						dsVar = true
					}
				case "query":
					if v.Datasource == nil || *v.Datasource != wantDatasource {
						t.Errorf("variable %s: datasource %+v, want %+v", v.Name, v.Datasource, wantDatasource)
					}
					checkLabels(t, "variable "+v.Name, v.Definition, listed)
				}
			}
			if !dsVar {
				t.Error(`no datasource variable: want templating {"name": "datasource", "type": "datasource", "query": "prometheus"}`)
			}

			ids := map[int]bool{}
			var walk func([]panel)
			walk = func(ps []panel) {
				for _, p := range ps {
					where := fmt.Sprintf("panel %d %q", p.ID, p.Title)
					if ids[p.ID] || p.ID == 0 {
						t.Errorf("%s: id missing or not unique", where)
					}
					ids[p.ID] = true
					if p.GridPos == nil || p.GridPos.W == 0 || p.GridPos.H == 0 {
						t.Errorf("%s: no gridPos", where)
					}
					if p.Type == "row" {
						walk(p.Panels)
						continue
					}
					if p.Datasource == nil || *p.Datasource != wantDatasource {
						t.Errorf("%s: datasource %+v, want %+v", where, p.Datasource, wantDatasource)
					}
					if len(p.Targets) == 0 {
						t.Errorf("%s: no queries", where)
					}
					for _, q := range p.Targets {
						if q.Datasource == nil || *q.Datasource != wantDatasource {
							t.Errorf("%s query %s: datasource %+v, want %+v", where, q.RefID, q.Datasource, wantDatasource)
						}
						if strings.TrimSpace(q.Expr) == "" {
							t.Errorf("%s query %s: empty expr", where, q.RefID)
						}
						if strings.Count(q.Expr, "(") != strings.Count(q.Expr, ")") ||
							strings.Count(q.Expr, "{") != strings.Count(q.Expr, "}") {
							t.Errorf("%s query %s: unbalanced brackets: %s", where, q.RefID, q.Expr)
						}
						checkLabels(t, where, q.Expr, listed)
					}
				}
			}
			walk(d.Panels)
		})
	}
}

type ruleFile struct {
	Groups []struct {
		Name     string `yaml:"name"`
		Interval string `yaml:"interval"`
		Rules    []struct {
			Record      string            `yaml:"record"`
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

func TestRules(t *testing.T) {
	listed := metricsByName(t)
	files, err := fs.Glob(Files, "rules/*.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no rules/*.yml")
	}
	var alerts []string
	for _, file := range files {
		b, err := Files.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var rf ruleFile
		if err := yaml.UnmarshalWithOptions(b, &rf, yaml.Strict()); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, g := range rf.Groups {
			for _, r := range g.Rules {
				where := fmt.Sprintf("%s group %s rule %s%s", file, g.Name, r.Record, r.Alert)
				if (r.Record == "") == (r.Alert == "") {
					t.Errorf("%s: want exactly one of record and alert", where)
				}
				if strings.TrimSpace(r.Expr) == "" {
					t.Errorf("%s: empty expr", where)
				}
				checkLabels(t, where, r.Expr, listed)
				if r.Record != "" && !strings.HasPrefix(r.Record, "tanggap:") {
					t.Errorf("%s: recording rules are named tanggap:<what>:<operation>", where)
				}
				if r.Alert != "" {
					alerts = append(alerts, r.Alert)
					if s := r.Labels["severity"]; s != "critical" && s != "warning" {
						t.Errorf("%s: severity %q, want critical or warning", where, s)
					}
					if r.Annotations["summary"] == "" || r.Annotations["dashboard"] == "" {
						t.Errorf("%s: summary and dashboard annotations are needed", where)
					}
				}
			}
		}
	}
	sort.Strings(alerts)
	// Each alert the issues ask for (silent, blind, rate budget, lag, dead letters, overdue).
	for _, a := range []string{"TanggapCollectorSilent", "TanggapCollectorBlind", "TanggapRateBudgetExhausted",
		"TanggapConsumerLagHigh", "TanggapDeadLettersGrowing", "TanggapOverdueGrowing"} {
		if _, found := slices.BinarySearch(alerts, a); !found {
			t.Errorf("alert %s is missing", a)
		}
	}
}
