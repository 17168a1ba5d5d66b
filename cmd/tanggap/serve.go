package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/web"
	"github.com/tanggap/tanggap/workflow"
)

func runServe(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c common
	if err := c.register(fs, e); err != nil {
		return err
	}
	addr := fs.String("addr", envOr(e, "TANGGAP_ADDR", ":8080"), "listen address (env TANGGAP_ADDR)")
	secureEnv, err := envBool(e, "TANGGAP_SECURE_COOKIES")
	if err != nil {
		return err
	}
	secure := fs.Bool("secure-cookies", secureEnv, "mark session cookies Secure (behind a TLS proxy; env TANGGAP_SECURE_COOKIES)")
	proxies := fs.String("trusted-proxies", e.getenv("TANGGAP_TRUSTED_PROXIES"),
		"reverse proxies (addresses or CIDR prefixes, comma-separated) whose X-Forwarded-For names the client sign-in limits count (env TANGGAP_TRUSTED_PROXIES)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	trusted, err := parsePrefixes(*proxies)
	if err != nil {
		return fmt.Errorf("serve: --trusted-proxies (TANGGAP_TRUSTED_PROXIES): %w", err)
	}
	log := c.logger(e.stderr)
	ct, err := c.open(ctx, e, false)
	if err != nil {
		return err
	}
	defer ct.rdb.Close()
	cfg, st := ct.cfg, ct.st
	reg := newRegistry()
	clocks, err := workflow.NewClocks(cfg, e.getenv("TANGGAP_HOLIDAYS"))
	if err != nil {
		return err
	}
	srv, err := newWeb(cfg, st, clocks, reg, log, webSettings{secure: *secure, proxies: trusted})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("serving", "addr", ln.Addr().String())
	return serveHTTP(ctx, ln, srv, log)
}

// webSettings are serve's settings of the web server (dev's are zero).
type webSettings struct {
	secure  bool           // session cookie Secure without TLS here
	proxies []netip.Prefix // trusted reverse proxies
}

// parsePrefixes reads a comma-separated list of addresses and CIDR prefixes.
func parsePrefixes(list string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR prefix", f)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// newWeb wires the web server on a store (serve and dev share it) and
// registers the store's open-items gauge and the holiday table's last year.
func newWeb(cfg *config.Config, st *store.Store, clocks *workflow.Clocks, reg *prometheus.Registry, log *slog.Logger, set webSettings) (*web.Server, error) {
	opds := make([]string, len(cfg.OPDs))
	for i, o := range cfg.OPDs {
		opds[i] = o.Code
	}
	reg.MustRegister(store.NewOpenItemsCollector(st, opds), calendarLastYear(clocks))
	return web.New(web.Options{Config: cfg, Store: st, Sessions: st, Accounts: st, Log: log, Registry: reg, SecureCookies: set.secure, TrustedProxies: set.proxies,
		Coverage: coverageBanner(st), Clocks: clocks, Workflow: workflow.New(st, cfg, clocks, nil)})
}

// calendarLastYear exports the last year the holiday table covers: the
// pages warn when it lacks the current or the next year, and the rules
// (TanggapHolidayCalendar*) tell the operators, who can load it.
func calendarLastYear(clocks *workflow.Clocks) prometheus.GaugeFunc {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tanggap_calendar_last_year",
		Help: "Last year the holiday table (hari libur and cuti bersama) covers; 0 when it holds none.",
	}, func() float64 {
		ys := clocks.Calendar().Years()
		if len(ys) == 0 {
			return 0
		}
		return float64(ys[len(ys)-1])
	})
}

func envOr(e env, key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}
