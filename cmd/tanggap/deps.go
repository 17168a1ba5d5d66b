package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
)

// common are the flags every long-running subcommand takes.
type common struct {
	configPath string
	logLevel   slog.Level
	logJSON    bool
}

// register adds the common flags; it fails when TANGGAP_LOG_JSON is not a
// boolean.
func (c *common) register(fs *flag.FlagSet, e env) error {
	logJSON, err := envBool(e, "TANGGAP_LOG_JSON")
	if err != nil {
		return err
	}
	fs.StringVar(&c.configPath, "config", e.getenv("TANGGAP_CONFIG"), "city config YAML (default: the embedded Kota Bekasi config; env TANGGAP_CONFIG)")
	// A level that does not parse fails the flag parsing: --log-level
	// verbose must not run at info without a word.
	fs.TextVar(&c.logLevel, "log-level", slog.LevelInfo, "debug, info, warn or error")
	fs.BoolVar(&c.logJSON, "log-json", logJSON, "log JSON lines instead of text (env TANGGAP_LOG_JSON)")
	return nil
}

// envBool reads a boolean variable as strconv.ParseBool does (1, t, true,
// 0, f, false...); unset or empty is false. Anything else is an error rather
// than true: TANGGAP_SECURE_COOKIES=false must not turn the option on.
func envBool(e env, name string) (bool, error) {
	v := e.getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: not a boolean (true, false, 1 or 0)", name, v)
	}
	return b, nil
}

func (c *common) logger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.logLevel}
	if c.logJSON {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errUsage
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

// city is what a long-running subcommand builds from its flags and the
// environment: the city config, the Kafka brokers (when it uses Kafka),
// Redis and the city's store. Close rdb when done.
type city struct {
	cfg     *config.Config
	brokers []string
	rdb     redis.UniversalClient
	st      *store.Store
}

// open builds the city, checking config, brokers and Redis in that order.
func (c *common) open(ctx context.Context, e env, kafka bool) (*city, error) {
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return nil, err
	}
	var brokers []string
	if kafka {
		if brokers, err = brokersFromEnv(e); err != nil {
			return nil, err
		}
	}
	rdb, err := redisFromEnv(ctx, e)
	if err != nil {
		return nil, err
	}
	return &city{cfg: cfg, brokers: brokers, rdb: rdb, st: store.New(rdb, cfg.City.Code, nil)}, nil
}

// redisFromEnv connects to REDIS_ADDR (comma-separated for a cluster), with
// the password from TANGGAP_REDIS_PASSWORD or TANGGAP_REDIS_PASSWORD_FILE.
func redisFromEnv(ctx context.Context, e env) (redis.UniversalClient, error) {
	addr := e.getenv("REDIS_ADDR")
	if addr == "" {
		return nil, errors.New("REDIS_ADDR is not set (host:port of redis-server)")
	}
	pw, err := config.Secret(e.getenv, "TANGGAP_REDIS_PASSWORD")
	if err != nil {
		return nil, err
	}
	rdb := redis.NewUniversalClient(&redis.UniversalOptions{Addrs: strings.Split(addr, ","), Password: pw,
		DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second, WriteTimeout: 5 * time.Second})
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis %s: %w", addr, err)
	}
	return rdb, nil
}

func brokersFromEnv(e env) ([]string, error) {
	b := e.getenv("TANGGAP_KAFKA_BROKERS")
	if b == "" {
		return nil, errors.New("TANGGAP_KAFKA_BROKERS is not set (comma-separated host:port list)")
	}
	return strings.Split(b, ","), nil
}

// serveHTTP runs an HTTP server until ctx ends, then shuts it down,
// letting in-flight requests finish.
func serveHTTP(ctx context.Context, ln net.Listener, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http_shutdown", "err", err)
	}
	return nil
}

// metricsHandler serves /metrics, /healthz and /readyz for the worker
// subcommands (collect, triage), which have no web UI.
func metricsHandler(reg *prometheus.Registry, ready func(context.Context) error) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("ready\n"))
	})
	return mux
}
