package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/x"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
)

func runCollect(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c common
	c.register(fs, e)
	metricsAddr := fs.String("metrics-addr", envOr(e, "TANGGAP_METRICS_ADDR", ":9101"), "address of /metrics, /healthz, /readyz")
	interval := fs.Duration("interval", 30*time.Second, "base poll interval per account (busy accounts are polled sooner, quiet ones later)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log := c.logger(e.stderr)
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return err
	}
	brokers, err := brokersFromEnv(e)
	if err != nil {
		return err
	}
	rdb, err := redisFromEnv(ctx, e)
	if err != nil {
		return err
	}
	defer rdb.Close()
	st := store.New(rdb, cfg.City.Code, nil)
	reg := newRegistry()
	prod := bus.NewProducer(brokers, bus.DefaultTopics, bus.NewProducerMetrics(reg))
	defer prod.Close()
	pollers, err := productionPollers(e, cfg, log)
	if err != nil {
		return err
	}
	if len(pollers) == 0 {
		return errors.New("collect: no platform has credentials (see README: X_BEARER_TOKEN, META_ACCESS_TOKEN, YOUTUBE_API_KEY)")
	}
	runners, err := newRunners(pollers, cfg, st, prod, reg, log, collectors.RunnerOptions{Interval: *interval})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		return fmt.Errorf("collect metrics: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return serveHTTP(gctx, ln, metricsHandler(reg, st.Ping), log) })
	startRunners(gctx, g, runners, st, log)
	return g.Wait()
}

// platformPoller is a poller with the accounts it polls.
type platformPoller struct {
	poller   collectors.Poller
	accounts []config.Account
}

// productionPollers builds a poller for every platform that has credentials.
func productionPollers(e env, cfg *config.Config, log *slog.Logger) ([]platformPoller, error) {
	var out []platformPoller
	accts := cfg.WatchedAccounts(tanggap.PlatformX)
	handles := make([]string, len(accts))
	for i, a := range accts {
		handles[i] = a.Handle
	}
	creds, err := x.CredentialsFromEnv(e.getenv, handles)
	if err != nil {
		return nil, err
	}
	if creds.Bearer != "" || len(creds.Users) > 0 {
		p, err := x.NewPoller(x.Options{Credentials: creds, Logger: log})
		if err != nil {
			return nil, err
		}
		out = append(out, platformPoller{poller: p, accounts: accts})
	} else {
		log.Warn("platform_disabled", "platform", "x", "why", "no X_BEARER_TOKEN or per-account tokens")
	}
	return out, nil
}

func newRunners(pp []platformPoller, cfg *config.Config, cursors collectors.Cursors, pub collectors.Publisher, reg prometheus.Registerer, log *slog.Logger, opt collectors.RunnerOptions) ([]*collectors.Runner, error) {
	m, err := collectors.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	var out []*collectors.Runner
	for _, p := range pp {
		r, err := collectors.NewRunner(p.poller, p.accounts, cursors, pub, log, m, time.Now, opt)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// startRunners runs the runners and their coverage reporting.
func startRunners(ctx context.Context, g *errgroup.Group, runners []*collectors.Runner, st *store.Store, log *slog.Logger) {
	for _, r := range runners {
		g.Go(func() error { return r.Run(ctx) })
	}
	g.Go(func() error { return reportCoverage(ctx, st, runners, 10*time.Second, log) })
}
