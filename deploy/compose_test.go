package deploy_test

// No Docker engine runs in CI, so docker-compose.yml is checked here instead: the services
// exist, Kafka runs in KRaft mode, Redis with AOF everysec, every Tanggap service gets the
// environment its subcommand reads, secrets come from files, Prometheus loads the rules and
// scrapes every service, Grafana is provisioned with the dashboards.

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
)

const root = ".." // tests run in deploy/

type compose struct {
	Services map[string]service `yaml:"services"`
	Secrets  map[string]struct {
		File        string `yaml:"file"`
		Environment string `yaml:"environment"`
	} `yaml:"secrets"`
	Volumes map[string]any `yaml:"volumes"`
}

type service struct {
	Image       string            `yaml:"image"`
	Build       *build            `yaml:"build"`
	Command     any               `yaml:"command"` // list or string
	Entrypoint  any               `yaml:"entrypoint"`
	Environment map[string]string `yaml:"environment"`
	Secrets     []string          `yaml:"secrets"`
	Volumes     []string          `yaml:"volumes"`
	Ports       []string          `yaml:"ports"`
	DependsOn   any               `yaml:"depends_on"` // list or map
	Healthcheck *struct {
		Test any `yaml:"test"`
	} `yaml:"healthcheck"`
}

type build struct {
	Context    string `yaml:"context"`
	Dockerfile string `yaml:"dockerfile"`
}

func (s service) command() []string {
	switch c := s.Command.(type) {
	case string:
		return strings.Fields(c)
	case []any:
		out := make([]string, len(c))
		for i, x := range c {
			out[i] = fmt.Sprint(x)
		}
		return out
	}
	return nil
}

