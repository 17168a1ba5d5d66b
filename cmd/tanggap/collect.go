package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/facebook"
	"github.com/tanggap/tanggap/collectors/instagram"
	"github.com/tanggap/tanggap/collectors/x"
	"github.com/tanggap/tanggap/collectors/xv2"
	"github.com/tanggap/tanggap/collectors/youtube"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
)

func runCollect(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("collect", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c common
	if err := c.register(fs, e); err != nil {
		return err
	}
	metricsAddr := fs.String("metrics-addr", envOr(e, "TANGGAP_METRICS_ADDR", ":9101"), "address of /metrics, /healthz, /readyz")
	webhookAddr := fs.String("webhook-addr", envOr(e, "TANGGAP_WEBHOOK_ADDR", ":9103"), "address of the Instagram webhook receiver, /webhooks/instagram (when "+envInstagramAppSecret+" is set)")
	interval := fs.Duration("interval", 30*time.Second, "base poll interval per account (busy accounts are polled sooner, quiet ones later)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// The runner takes 0 for its default: a negative interval would
	// silently poll every 30 s.
	if *interval <= 0 {
		return fmt.Errorf("collect: --interval must be positive, got %v", *interval)
	}
	log := c.logger(e.stderr)
	ct, err := c.open(ctx, e, true)
	if err != nil {
		return err
	}
	defer ct.rdb.Close()
	cfg, brokers, st := ct.cfg, ct.brokers, ct.st
	reg := newRegistry()
	pm := bus.NewProducerMetrics(reg)
	prod := bus.NewProducer(brokers, bus.DefaultTopics, pm)
	defer prod.Close()
	pollers, err := productionPollers(e, cfg, log)
	if err != nil {
		return err
	}
	if len(pollers) == 0 {
		return errors.New("collect: no platform has credentials (see README: TANGGAP_INSTAGRAM_TOKEN, TANGGAP_FACEBOOK_TOKEN, TANGGAP_X_BEARER_TOKEN, X_BEARER_TOKEN, TANGGAP_YOUTUBE_API_KEY)")
	}
	runners, err := newRunners(pollers, cfg, st, prod, reg, log, collectors.RunnerOptions{Interval: *interval})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		return fmt.Errorf("collect metrics: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	g, gctx := errgroup.WithContext(ctx)
	if err := serveMentions(gctx, g, e, pollers, st, brokers, prod, pm, reg, log, *webhookAddr); err != nil {
		ln.Close()
		cancel()
		return errors.Join(err, g.Wait())
	}
	g.Go(func() error { return serveHTTP(gctx, ln, metricsHandler(reg, st.Ping), log) })
	startRunners(gctx, g, runners, st, log)
	return g.Wait()
}

// platformPoller is a poller with the accounts it polls.
type platformPoller struct {
	poller   collectors.Poller
	accounts []config.Account
}

// Environment variables of the platform credentials (each also read from
// NAME_FILE, and per account from NAME_<HANDLE>: see each package's
// EnvToken). The X API v1.1 credentials are x.CredentialsFromEnv's.
const (
	envInstagramToken = "TANGGAP_INSTAGRAM_TOKEN"
	envFacebookToken  = "TANGGAP_FACEBOOK_TOKEN"
	envXBearerToken   = "TANGGAP_X_BEARER_TOKEN"
	envYouTubeAPIKey  = "TANGGAP_YOUTUBE_API_KEY"
)

// productionPollers builds a poller for every platform that has
// credentials: a token for the platform, or for at least one of its
// accounts (a variable or a secret file that is empty is no token). Every watched account of such a platform is polled; one
// without a token shows as a token_expired gap (reported once), so a
// missing token is visible, not silent. X is polled through API v2 when
// TANGGAP_X_BEARER_TOKEN is set, else through v1.1 when its credentials are.
func productionPollers(e env, cfg *config.Config, log *slog.Logger) ([]platformPoller, error) {
	var out []platformPoller
	// configured reports whether tokens has a credential for any account.
	configured := func(p tanggap.Platform, tokens func(context.Context, config.Account) (string, error)) (bool, error) {
		for _, a := range cfg.WatchedAccounts(p) {
			tok, err := tokens(context.Background(), a)
			if err != nil {
				return false, err
			}
			if tok != "" {
				return true, nil
			}
		}
		return false, nil
	}
	add := func(p tanggap.Platform, env string, tokens func(context.Context, config.Account) (string, error), poller func() collectors.Poller) error {
		ok, err := configured(p, tokens)
		switch {
		case err != nil:
			return err
		case !ok:
			log.Warn("platform_disabled", "platform", p, "why", "no "+env+" or per-account "+env+"_<HANDLE>")
			return nil
		}
		out = append(out, platformPoller{poller: poller(), accounts: cfg.WatchedAccounts(p)})
		return nil
	}

	igTokens := instagram.EnvToken(e.getenv, envInstagramToken)
	if err := add(tanggap.PlatformInstagram, envInstagramToken, igTokens, func() collectors.Poller { return instagram.New(igTokens) }); err != nil {
		return nil, err
	}
	fbTokens := facebook.EnvToken(e.getenv, envFacebookToken)
	if err := add(tanggap.PlatformFacebook, envFacebookToken, fbTokens, func() collectors.Poller { return facebook.New(fbTokens) }); err != nil {
		return nil, err
	}
	ytKeys := youtube.EnvToken(e.getenv, envYouTubeAPIKey)
	if err := add(tanggap.PlatformYouTube, envYouTubeAPIKey, ytKeys, func() collectors.Poller { return youtube.New(ytKeys) }); err != nil {
		return nil, err
	}

	accts := cfg.WatchedAccounts(tanggap.PlatformX)
	handles := make([]string, len(accts))
	v11Vars := []string{"X_BEARER_TOKEN"}
	for i, a := range accts {
		handles[i] = a.Handle
		v11Vars = append(v11Vars, "X_ACCESS_TOKEN_"+x.EnvName(a.Handle), "X_ACCESS_TOKEN_SECRET_"+x.EnvName(a.Handle))
	}
	// v1.1 is configured by a value, as every other platform is: an empty
	// secret file (compose-secrets.sh leaves one for every token) is no
	// credential, not a broken one.
	v11 := false
	for _, n := range v11Vars {
		v, err := config.Secret(e.getenv, n)
		if err != nil {
			return nil, fmt.Errorf("x: %w", err)
		}
		v11 = v11 || v != ""
	}
	var creds x.Credentials
	if v11 {
		var err error
		if creds, err = x.CredentialsFromEnv(e.getenv, handles); err != nil {
			return nil, err // set, but wrong: say so rather than run without X
		}
	}
	xTokens := xv2.EnvToken(e.getenv, envXBearerToken)
	v2, err := configured(tanggap.PlatformX, xTokens)
	switch {
	case err != nil:
		return nil, err
	case v2:
		if v11 {
			log.Warn("platform_x_v11_ignored", "why", envXBearerToken+" is set: X is polled through API v2 only, one collector per account")
		}
		out = append(out, platformPoller{poller: xv2.New(xTokens), accounts: accts})
	case v11:
		p, err := x.NewPoller(x.Options{Credentials: creds, Logger: log})
		if err != nil {
			return nil, err
		}
		out = append(out, platformPoller{poller: p, accounts: accts})
	default:
		log.Warn("platform_disabled", "platform", "x", "why", "no "+envXBearerToken+" (API v2) nor X_BEARER_TOKEN or per-account tokens (API v1.1)")
	}
	return out, nil
}

// newRunners makes a Runner per platform. Each gets the budgets the
// platform does not report in calls: Instagram's 200 calls per hour per
// account (Meta reports them in percent) and YouTube's 10,000 units a day
// per project (YouTube reports nothing). When the cursor store also keeps
// leases (*store.Store does), every Runner shares the accounts with the
// other collector processes through them, as a worker with its own id.
func newRunners(pp []platformPoller, cfg *config.Config, cursors collectors.Cursors, pub collectors.Publisher, reg prometheus.Registerer, log *slog.Logger, opt collectors.RunnerOptions) ([]*collectors.Runner, error) {
	m, err := collectors.NewMetrics(reg)
	if err != nil {
		return nil, err
	}
	if l, ok := cursors.(collectors.Leases); ok && opt.Leases == nil {
		opt.Leases = l
		opt.LeaseName = store.LeaseName
		if opt.Owner == "" {
			opt.Owner = workerID()
		}
	}
	var out []*collectors.Runner
	for _, p := range pp {
		o := opt
		o.Quotas = append([]collectors.Quota(nil), opt.Quotas...)
		switch p.poller.Platform() {
		case tanggap.PlatformInstagram:
			o.Quotas = append(o.Quotas, collectors.Quota{Limit: 200, Period: time.Hour})
		case tanggap.PlatformYouTube:
			pacific := youtube.PacificZone()
			o.Quotas = append(o.Quotas, collectors.Quota{Scope: youtube.ScopeQuota, Limit: 10000,
				Reset: func(now time.Time) time.Time { return youtube.NextPacificMidnight(now, pacific) }})
		}
		r, err := collectors.NewRunner(p.poller, p.accounts, cursors, pub, log, m, time.Now, o)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// workerID names this collector process in the leases: host, process id
// and a random suffix (a restarted process is a new worker).
func workerID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "collector"
	}
	return fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.Uint32N(1<<16))
}

// startRunners runs the runners and their coverage reporting.
func startRunners(ctx context.Context, g *errgroup.Group, runners []*collectors.Runner, st *store.Store, log *slog.Logger) {
	for _, r := range runners {
		g.Go(func() error { return r.Run(ctx) })
	}
	g.Go(func() error { return reportCoverage(ctx, st, runners, 10*time.Second, log) })
}
