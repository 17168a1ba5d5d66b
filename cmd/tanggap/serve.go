package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"

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
	c.register(fs, e)
	addr := fs.String("addr", envOr(e, "TANGGAP_ADDR", ":8080"), "listen address (env TANGGAP_ADDR)")
	secure := fs.Bool("secure-cookies", e.getenv("TANGGAP_SECURE_COOKIES") != "", "mark session cookies Secure (behind a TLS proxy)")
	if err := parseFlags(fs, args); err != nil {
		return err
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
	srv, err := newWeb(cfg, st, clocks, reg, log, *secure)
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

// newWeb wires the web server on a store (serve and dev share it) and
// registers the store's open-items gauge and the holiday table's last year.
func newWeb(cfg *config.Config, st *store.Store, clocks *workflow.Clocks, reg *prometheus.Registry, log *slog.Logger, secure bool) (*web.Server, error) {
	opds := make([]string, len(cfg.OPDs))
	for i, o := range cfg.OPDs {
		opds[i] = o.Code
	}
	reg.MustRegister(store.NewOpenItemsCollector(st, opds), calendarLastYear(clocks))
	return web.New(web.Options{Config: cfg, Store: st, Sessions: st, Accounts: st, Log: log, Registry: reg, SecureCookies: secure,
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
