package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/demo"
	"github.com/tanggap/tanggap/collectors/instagram/instagramfake"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
)

// runDev runs the whole product in one process on embedded defaults: an
// in-process Kafka (kfake, the real protocol), an in-process Redis
// (miniredis) unless REDIS_ADDR is set, fake platform APIs replaying the
// demo data through the real collector code, triage, and the web UI with
// /metrics on one address.
func runDev(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("dev", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c common
	if err := c.register(fs, e); err != nil {
		return err
	}
	addr := fs.String("addr", "127.0.0.1:8080", "listen address of the web UI and /metrics")
	drip := fs.Duration("drip", 20*time.Second, "how often the fake APIs publish one more demo post")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *drip <= 0 {
		return fmt.Errorf("dev: --drip must be positive, got %v", *drip)
	}
	log := c.logger(e.stderr)
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return err
	}

	// Kafka: in-process, real protocol.
	kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(3))
	if err != nil {
		return fmt.Errorf("dev: kafka: %w", err)
	}
	defer kc.Close()
	brokers := kc.ListenAddrs()

	// Redis: REDIS_ADDR if set, else in-process. On a real Redis, which may
	// be the city's own, dev keeps its keys apart (city "<code>_dev"): its
	// demo accounts, whose password the README prints, and demo posts must
	// never be the city's.
	var rdb redis.UniversalClient
	city := cfg.City.Code
	if e.getenv("REDIS_ADDR") != "" {
		if rdb, err = redisFromEnv(ctx, e); err != nil {
			return err
		}
		city = devCity(city)
	} else {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return fmt.Errorf("dev: redis: %w", err)
		}
		defer mr.Close()
		rdb = redis.NewClient(&redis.Options{Addr: mr.Addr()})
	}
	defer rdb.Close()

	st := store.New(rdb, city, nil)
	reg := newRegistry()
	clocks, err := workflow.NewClocks(cfg, e.getenv("TANGGAP_HOLIDAYS"))
	if err != nil {
		return err
	}
	if err := ensureBusTopics(ctx, brokers, 3); err != nil {
		return err
	}
	cls, err := newClassifier(cfg, log)
	if err != nil {
		return err
	}
	pipe := newPipeline(cfg, st, clocks, cls, brokers, bus.DefaultTopics, pipelineOptions{group: "triage", consumers: 1}, reg, log)

	// Fake platform APIs with the demo data, polled by the real collectors.
	posts, err := demo.Load()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("dev: %w", err)
	}
	defer ln.Close()
	url := "http://" + ln.Addr().String()
	g, gctx := errgroup.WithContext(ctx)
	// The fake Instagram API sends its @mentions to the real webhook
	// receiver on the dev address, signed with a secret of this run.
	appSecret, verifyToken := rand.Text(), rand.Text()
	pollers, drips, closeFakes, err := devPollers(gctx, cfg, posts, log, instagramfake.WithWebhook(url+webhookPath, []byte(appSecret)))
	if err != nil {
		return err
	}
	defer closeFakes()
	mentions := startMentions(gctx, g, pollers, st, brokers, pipe.producer, pipe.producerMetrics, reg, log, defaultParking())
	runners, err := newRunners(pollers, cfg, st, pipe.producer, reg, log, collectors.RunnerOptions{Interval: 500 * time.Millisecond, MaxInterval: 5 * time.Second})
	if err != nil {
		return err
	}
	logins, err := devUsers(ctx, st)
	if err != nil {
		return err
	}
	srv, err := newWeb(cfg, st, clocks, reg, log, webSettings{})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle(webhookPath, instagramWebhook(appSecret, verifyToken, mentions, reg, log))
	mux.Handle("/", srv)
	fmt.Fprintf(e.stdout, "Tanggap dev is running: %s\n\nDemo logins (password for all: %s):\n", url, devPassword)
	for _, l := range logins {
		fmt.Fprintf(e.stdout, "  %-22s %s\n", l[0], l[1])
	}
	if city != cfg.City.Code {
		fmt.Fprintf(e.stdout, "\nRedis %s: dev's keys are tanggap:{%s}:*, apart from the city's.\n", e.getenv("REDIS_ADDR"), city)
	}
	fmt.Fprintf(e.stdout, "\nMetrics: %s/metrics · Ctrl-C stops and drains.\n", url)

	g.Go(func() error { return serveHTTP(gctx, ln, mux, log) })
	g.Go(func() error { return pipe.run(gctx) })
	housekeeping(gctx, g, cfg, st, clocks, pipe.producer, reg, log)
	watchKeptTopics(gctx, g, brokers, []string{bus.DefaultTopics.Events, bus.DefaultTopics.Dead}, reg, log)
	startRunners(gctx, g, runners, st, log)
	for _, d := range drips {
		g.Go(func() error { return d(gctx, *drip) })
	}
	err = g.Wait()
	log.Info("dev_stopped")
	return err
}

// devPollers starts a fake API per platform (Instagram, Facebook, X API
// v2, YouTube) loaded with that platform's demo posts (most at once, the
// youngest fifth dripped in over time so new items appear live) and
// returns pollers pointed at them. The X v1.1 collector is left to
// `collect` (and its own tests): in dev X is polled through API v2.
func devPollers(ctx context.Context, cfg *config.Config, posts []demo.Post, log interface{ Warn(string, ...any) }, igOpts ...instagramfake.Option) ([]platformPoller, []func(context.Context, time.Duration) error, func(), error) {
	f, err := startDevFakes(cfg, posts, time.Now(), igOpts...)
	if err != nil {
		return nil, nil, func() {}, err
	}
	return f.pollers, []func(context.Context, time.Duration) error{f.drip}, f.close, nil
}

// serveLocal serves a fake API on a loopback port.
func serveLocal(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return srv, "http://" + ln.Addr().String(), nil
}

const devPassword = "tanggap-demo-2026"

// devCity is the city code dev keeps its keys under on a real Redis.
func devCity(code string) string { return code + "_dev" }

// devUsers creates the demo users and returns their logins and roles.
func devUsers(ctx context.Context, st *store.Store) ([][2]string, error) {
	users := []store.User{
		{Login: "humas", Name: "Humas / PPID Utama", Role: "ppid_utama"},
		{Login: "dbmsda", Name: "Admin DBMSDA", Role: "opd_admin", OPD: "bina_marga_sda"},
		{Login: "dlh", Name: "Admin DLH", Role: "opd_admin", OPD: "lingkungan_hidup"},
		{Login: "dishub", Name: "Admin Dishub", Role: "opd_admin", OPD: "perhubungan"},
		{Login: "dlh.ppid", Name: "PPID Pelaksana DLH", Role: "ppid_pelaksana", OPD: "lingkungan_hidup"},
		{Login: "operator", Name: "Operator TI", Role: "operator"},
	}
	var out [][2]string
	for _, u := range users {
		err := st.PutUser(ctx, u, devPassword, true)
		if err != nil && tanggap.ErrorCode(err) != tanggap.ECONFLICT {
			return nil, err
		}
		desc := u.Role
		if u.OPD != "" {
			desc += " (" + u.OPD + ")"
		}
		out = append(out, [2]string{u.Login, desc})
	}
	return out, nil
}
