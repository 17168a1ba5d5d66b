package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/google/go-cmp/cmp"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors/x"
	"github.com/tanggap/tanggap/config"
)

func TestProductionPollers(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string // platform and poller type
	}{
		{"none", nil, nil},
		{"every platform", map[string]string{
			"TANGGAP_INSTAGRAM_TOKEN": "ig", "TANGGAP_FACEBOOK_TOKEN": "fb", "TANGGAP_X_BEARER_TOKEN": "x2", "TANGGAP_YOUTUBE_API_KEY": "yt",
		}, []string{"instagram *instagram.Poller", "facebook *facebook.Poller", "youtube *youtube.Poller", "x *xv2.Poller"}},
		{"one account's token", map[string]string{"TANGGAP_INSTAGRAM_TOKEN_HUMASKOTABEKASI": "ig"}, []string{"instagram *instagram.Poller"}},
		{"X v1.1 only", map[string]string{"X_BEARER_TOKEN": "x1"}, []string{"x *x.Poller"}},
		{"X v2 wins over v1.1", map[string]string{"X_BEARER_TOKEN": "x1", "TANGGAP_X_BEARER_TOKEN": "x2"}, []string{"x *xv2.Poller"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pp, err := productionPollers(env{getenv: func(k string) string { return tc.env[k] }}, cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pp {
				got = append(got, string(p.poller.Platform())+" "+typeName(p.poller))
				if want := cfg.WatchedAccounts(p.poller.Platform()); len(p.accounts) != len(want) {
					t.Errorf("%s: %d accounts, want every watched one (%d)", p.poller.Platform(), len(p.accounts), len(want))
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("pollers (-want +got):\n%s", diff)
			}
		})
	}
	if len(cfg.WatchedAccounts(tanggap.PlatformInstagram)) == 0 {
		t.Fatal("no Instagram account in the config")
	}
}

// An empty secret file is no token: every platform, X v1.1 too, is left
// unpolled by it rather than failing the collector.
func TestProductionPollersEmptySecretFiles(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty, blank, x1 := file("empty", ""), file("blank", " \n"), file("x1", "x1\n")
	handle := x.EnvName(cfg.WatchedAccounts(tanggap.PlatformX)[0].Handle)
	for _, tc := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"every file empty", map[string]string{
			"X_BEARER_TOKEN_FILE": empty, "TANGGAP_X_BEARER_TOKEN_FILE": empty, "TANGGAP_INSTAGRAM_TOKEN_FILE": empty,
			"TANGGAP_FACEBOOK_TOKEN_FILE": blank, "TANGGAP_YOUTUBE_API_KEY_FILE": empty,
			"X_ACCESS_TOKEN_" + handle + "_FILE": empty, "X_ACCESS_TOKEN_SECRET_" + handle + "_FILE": blank,
		}, nil},
		{"X v1.1 from a file", map[string]string{"X_BEARER_TOKEN_FILE": x1, "TANGGAP_X_BEARER_TOKEN_FILE": empty}, []string{"x *x.Poller"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pp, err := productionPollers(env{getenv: func(k string) string { return tc.env[k] }}, cfg, log)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range pp {
				got = append(got, string(p.poller.Platform())+" "+typeName(p.poller))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("pollers (-want +got):\n%s", diff)
			}
		})
	}
	_, err = productionPollers(env{getenv: func(k string) string {
		return map[string]string{"X_BEARER_TOKEN_FILE": filepath.Join(dir, "missing")}[k]
	}}, cfg, log)
	if err == nil || !strings.Contains(err.Error(), "X_BEARER_TOKEN_FILE") {
		t.Errorf("an unreadable secret file: %v, want an error naming X_BEARER_TOKEN_FILE", err)
	}
}

// docker-compose.yml's collector, with the secret files as
// scripts/compose-secrets.sh leaves them and only the Meta token filled in,
// polls Instagram and Facebook.
func TestComposeCollectorWithOneToken(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var compose struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
			Secrets     []string          `yaml:"secrets"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &compose); err != nil {
		t.Fatal(err)
	}
	collect, ok := compose.Services["collect"]
	if !ok {
		t.Fatal("docker-compose.yml has no collect service")
	}
	dir := t.TempDir()
	for _, name := range collect.Secrets {
		content := ""
		if name == "meta_access_token" || name == "redis_password" {
			content = "filled-in\n"
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if !slices.Contains(collect.Secrets, "meta_access_token") {
		t.Fatal("the collect service does not mount meta_access_token")
	}
	getenv := func(k string) string {
		v := collect.Environment[k]
		if name, ok := strings.CutPrefix(v, "/run/secrets/"); ok {
			return filepath.Join(dir, name)
		}
		return v
	}
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	pp, err := productionPollers(env{getenv: getenv}, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatalf("collect fails with only the Meta token filled in: %v", err)
	}
	var got []string
	for _, p := range pp {
		got = append(got, string(p.poller.Platform()))
	}
	if diff := cmp.Diff([]string{"instagram", "facebook"}, got); diff != "" {
		t.Errorf("pollers (-want +got):\n%s", diff)
	}
	if _, _, err := webhookSecrets(env{getenv: getenv}); err != nil {
		t.Errorf("empty webhook secret files: %v, want no receiver and no error", err)
	}
}

func typeName(v any) string { return fmt.Sprintf("%T", v) }