func (s service) dependsOn() []string {
	var out []string
	switch d := s.DependsOn.(type) {
	case []any:
		for _, x := range d {
			out = append(out, fmt.Sprint(x))
		}
	case map[string]any:
		for k := range d {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// mount is one short-syntax volume: source:target[:mode].
type mount struct{ source, target, mode string }

func (s service) mounts() []mount {
	var out []mount
	for _, v := range s.Volumes {
		p := strings.Split(v, ":")
		m := mount{source: p[0]}
		if len(p) > 1 {
			m.target = p[1]
		}
		if len(p) > 2 {
			m.mode = p[2]
		}
		out = append(out, m)
	}
	return out
}

func (s service) mountAt(target string) (mount, bool) {
	for _, m := range s.mounts() {
		if m.target == target {
			return m, true
		}
	}
	return mount{}, false
}

func load(t *testing.T) compose {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var c compose
	if err := yaml.Unmarshal(b, &c); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	return c
}

func svc(t *testing.T, c compose, name string) service {
	t.Helper()
	s, ok := c.Services[name]
	if !ok {
		t.Fatalf("docker-compose.yml has no service %q", name)
	}
	return s
}

func TestServicesExist(t *testing.T) {
	c := load(t)
	for _, name := range []string{"kafka", "redis", "prometheus", "grafana", "collect", "triage", "serve"} {
		if _, ok := c.Services[name]; !ok {
			t.Errorf("service %q is missing", name)
		}
	}
}

func TestKafkaIsKRaftSingleNode(t *testing.T) {
	c := load(t)
	for name, s := range c.Services {
		if strings.Contains(strings.ToLower(name+" "+s.Image), "zookeeper") {
			t.Errorf("service %s: no ZooKeeper, Kafka runs in KRaft mode", name)
		}
		for k := range s.Environment {
			if strings.Contains(k, "ZOOKEEPER") {
				t.Errorf("service %s sets %s: no ZooKeeper, Kafka runs in KRaft mode", name, k)
			}
		}
	}
	k := svc(t, c, "kafka")
	if !strings.HasPrefix(k.Image, "apache/kafka:") {
		t.Errorf("kafka image %q, want apache/kafka:<version>", k.Image)
	}
	env := k.Environment
	roles := strings.Split(env["KAFKA_PROCESS_ROLES"], ",")
	slices.Sort(roles)
	if !slices.Equal(roles, []string{"broker", "controller"}) {
		t.Errorf("KAFKA_PROCESS_ROLES = %q, want broker,controller (combined KRaft node)", env["KAFKA_PROCESS_ROLES"])
	}
	if env["KAFKA_NODE_ID"] == "" || env["CLUSTER_ID"] == "" {
		t.Error("KAFKA_NODE_ID and CLUSTER_ID are needed for KRaft")
	}
	if !strings.HasPrefix(env["KAFKA_CONTROLLER_QUORUM_VOTERS"], env["KAFKA_NODE_ID"]+"@kafka:") {
		t.Errorf("KAFKA_CONTROLLER_QUORUM_VOTERS = %q, want %s@kafka:PORT", env["KAFKA_CONTROLLER_QUORUM_VOTERS"], env["KAFKA_NODE_ID"])
	}
	for _, key := range []string{"KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"} {
		if env[key] != "1" {
			t.Errorf("%s = %q, want 1 on a single node", key, env[key])
		}
	}
	if !strings.Contains(env["KAFKA_ADVERTISED_LISTENERS"], "PLAINTEXT://kafka:9092") {
		t.Errorf("KAFKA_ADVERTISED_LISTENERS = %q: the services reach the broker at kafka:9092", env["KAFKA_ADVERTISED_LISTENERS"])
	}
	if m, ok := k.mountAt(env["KAFKA_LOG_DIRS"]); !ok || !isNamedVolume(c, m.source) {
		t.Errorf("kafka: KAFKA_LOG_DIRS %q must be on a named volume", env["KAFKA_LOG_DIRS"])
	}
	if k.Healthcheck == nil {
		t.Error("kafka: a healthcheck is needed for depends_on: service_healthy")
	}
}

func isNamedVolume(c compose, source string) bool {
	_, ok := c.Volumes[source]
	return ok
}

func TestRedisAOFEverysec(t *testing.T) {
	c := load(t)
	r := svc(t, c, "redis")
	cmd := strings.Join(r.command(), " ")
	for _, want := range []string{"redis-server", "--appendonly yes", "--appendfsync everysec", "--dir /data",
		"--maxmemory ${TANGGAP_REDIS_MAXMEMORY:-2gb} --maxmemory-policy noeviction"} {
		if !strings.Contains(cmd, want) {
			t.Errorf("redis command %q lacks %q", cmd, want)
		}
	}
	if m, ok := r.mountAt("/data"); !ok || !isNamedVolume(c, m.source) {
		t.Error("redis: /data (the AOF) must be on a named volume")
	}
	if r.Healthcheck == nil {
		t.Error("redis: a healthcheck is needed for depends_on: service_healthy")
	}
}

// needs lists the environment each subcommand reads (cmd/tanggap, collectors/*).
var needs = map[string][]string{
	"collect": {"TANGGAP_KAFKA_BROKERS", "REDIS_ADDR", "TANGGAP_CONFIG", "TANGGAP_METRICS_ADDR",
		"TANGGAP_X_BEARER_TOKEN_FILE", "TANGGAP_INSTAGRAM_TOKEN_FILE", "TANGGAP_FACEBOOK_TOKEN_FILE", "TANGGAP_YOUTUBE_API_KEY_FILE",
		"TANGGAP_WEBHOOK_ADDR", "TANGGAP_INSTAGRAM_APP_SECRET_FILE", "TANGGAP_INSTAGRAM_VERIFY_TOKEN_FILE"},
	"triage": {"TANGGAP_KAFKA_BROKERS", "REDIS_ADDR", "TANGGAP_CONFIG", "TANGGAP_METRICS_ADDR"},
	"serve":  {"REDIS_ADDR", "TANGGAP_CONFIG", "TANGGAP_ADDR", "TANGGAP_SECURE_COOKIES", "TANGGAP_TRUSTED_PROXIES"},
}

func TestTanggapServices(t *testing.T) {
	c := load(t)
	var image string
	for name, env := range needs {
		s := svc(t, c, name)
		if s.Build == nil || s.Build.Dockerfile != "deploy/Dockerfile" || filepath.Clean(s.Build.Context) != "." {
			t.Errorf("%s: build %+v, want context . and dockerfile deploy/Dockerfile", name, s.Build)
		}
		if image == "" {
			image = s.Image
		}
		if s.Image == "" || s.Image != image {
			t.Errorf("%s: image %q: the three services share one image (%q)", name, s.Image, image)
		}
		if cmd := s.command(); len(cmd) == 0 || cmd[0] != name {
			t.Errorf("%s: command %v, want [%s ...] (the image's entrypoint is tanggap)", name, cmd, name)
		}
		for _, key := range env {
			if s.Environment[key] == "" {
				t.Errorf("%s: environment %s is not set", name, key)
			}
		}
		if got := s.Environment["TANGGAP_KAFKA_BROKERS"]; got != "kafka:9092" {
			t.Errorf("%s: TANGGAP_KAFKA_BROKERS = %q, want kafka:9092", name, got)
		}
		if got := s.Environment["REDIS_ADDR"]; got != "redis:6379" {
			t.Errorf("%s: REDIS_ADDR = %q, want redis:6379", name, got)
		}
		if cfg := s.Environment["TANGGAP_CONFIG"]; cfg != "" {
			if _, ok := s.mountAt(cfg); !ok {
				t.Errorf("%s: TANGGAP_CONFIG %s is not mounted", name, cfg)
			}
		}
		deps := s.dependsOn()
		for _, d := range []string{"kafka", "redis"} {
			if !slices.Contains(deps, d) {
				t.Errorf("%s: depends_on %v lacks %s", name, deps, d)
			}
		}
	}
}

// secretish matches variable names that hold credentials.
var secretish = regexp.MustCompile(`TOKEN|SECRET|PASSWORD|API_KEY|SESSION_KEY|ACCESS_KEY`)

func TestSecretsComeFromFiles(t *testing.T) {
	c := load(t)
	for name, s := range c.Services {
		for key, val := range s.Environment {
			isFile := strings.HasSuffix(key, "_FILE") || strings.HasSuffix(key, "__FILE") // Grafana's __FILE
			if secretish.MatchString(key) && !isFile {
				t.Errorf("%s: %s is set inline; secrets come from files (%s_FILE)", name, key, key)
			}
			if !isFile || !secretish.MatchString(key) {
				continue
			}
			secret, ok := strings.CutPrefix(val, "/run/secrets/")
			if !ok {
				t.Errorf("%s: %s = %q, want /run/secrets/NAME", name, key, val)
				continue
			}
			if !slices.Contains(s.Secrets, secret) {
				t.Errorf("%s: %s names secret %q, which the service does not list under secrets", name, key, secret)
			}
			def, ok := c.Secrets[secret]
			if !ok || def.File == "" {
				t.Errorf("secret %q is not defined with file: at the top level", secret)
			} else if !strings.HasPrefix(filepath.Clean(def.File), "deploy/secrets/") {
				t.Errorf("secret %q file %q: keep secret files in deploy/secrets (git-ignored)", secret, def.File)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(root, "deploy/secrets/.gitignore"))
	if err != nil || !strings.Contains(string(b), "*") {
		t.Errorf("deploy/secrets/.gitignore must ignore the secret files (%v)", err)
	}
}

func TestPublishedPortsOnLoopbackOnly(t *testing.T) {
	c := load(t)
	for name, s := range c.Services {
		for _, p := range s.Ports {
			host, _, ok := strings.Cut(p, ":")
			if !ok || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
				t.Errorf("%s: port %q must be published on 127.0.0.1 only (127.0.0.1:HOST:CONTAINER)", name, p)
			}
		}
	}
}

func TestBindMountSourcesExist(t *testing.T) {
	c := load(t)
	for name, s := range c.Services {
		for _, m := range s.mounts() {
			if !strings.HasPrefix(m.source, ".") && !strings.HasPrefix(m.source, "/") {
				continue // named volume
			}
			if _, err := os.Stat(filepath.Join(root, m.source)); err != nil {
				t.Errorf("%s: bind mount source %s: %v", name, m.source, err)
			}
			if m.mode != "ro" {
				t.Errorf("%s: bind mount %s should be read-only (:ro)", name, m.source)
			}
		}
	}
}

type promConfig struct {
	RuleFiles     []string `yaml:"rule_files"`
	ScrapeConfigs []struct {
		JobName       string `yaml:"job_name"`
		StaticConfigs []struct {
			Targets []string `yaml:"targets"`
		} `yaml:"static_configs"`
	} `yaml:"scrape_configs"`
}

func TestPrometheusLoadsRulesAndScrapesEveryService(t *testing.T) {
	c := load(t)
	p := svc(t, c, "prometheus")
	cfgMount, ok := p.mountAt("/etc/prometheus/prometheus.yml")
	if !ok || filepath.Clean(cfgMount.source) != "deploy/prometheus.yml" {
		t.Fatalf("prometheus must mount deploy/prometheus.yml at /etc/prometheus/prometheus.yml, mounts %v", p.Volumes)
	}
	b, err := os.ReadFile(filepath.Join(root, "deploy/prometheus.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var pc promConfig
	if err := yaml.Unmarshal(b, &pc); err != nil {
		t.Fatalf("deploy/prometheus.yml: %v", err)
	}

	// The rules: a rule_files glob inside a mount of dashboards/rules that matches its files.
	var loaded []string
	for _, glob := range pc.RuleFiles {
		for _, m := range p.mounts() {
			rel, err := filepath.Rel(m.target, glob)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			matches, _ := filepath.Glob(filepath.Join(root, m.source, rel))
			for _, f := range matches {
				loaded = append(loaded, filepath.ToSlash(filepath.Clean(strings.TrimPrefix(f, root+"/"))))
			}
		}
	}
	want, _ := filepath.Glob(filepath.Join(root, "dashboards/rules/*.yml"))
	if len(want) == 0 {
		t.Fatal("no dashboards/rules/*.yml")
	}
	for _, f := range want {
		f = filepath.ToSlash(strings.TrimPrefix(f, root+"/"))
		if !slices.Contains(loaded, f) {
			t.Errorf("Prometheus does not load %s (rule_files %v, mounts %v)", f, pc.RuleFiles, p.Volumes)
		}
	}

	// The scrape targets: each Tanggap service at the port it listens on.
	targets := map[string]bool{}
	for _, sc := range pc.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, tg := range st.Targets {
				targets[tg] = true
			}
		}
	}
	for name, key := range map[string]string{"collect": "TANGGAP_METRICS_ADDR", "triage": "TANGGAP_METRICS_ADDR", "serve": "TANGGAP_ADDR"} {
		addr := svc(t, c, name).Environment[key]
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Errorf("%s: %s = %q: %v", name, key, addr, err)
			continue
		}
		if !targets[name+":"+port] {
			t.Errorf("deploy/prometheus.yml does not scrape %s:%s (%s listens on %s)", name, port, name, addr)
		}
	}
}

type grafanaDatasources struct {
	Datasources []struct {
		Name, Type, URL, UID string
		IsDefault            bool `yaml:"isDefault"`
	} `yaml:"datasources"`
}

type grafanaProviders struct {
	Providers []struct {
		Name    string `yaml:"name"`
		Type    string `yaml:"type"`
		Options struct {
			Path string `yaml:"path"`
		} `yaml:"options"`
	} `yaml:"providers"`
}

func TestGrafanaProvisioned(t *testing.T) {
	c := load(t)
	g := svc(t, c, "grafana")
	prov, ok := g.mountAt("/etc/grafana/provisioning")
	if !ok {
		t.Fatalf("grafana must mount its provisioning at /etc/grafana/provisioning, mounts %v", g.Volumes)
	}
	dsFiles, _ := filepath.Glob(filepath.Join(root, prov.source, "datasources/*.yml"))
	var promDS bool
	for _, f := range dsFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ds grafanaDatasources
		if err := yaml.Unmarshal(b, &ds); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, d := range ds.Datasources {
			if d.Type == "prometheus" && d.URL == "http://prometheus:9090" && d.IsDefault {
				promDS = true
			}
		}
	}
	if !promDS {
		t.Error("no default Prometheus datasource at http://prometheus:9090 in the provisioning")
	}

	provFiles, _ := filepath.Glob(filepath.Join(root, prov.source, "dashboards/*.yml"))
	var dashPath string
	for _, f := range provFiles {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var p grafanaProviders
		if err := yaml.Unmarshal(b, &p); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, pr := range p.Providers {
			if pr.Type == "file" {
				dashPath = pr.Options.Path
			}
		}
	}
	if dashPath == "" {
		t.Fatal("no file dashboard provider in the provisioning")
	}
	m, ok := g.mountAt(dashPath)
	if !ok || filepath.Clean(m.source) != "dashboards/grafana" {
		t.Fatalf("grafana must mount dashboards/grafana at the provider's path %s, mounts %v", dashPath, g.Volumes)
	}
	for _, name := range []string{"pipeline.json", "collectors.json", "queues.json"} {
		if _, err := os.Stat(filepath.Join(root, "dashboards/grafana", name)); err != nil {
			t.Errorf("dashboard %s: %v", name, err)
		}
	}
	if home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" && !strings.HasPrefix(home, dashPath+"/") {
		t.Errorf("GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH %s is outside the mounted dashboards %s", home, dashPath)
	}
}

func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "deploy/Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var froms []string
	var build, entry bool
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && strings.EqualFold(f[0], "FROM") {
			froms = append(froms, f[1])
		}
		if strings.Contains(line, "go build") && strings.Contains(line, "./cmd/tanggap") {
			build = true
		}
		if strings.HasPrefix(line, "ENTRYPOINT") && strings.Contains(line, "tanggap") {
			entry = true
		}
	}
	// The image is built with the toolchain CI tests and govulncheck checks.
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	var toolchain string
	for _, line := range strings.Split(string(mod), "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == "toolchain" {
			toolchain = strings.TrimPrefix(f[1], "go")
		}
	}
	if toolchain == "" {
		t.Error("go.mod names no release toolchain")
	}
	if len(froms) < 2 || froms[0] != "golang:"+toolchain {
		t.Errorf("stages %v: want a multi-stage build from golang:%s (go.mod's toolchain)", froms, toolchain)
	}
	if last := froms[len(froms)-1]; !strings.Contains(last, "distroless") && !strings.Contains(last, "debian") {
		t.Errorf("final stage %s: want distroless or debian-slim", last)
	}
	if !build || !entry {
		t.Errorf("the Dockerfile must go build ./cmd/tanggap (%v) and use tanggap as ENTRYPOINT (%v)", build, entry)
	}
}
