package main

import (
	"fmt"
	"io"
	"log/slog"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/tanggap/tanggap"
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

func typeName(v any) string { return fmt.Sprintf("%T", v) }
