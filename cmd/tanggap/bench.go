package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"golang.org/x/sync/errgroup"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/internal/cputime"
	"github.com/tanggap/tanggap/internal/loadgen"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/triage"
	"github.com/tanggap/tanggap/workflow"
)

// runBench drives synthetic posts through the whole pipeline (fake X APIs
// -> the X collectors -> Kafka -> the triage consumer group -> Redis) and
// prints one JSON object: the sustained end-to-end rate, publish-to-visible
// latency at a bounded rate and at full speed, Redis memory per item, and
// the ceilings of the parts alone on the same servers (kafka-go produce and
// consume with a no-op handler; the store's ingest script without Kafka;
// triage's CPU work without I/O), with the pipeline's ratio to them.
//
// Everything it writes is under a fresh city hash tag and fresh topics,
// removed at the end (unless --keep), so it can run against the servers of
// a live deployment's test environment without touching their data.
func runBench(ctx context.Context, args []string, e env) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var c common
	if err := c.register(fs, e); err != nil {
		return err
	}
	o := benchOptions{}
	fs.IntVar(&o.posts, "posts", 20000, "posts of the max-throughput phase and of each ceiling")
	fs.Float64Var(&o.rate, "rate", 100, "posts per second of the bounded-rate (latency) phase")
	fs.DurationVar(&o.rateFor, "rate-duration", 10*time.Second, "length of the bounded-rate phase")
	brokers := fs.String("brokers", e.getenv("TANGGAP_KAFKA_BROKERS"), "Kafka brokers, comma-separated (default env TANGGAP_KAFKA_BROKERS; empty: an in-process kfake broker)")
	redisAddr := fs.String("redis", e.getenv("REDIS_ADDR"), "redis-server host:port (default env REDIS_ADDR; empty: an in-process miniredis)")
	fs.IntVar(&o.partitions, "partitions", 6, "partitions of the bench topics")
	fs.IntVar(&o.consumers, "consumers", 6, "triage consumers in the group, in this process (tanggap triage runs 6)")
	fs.DurationVar(&o.interval, "interval", 50*time.Millisecond, "collector poll interval")
	fs.IntVar(&o.maxBatch, "max-batch", triageBatch, "most records a triage consumer handles (and stores in one Redis round trip) at once; 1 is one record at a time")
	fs.BoolVar(&o.noCluster, "no-cluster", false, "turn near-duplicate clustering off (production runs it), to see its cost")
	fs.IntVar(&o.kafkaPID, "kafka-pid", 0, "pid of a local Kafka broker, to report its CPU time per post (optional)")
	fs.IntVar(&o.window, "window", 5000, "max-throughput phase: most posts appended to the fake APIs and not yet published to Kafka")
	phases := fs.String("phases", "rate,max,ceilings", "phases to run, comma-separated: rate, max, ceilings")
	fs.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the max-throughput phase to this file")
	timeout := fs.Duration("timeout", 15*time.Minute, "give up after this long")
	keep := fs.Bool("keep", false, "keep the bench's Redis keys and Kafka topics")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	levelSet := false
	fs.Visit(func(f *flag.Flag) { levelSet = levelSet || f.Name == "log-level" })
	if !levelSet {
		c.logLevel = slog.LevelWarn
	}
	log := c.logger(e.stderr)
	o.phases = map[string]bool{}
	for _, p := range strings.Split(*phases, ",") {
		switch p = strings.TrimSpace(p); p {
		case "rate", "max", "ceilings":
			o.phases[p] = true
		case "":
		default:
			return fmt.Errorf("bench: unknown phase %q (rate, max, ceilings)", p)
		}
	}
	if o.posts <= 0 || o.rate <= 0 || o.partitions <= 0 || o.consumers <= 0 || o.window <= 0 || o.maxBatch <= 0 || o.interval <= 0 {
		return errors.New("bench: --posts, --rate, --partitions, --consumers, --max-batch, --window and --interval must be positive")
	}
	if o.phases["ceilings"] && !o.phases["max"] {
		return errors.New("bench: the ceilings replay the posts of the max phase: add max to --phases")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	cfg, err := config.Load(c.configPath)
	if err != nil {
		return err
	}
	b := &bench{o: o, cfg: cfg, log: log, keep: *keep}
	defer b.close()
	if err := b.setup(ctx, e, *brokers, *redisAddr); err != nil {
		return err
	}
	rep, err := b.run(ctx)
	if err != nil {
		return err
	}
	out, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "%s\n", out)
	return err
}

type benchOptions struct {
	posts      int
	rate       float64
	rateFor    time.Duration
	partitions int
	consumers  int
	interval   time.Duration
	window     int
	maxBatch   int
	kafkaPID   int
	noCluster  bool
	phases     map[string]bool
	cpuprofile string
}

// bench is one run: the servers, the names it writes under, and cleanup.
type bench struct {
	o    benchOptions
	cfg  *config.Config
	log  *slog.Logger
	keep bool

	brokers  []string
	kafkaIn  bool // in-process kfake
	rdb      redis.UniversalClient
	redisIn  bool // in-process miniredis
	redisLbl string
	kafkaLbl string
	id       string
	topics   bus.Topics
	closers  []func()

	watchMu sync.Mutex
	watch   func([]tanggap.Post) // the rate phase's observer
}

func (b *bench) close() {
	for i := len(b.closers) - 1; i >= 0; i-- {
		b.closers[i]()
	}
}

func (b *bench) setup(ctx context.Context, e env, brokers, redisAddr string) error {
	var rnd [4]byte
	_, _ = rand.Read(rnd[:])
	b.id = hex.EncodeToString(rnd[:])
	b.topics = bus.Topics{Posts: "tanggap.bench." + b.id + ".posts", Events: "tanggap.bench." + b.id + ".events", Dead: "tanggap.bench." + b.id + ".dlq"}

	if brokers == "" {
		kc, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.AllowAutoTopicCreation(), kfake.DefaultNumPartitions(b.o.partitions))
		if err != nil {
			return fmt.Errorf("bench: kfake: %w", err)
		}
		b.closers = append(b.closers, kc.Close)
		b.brokers, b.kafkaIn, b.kafkaLbl = kc.ListenAddrs(), true, "in-process kfake"
	} else {
		b.brokers, b.kafkaLbl = strings.Split(brokers, ","), brokers
	}
	if err := bus.EnsureTopics(ctx, b.brokers, b.o.partitions, b.topics.Posts, b.topics.Events, b.topics.Dead); err != nil {
		return err
	}
	if !b.kafkaIn && !b.keep {
		b.closers = append(b.closers, func() { b.dropTopics(b.topics.Posts, b.topics.Events, b.topics.Dead, b.ceilingTopic()) })
	}

	if redisAddr == "" {
		mr := miniredis.NewMiniRedis()
		if err := mr.Start(); err != nil {
			return fmt.Errorf("bench: miniredis: %w", err)
		}
		b.closers = append(b.closers, mr.Close)
		b.rdb, b.redisIn, b.redisLbl = redis.NewClient(&redis.Options{Addr: mr.Addr()}), true, "in-process miniredis"
	} else {
		re := env{getenv: func(k string) string {
			if k == "REDIS_ADDR" {
				return redisAddr
			}
			return e.getenv(k)
		}}
		rdb, err := redisFromEnv(ctx, re)
		if err != nil {
			return err
		}
		b.rdb, b.redisLbl = rdb, redisAddr
	}
	b.closers = append(b.closers, func() { b.rdb.Close() })
	if !b.redisIn && !b.keep {
		b.closers = append(b.closers, b.dropKeys) // runs before the close above
	}
	return nil
}

func (b *bench) city(suffix string) string { return "bench" + b.id + suffix }
func (b *bench) ceilingTopic() string      { return "tanggap.bench." + b.id + ".ceiling" }

// dropKeys removes every key the bench wrote (all its cities share the
// prefix tanggap:{bench<id>).
func (b *bench) dropKeys() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	iter := b.rdb.Scan(ctx, 0, "tanggap:{"+b.city("")+"*", 1000).Iterator()
	var batch []string
	flush := func() {
		if len(batch) > 0 {
			if err := b.rdb.Unlink(ctx, batch...).Err(); err != nil {
				b.log.Warn("bench_cleanup_failed", "err", err)
			}
			batch = batch[:0]
		}
	}
	for iter.Next(ctx) {
		if batch = append(batch, iter.Val()); len(batch) == 500 {
			flush()
		}
	}
	flush()
	if err := iter.Err(); err != nil {
		b.log.Warn("bench_cleanup_failed", "err", err)
	}
}

func (b *bench) dropTopics(topics ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl := &kafka.Client{Addr: kafka.TCP(b.brokers...), Timeout: 10 * time.Second}
	if _, err := cl.DeleteTopics(ctx, &kafka.DeleteTopicsRequest{Topics: topics}); err != nil {
		b.log.Warn("bench_cleanup_failed", "err", err)
	}
	if _, err := cl.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: []string{"bench-" + b.id, "bench-" + b.id + "-ceiling"}}); err != nil {
		b.log.Warn("bench_cleanup_failed", "err", err)
	}
}

// benchReport is the JSON the bench prints.
type benchReport struct {
	Setup struct {
		Kafka        string  `json:"kafka"`
		Redis        string  `json:"redis"`
		Partitions   int     `json:"partitions"`
		Consumers    int     `json:"consumers"`
		MaxBatch     int     `json:"max_batch"`
		Clustering   bool    `json:"near_duplicate_clustering"`
		Accounts     int     `json:"accounts"`
		PollInterval string  `json:"poll_interval"`
		GOMAXPROCS   int     `json:"gomaxprocs"`
		CPUs         int     `json:"cpus"`
		Load1Start   float64 `json:"load1_start"`
		Load1End     float64 `json:"load1_end"`
	} `json:"setup"`
	Posts              int            `json:"posts"`
	PostsPerSec        float64        `json:"posts_per_sec"`
	PublishToVisibleMS map[string]any `json:"publish_to_visible_ms"`
	RedisBytesPerItem  *float64       `json:"redis_bytes_per_item"`
	RedisMemoryMethod  string         `json:"redis_memory_method"`
	Max                *maxPhase      `json:"max_phase,omitempty"`
	Rate               *ratePhase     `json:"rate_phase,omitempty"`
	Ceilings           *ceilings      `json:"ceilings,omitempty"`
	Ratios             map[string]any `json:"ratios,omitempty"`
	Targets            map[string]any `json:"targets"`
	ElapsedSec         float64        `json:"elapsed_sec"`
}

type latency struct {
	N   int     `json:"n"`
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func summarize(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	slices.Sort(ds)
	at := func(q float64) float64 {
		i := int(q*float64(len(ds))+0.999999) - 1
		return msf(ds[min(max(i, 0), len(ds)-1)])
	}
	return latency{N: len(ds), P50: at(0.50), P99: at(0.99), Max: msf(ds[len(ds)-1])}
}

func msf(d time.Duration) float64 { return float64(d.Round(10*time.Microsecond)) / 1e6 }

type ratePhase struct {
	Rate             float64 `json:"rate_posts_per_sec"`
	Posts            int     `json:"posts"`
	PublishToVisible latency `json:"publish_to_visible_ms"`
	AppendToVisible  latency `json:"append_to_visible_ms"`
	Method           string  `json:"method"`
	Lost             int     `json:"lost"`
}

type maxPhase struct {
	Posts             int      `json:"posts"`
	PostsPerSec       float64  `json:"posts_per_sec"`
	PublishedPerSec   float64  `json:"collectors_published_per_sec"`
	PublishToVisible  latency  `json:"publish_to_visible_ms"`
	Method            string   `json:"method"`
	OutboxDrainSec    float64  `json:"outbox_drained_after_sec"`
	Lost              int      `json:"lost"`
	Extra             int64    `json:"extra_items"`
	BadVersions       int      `json:"bad_versions"`
	ClusterJoins      int      `json:"near_duplicate_joins"`
	RedisCPUSec       *float64 `json:"redis_cpu_sec,omitempty"`
	RedisCPUPerItemUS *float64 `json:"redis_cpu_us_per_item,omitempty"`
	// RedisChildCPUPerItemUS is the CPU of redis-server's children (AOF
	// rewrites) during the phase; RedisAOFBytesPerItem the AOF growth
	// (omitted when a rewrite ran during the phase).
	RedisChildCPUPerItemUS *float64 `json:"redis_child_cpu_us_per_item,omitempty"`
	RedisAOFBytesPerItem   *float64 `json:"redis_aof_bytes_per_item,omitempty"`
	// AOFCompacted says the AOF was rewritten before the phase (see
	// compactAOF).
	AOFCompacted      bool     `json:"redis_aof_compacted_before,omitempty"`
	ProcessCPUSec     float64  `json:"bench_process_cpu_sec"`
	ProcessCPUPerItem float64  `json:"bench_process_cpu_us_per_item"`
	KafkaCPUSec       *float64 `json:"kafka_cpu_sec,omitempty"`
	KafkaCPUPerItemUS *float64 `json:"kafka_cpu_us_per_item,omitempty"`
	// Host is the whole machine over the phase, from /proc/stat: on a
	// shared host the figures above move with what the hypervisor gives.
	Host       *hostShare `json:"host,omitempty"`
	CPUProfile string     `json:"cpu_profile,omitempty"`
}

// hostShare is how the machine's CPUs spent a phase: busy (every process,
// kernel and interrupts), idle, and stolen by the hypervisor for other
// guests, as percentages of the CPUs' wall time, and the busy CPU time per
// post stored.
type hostShare struct {
	BusyPct       float64 `json:"busy_pct"`
	IdlePct       float64 `json:"idle_pct"`
	StealPct      float64 `json:"steal_pct"`
	BusyUSPerPost float64 `json:"busy_cpu_us_per_item"`
}

type ceilings struct {
	Posts                  int      `json:"posts"`
	KafkaProduceConsume    float64  `json:"kafka_produce_consume_posts_per_sec"`
	KafkaProduceOnly       float64  `json:"kafka_produce_posts_per_sec"`
	StoreIngest            float64  `json:"store_ingest_posts_per_sec"`
	StoreIngestPipelined   float64  `json:"store_ingest_pipelined_posts_per_sec"`
	StoreRedisCPUPerItemUS *float64 `json:"store_ingest_pipelined_redis_cpu_us_per_item,omitempty"`
	TriageCPUPerCore       float64  `json:"triage_decode_decide_posts_per_sec_one_core"`
	StoreIngestConcurrency int      `json:"store_ingest_concurrency"`
}

func (b *bench) run(ctx context.Context) (*benchReport, error) {
	start := time.Now()
	rep := &benchReport{PublishToVisibleMS: map[string]any{}}
	s := &rep.Setup
	s.Kafka, s.Redis, s.Partitions, s.Consumers, s.MaxBatch = b.kafkaLbl, b.redisLbl, b.o.partitions, b.o.consumers, b.o.maxBatch
	s.Clustering = !b.o.noCluster
	s.PollInterval, s.GOMAXPROCS, s.CPUs = b.o.interval.String(), runtime.GOMAXPROCS(0), runtime.NumCPU()
	s.Load1Start = load1()
	rep.Posts = b.o.posts
	rep.Targets = map[string]any{
		"issue2_p99_ms_at_100_per_sec":              250,
		"issue2_posts_per_sec_real_redis":           5000,
		"issue7_posts_per_sec_real_kafka_and_redis": 10000,
	}

	clocks, err := workflow.NewClocks(b.cfg, "")
	if err != nil {
		return nil, err
	}
	cls, err := newClassifier(b.cfg, b.log)
	if err != nil {
		return nil, err
	}
	st := store.New(b.rdb, b.city(""), nil)

	// The pipeline under test, as `tanggap triage` runs it: --consumers
	// members of one group and the event relay.
	pipe := newPipeline(b.cfg, st, clocks, cls, b.brokers, b.topics, pipelineOptions{group: "bench-" + b.id, consumers: b.o.consumers,
		maxBatch: b.o.maxBatch, relay: "bench-" + b.id, noCluster: b.o.noCluster}, prometheus.NewRegistry(), b.log)
	prod := pipe.producer
	pg, pctx := errgroup.WithContext(ctx)
	pctx, stopPipes := context.WithCancel(pctx)
	pg.Go(func() error { return pipe.run(pctx) }) // closes prod when it ends
	defer func() {
		stopPipes()
		_ = pg.Wait()
	}()

	accts := b.cfg.WatchedAccounts(tanggap.PlatformX)
	s.Accounts = len(accts)
	fleet, err := loadgen.New(loadgen.Options{Accounts: accts, Cursors: st, Publisher: prod, Log: b.log,
		Interval: b.o.interval, Keep: b.o.posts, OnPublished: b.published})
	if err != nil {
		return nil, err
	}
	defer fleet.Close()
	fg, fctx := errgroup.WithContext(ctx)
	fctx, stopFleet := context.WithCancel(fctx)
	fg.Go(func() error { return fleet.Run(fctx) })
	defer func() {
		stopFleet()
		_ = fg.Wait()
	}()

	// Warm up: one post per account, so every collector holds a cursor
	// before the load starts (a first poll without one reads only the
	// newest pages).
	warm := fleet.Append(len(accts))
	if err := waitCount(ctx, st, int64(len(warm))); err != nil {
		return nil, fmt.Errorf("bench: warm-up: %w", err)
	}
	stored := int64(len(warm))

	if b.o.phases["rate"] {
		rp, err := b.ratePhase(ctx, st, fleet, stored)
		if err != nil {
			return nil, err
		}
		stored += int64(rp.Posts)
		rep.Rate = rp
		rep.PublishToVisibleMS["at_rate"] = map[string]any{"rate": rp.Rate, "p50": rp.PublishToVisible.P50, "p99": rp.PublishToVisible.P99, "n": rp.PublishToVisible.N}
	}
	if b.o.phases["max"] {
		mp, perItem, method, err := b.maxPhase(ctx, st, fleet, stored)
		if err != nil {
			return nil, err
		}
		stored += int64(mp.Posts)
		rep.Max = mp
		rep.PostsPerSec = mp.PostsPerSec
		rep.PublishToVisibleMS["max_throughput"] = map[string]any{"p50": mp.PublishToVisible.P50, "p99": mp.PublishToVisible.P99, "n": mp.PublishToVisible.N}
		rep.RedisBytesPerItem, rep.RedisMemoryMethod = perItem, method
	}
	stopFleet()
	_ = fg.Wait()
	stopPipes()
	_ = pg.Wait()

	if b.o.phases["ceilings"] {
		posts := fleet.Kept()
		cl, err := b.ceilings(ctx, posts, clocks, cls)
		if err != nil {
			return nil, err
		}
		rep.Ceilings = cl
		if rep.PostsPerSec > 0 {
			rep.Ratios = map[string]any{
				"pipeline_to_kafka_produce_consume":  round3(rep.PostsPerSec / cl.KafkaProduceConsume),
				"pipeline_to_store_ingest":           round3(rep.PostsPerSec / cl.StoreIngest),
				"pipeline_to_store_ingest_pipelined": round3(rep.PostsPerSec / cl.StoreIngestPipelined),
				"pipeline_to_triage_cpu_one_core":    round3(rep.PostsPerSec / cl.TriageCPUPerCore),
			}
		}
	}
	s.Load1End = load1()
	rep.ElapsedSec = round3(time.Since(start).Seconds())
	return rep, nil
}

// ratePhase appends posts at a fixed rate and watches, from a separate
// Redis connection, for each item to become readable once Kafka has
// acknowledged its post.
func (b *bench) ratePhase(ctx context.Context, st *store.Store, fleet *loadgen.Fleet, base int64) (*ratePhase, error) {
	total := max(int(b.o.rate*b.o.rateFor.Seconds()), 1)
	var (
		mu       sync.Mutex
		appended = map[string]time.Time{} // item id -> when it was appended to the fake API
		waiting  = map[string]bool{}      // published, not yet seen
		seen     = map[string]bool{}
		pub, app []time.Duration
		done     = make(chan struct{})
	)
	b.setWatch(func(posts []tanggap.Post) {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range posts {
			id := p.ItemID()
			if _, ok := appended[id]; ok && !seen[id] {
				waiting[id] = true
			}
		}
	})
	defer b.setWatch(nil)
	// The observer reads every outstanding item each millisecond, until the
	// generator is done and every post was seen, or its deadline.
	octx, ocancel := context.WithTimeout(ctx, b.o.rateFor+2*time.Minute)
	defer ocancel()
	observed := make(chan error, 1)
	go func() {
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-octx.Done():
				observed <- octx.Err()
				return
			case <-t.C:
			}
			mu.Lock()
			ids := make([]string, 0, len(waiting))
			for id := range waiting {
				ids = append(ids, id)
			}
			mu.Unlock()
			if len(ids) > 0 {
				its, err := st.ItemsByID(octx, ids)
				if err != nil {
					observed <- err
					return
				}
				now := time.Now()
				mu.Lock()
				for _, it := range its {
					if !waiting[it.ID] {
						continue
					}
					delete(waiting, it.ID)
					seen[it.ID] = true
					pub = append(pub, now.Sub(it.CapturedAt))
					app = append(app, now.Sub(appended[it.ID]))
				}
				mu.Unlock()
			}
			select {
			case <-done:
				mu.Lock()
				n := len(seen)
				mu.Unlock()
				if n == total {
					observed <- nil
					return
				}
			default:
			}
		}
	}()
	start := time.Now()
	sent := 0
	tick := time.NewTicker(5 * time.Millisecond)
	for sent < total {
		select {
		case <-ctx.Done():
			tick.Stop()
			return nil, ctx.Err()
		case <-tick.C:
		}
		due := min(int(time.Since(start).Seconds()*b.o.rate)+1, total) - sent
		if due <= 0 {
			continue
		}
		at := time.Now()
		mu.Lock()
		for _, s := range fleet.Append(due) {
			appended[s.ItemID()] = at
		}
		mu.Unlock()
		sent += due
	}
	tick.Stop()
	close(done)
	var lost int
	if err := <-observed; err != nil {
		if octx.Err() == nil {
			return nil, fmt.Errorf("bench: rate phase: %w", err)
		}
		mu.Lock()
		lost = total - len(seen)
		mu.Unlock()
	}
	if lost == 0 {
		if err := waitCount(ctx, st, base+int64(total)); err != nil {
			return nil, fmt.Errorf("bench: rate phase: %w", err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	return &ratePhase{Rate: b.o.rate, Posts: total, PublishToVisible: summarize(pub), AppendToVisible: summarize(app), Lost: lost,
		Method: "once Kafka acknowledged a post, a separate Redis client reads it every 1 ms; publish = the Kafka record timestamp (the collector's capture time, taken before the API call), visible = the first read that finds the item; append = when the post was added to the fake API (adds the poll interval)"}, nil
}

// setWatch sets the function the collectors' acks are reported to.
func (b *bench) setWatch(fn func([]tanggap.Post)) {
	b.watchMu.Lock()
	defer b.watchMu.Unlock()
	b.watch = fn
}

func (b *bench) published(posts []tanggap.Post) {
	b.watchMu.Lock()
	fn := b.watch
	b.watchMu.Unlock()
	if fn != nil {
		fn(posts)
	}
}

// maxPhase appends as fast as the collectors publish (at most --window
// posts ahead of Kafka) and measures the time until every item is stored.
func (b *bench) maxPhase(ctx context.Context, st *store.Store, fleet *loadgen.Fleet, base int64) (*maxPhase, *float64, string, error) {
	compacted, err := b.compactAOF(ctx)
	if err != nil {
		return nil, nil, "", fmt.Errorf("bench: compact the AOF before the max phase: %w", err)
	}
	mem0, memErr := usedMemory(ctx, b.rdb)
	cpu0, cpuErr := redisCPU(ctx, b.rdb, false)
	ccpu0, _ := redisCPU(ctx, b.rdb, true)
	aof0, aofErr := infoInt(ctx, b.rdb, "persistence", "aof_current_size")
	rw0, _ := infoInt(ctx, b.rdb, "persistence", "aof_rewrites")
	pcpu0 := cputime.Process().Seconds()
	kcpu0, kcpuErr := pidCPU(b.o.kafkaPID)
	host0, hostErr := readHostCPU()
	if b.o.cpuprofile != "" {
		f, err := os.Create(b.o.cpuprofile)
		if err != nil {
			return nil, nil, "", err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, nil, "", err
		}
	}
	pub0 := fleet.Published()
	start := time.Now()
	var sent []loadgen.Sent
	var allPublished atomic.Int64
	for len(sent) < b.o.posts {
		if ctx.Err() != nil {
			return nil, nil, "", ctx.Err()
		}
		if int64(len(sent))-(fleet.Published()-pub0) >= int64(b.o.window) {
			time.Sleep(time.Millisecond)
			continue
		}
		sent = append(sent, fleet.Append(min(250, b.o.posts-len(sent)))...)
	}
	go func() {
		for fleet.Published()-pub0 < int64(len(sent)) && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		allPublished.Store(int64(time.Since(start)))
	}()
	if err := waitCount(ctx, st, base+int64(len(sent))); err != nil {
		return nil, nil, "", fmt.Errorf("bench: max phase: %w", err)
	}
	elapsed := time.Since(start)
	if b.o.cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	for allPublished.Load() == 0 && ctx.Err() == nil {
		time.Sleep(time.Millisecond)
	}
	mp := &maxPhase{AOFCompacted: compacted, Posts: len(sent), PostsPerSec: round1(float64(len(sent)) / elapsed.Seconds()),
		PublishedPerSec: round1(float64(len(sent)) / time.Duration(allPublished.Load()).Seconds()),
		ProcessCPUSec:   round3(cputime.Process().Seconds() - pcpu0), CPUProfile: b.o.cpuprofile,
		Method: "per item: updated_ms (triage's clock when it sent the ingest script) minus captured_ms (the Kafka record timestamp); items changed again (answered, joined by a near-duplicate) are left out"}
	mp.ProcessCPUPerItem = round1(mp.ProcessCPUSec * 1e6 / float64(len(sent)))
	if host1, err := readHostCPU(); hostErr == nil && err == nil {
		mp.Host = host1.since(host0, len(sent))
	}
	if kcpuErr == nil {
		if kcpu1, err := pidCPU(b.o.kafkaPID); err == nil {
			d := round3(kcpu1 - kcpu0)
			per := round1(d * 1e6 / float64(len(sent)))
			mp.KafkaCPUSec, mp.KafkaCPUPerItemUS = &d, &per
		}
	}
	if cpuErr == nil && !b.redisIn {
		if cpu1, err := redisCPU(ctx, b.rdb, false); err == nil {
			d := round3(cpu1 - cpu0)
			per := round1(d * 1e6 / float64(len(sent)))
			mp.RedisCPUSec, mp.RedisCPUPerItemUS = &d, &per
		}
		if ccpu1, err := redisCPU(ctx, b.rdb, true); err == nil {
			per := round1((ccpu1 - ccpu0) * 1e6 / float64(len(sent)))
			mp.RedisChildCPUPerItemUS = &per
		}
		aof1, err1 := infoInt(ctx, b.rdb, "persistence", "aof_current_size")
		rw1, err2 := infoInt(ctx, b.rdb, "persistence", "aof_rewrites")
		if aofErr == nil && err1 == nil && err2 == nil && rw1 == rw0 && aof1 > aof0 {
			per := round1(float64(aof1-aof0) / float64(len(sent)))
			mp.RedisAOFBytesPerItem = &per
		}
	}

	// Read every item back: lost, extra, versions, latency.
	want := make(map[string]int64, len(sent)) // item id -> expected version
	for _, s := range sent {
		want[s.ItemID()] = 1
	}
	for _, s := range sent {
		if s.ReplyTo != "" {
			if _, ok := want[tanggap.ItemID(tanggap.PlatformX, s.ReplyTo)]; ok {
				want[tanggap.ItemID(tanggap.PlatformX, s.ReplyTo)] = 2
			}
		}
	}
	ids := make([]string, 0, len(sent))
	for _, s := range sent {
		ids = append(ids, s.ItemID())
	}
	var lats []time.Duration
	found := 0
	var items []tanggap.Item
	for i := 0; i < len(ids); i += 1000 {
		its, err := st.ItemsByID(ctx, ids[i:min(i+1000, len(ids))])
		if err != nil {
			return nil, nil, "", err
		}
		items = append(items, its...)
	}
	// Near-duplicate clustering bumps a root's version for the citizens
	// who form the cluster (store.RootChanges) and counts each citizen
	// once: the generator's authors are X handles, one id each.
	others := map[string]map[string]bool{} // root -> authors of its joiners
	for _, it := range items {
		if it.ClusterID != "" && it.ClusterID != it.ID {
			if others[it.ClusterID] == nil {
				others[it.ClusterID] = map[string]bool{}
			}
			others[it.ClusterID][it.Author] = true
			mp.ClusterJoins++
		}
	}
	for _, it := range items {
		found++
		delete(others[it.ID], it.Author)
		n := int64(len(others[it.ID]))
		if it.Version != want[it.ID]+store.RootChanges(n) || (n > 0 && it.Reporters != 1+int(n)) {
			mp.BadVersions++
		}
		if it.Version == 1 {
			lats = append(lats, it.UpdatedAt.Sub(it.CapturedAt))
		}
	}
	mp.Lost = len(ids) - found
	if n, err := st.ItemCount(ctx); err == nil {
		mp.Extra = n - base - int64(found)
	}
	mp.PublishToVisible = summarize(lats)

	// Memory: once the relay drained the outbox, the delta per item.
	drain := time.Now()
	for {
		n, _, err := st.OutboxBacklog(ctx)
		if err != nil {
			return nil, nil, "", err
		}
		if n == 0 {
			break
		}
		if !sleepCtx(ctx, 20*time.Millisecond) {
			return nil, nil, "", ctx.Err()
		}
	}
	mp.OutboxDrainSec = round3(time.Since(drain).Seconds())
	if memErr != nil || b.redisIn {
		return mp, nil, "not measured: miniredis has no INFO memory", nil
	}
	mem1, err := usedMemory(ctx, b.rdb)
	if err != nil {
		return mp, nil, "not measured: " + err.Error(), nil
	}
	per := round1(float64(mem1-mem0) / float64(len(sent)))
	return mp, &per, "INFO memory used_memory after the phase (outbox drained) minus before, divided by the items stored: item hash, history list, index sorted sets, cursors", nil
}

// ceilings replays the posts of the max phase against each part alone.
func (b *bench) ceilings(ctx context.Context, posts []tanggap.Post, clocks *workflow.Clocks, cls triage.Classifier) (*ceilings, error) {
	out := &ceilings{Posts: len(posts), StoreIngestConcurrency: b.o.consumers}
	if len(posts) == 0 {
		return out, nil
	}
	// Triage's CPU work alone: decode the record, sanitize, classify.
	t := triage.New(b.cfg, clocks, cls, nil, triage.NewMetrics(prometheus.NewRegistry()), b.log, nil)
	vals := make([][]byte, len(posts))
	for i := range posts {
		v, err := json.Marshal(bus.Envelope{V: bus.EnvelopeVersion, Type: "post", Post: &posts[i]})
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	ins := make([]store.Ingest, len(posts))
	t0 := time.Now()
	for i, v := range vals {
		env, err := bus.Decode(v)
		if err != nil {
			return nil, err
		}
		p := *env.Post
		p.Sanitize()
		ins[i] = t.Decide(p)
	}
	out.TriageCPUPerCore = round1(float64(len(posts)) / time.Since(t0).Seconds())

	// The store's ingest script alone, --consumers callers, one call each
	// at a time (as triage calls it), then pipelined in batches.
	for _, mode := range []string{"single", "pipelined"} {
		st := store.New(b.rdb, b.city("-"+mode), nil)
		cpu0, cpuErr := redisCPU(ctx, b.rdb, false)
		t0 := time.Now()
		g, gctx := errgroup.WithContext(ctx)
		per := (len(ins) + b.o.consumers - 1) / b.o.consumers
		for w := range b.o.consumers {
			part := ins[min(w*per, len(ins)):min((w+1)*per, len(ins))]
			g.Go(func() error {
				if mode == "single" {
					for _, in := range part {
						if _, err := st.Ingest(gctx, in); err != nil {
							return err
						}
					}
					return nil
				}
				for i := 0; i < len(part); i += 200 {
					_, errs := st.IngestBatch(gctx, part[i:min(i+200, len(part))])
					if err := errors.Join(errs...); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := g.Wait(); err != nil {
			return nil, fmt.Errorf("bench: store ceiling: %w", err)
		}
		rate := round1(float64(len(ins)) / time.Since(t0).Seconds())
		if mode == "single" {
			out.StoreIngest = rate
		} else {
			out.StoreIngestPipelined = rate
			if cpu1, err := redisCPU(ctx, b.rdb, false); err == nil && cpuErr == nil && !b.redisIn {
				per := round1((cpu1 - cpu0) * 1e6 / float64(len(ins)))
				out.StoreRedisCPUPerItemUS = &per
			}
		}
	}

	// kafka-go alone: the same records produced in poll-sized batches by
	// several publishers while --consumers group members read them with a
	// handler that does nothing.
	topic := b.ceilingTopic()
	if err := bus.EnsureTopics(ctx, b.brokers, b.o.partitions, topic); err != nil {
		return nil, err
	}
	topics := bus.Topics{Posts: topic, Events: topic, Dead: topic}
	reg := prometheus.NewRegistry()
	prod := bus.NewProducer(b.brokers, topics, bus.NewProducerMetrics(reg))
	defer prod.Close()
	var consumed atomic.Int64
	allIn := make(chan struct{})
	cg, cctx := errgroup.WithContext(ctx)
	cctx, stop := context.WithCancel(cctx)
	defer stop()
	cm := bus.NewConsumerMetrics(reg)
	for range b.o.consumers {
		cons := bus.NewBatchConsumer(bus.ConsumerConfig{Brokers: b.brokers, Group: "bench-" + b.id + "-ceiling", Topic: topic},
			func(_ context.Context, msgs []kafka.Message) []error {
				if consumed.Add(int64(len(msgs))) == int64(len(posts)) {
					close(allIn)
				}
				return make([]error, len(msgs))
			}, prod, b.log, cm)
		cg.Go(func() error { return cons.Run(cctx) })
	}
	t0 = time.Now()
	pg, pctx := errgroup.WithContext(ctx)
	next := atomic.Int64{}
	const batch = 200
	for range 8 {
		pg.Go(func() error {
			for {
				i := int(next.Add(batch)) - batch
				if i >= len(posts) {
					return nil
				}
				if err := prod.Publish(pctx, posts[i:min(i+batch, len(posts))]); err != nil {
					return err
				}
			}
		})
	}
	if err := pg.Wait(); err != nil {
		return nil, fmt.Errorf("bench: kafka ceiling: %w", err)
	}
	out.KafkaProduceOnly = round1(float64(len(posts)) / time.Since(t0).Seconds())
	select {
	case <-allIn:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	out.KafkaProduceConsume = round1(float64(len(posts)) / time.Since(t0).Seconds())
	stop()
	_ = cg.Wait()
	return out, nil
}

func waitCount(ctx context.Context, st *store.Store, n int64) error {
	for {
		c, err := st.ItemCount(ctx)
		if err != nil {
			return err
		}
		if c >= n {
			return nil
		}
		if !sleepCtx(ctx, 5*time.Millisecond) {
			return fmt.Errorf("%d of %d items stored: %w", c, n, ctx.Err())
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

func infoField(ctx context.Context, rdb redis.UniversalClient, section, field string) (string, error) {
	s, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v, nil
		}
	}
	return "", fmt.Errorf("INFO %s has no %s", section, field)
}

func usedMemory(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	return infoInt(ctx, rdb, "memory", "used_memory")
}

func infoInt(ctx context.Context, rdb redis.UniversalClient, section, field string) (int64, error) {
	v, err := infoField(ctx, rdb, section, field)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(v), 10, 64)
}

// compactAOF rewrites a real redis-server's append-only file and waits for
// the rewrite, so the phase starts from an AOF the size of the data. Left
// as it is, the AOF still holds the keys earlier runs wrote and deleted;
// the size it has when the phase begins decides how many rewrites (forks,
// copy-on-write faults in the main thread) the phase pays for, and the
// figures moved by a third between otherwise equal runs (Redis CPU per
// item 320-380 µs after a rewrite, 460-490 µs after three runs without).
// It reports whether it rewrote (not for miniredis or without AOF).
func (b *bench) compactAOF(ctx context.Context) (bool, error) {
	if b.redisIn {
		return false, nil
	}
	if on, err := infoInt(ctx, b.rdb, "persistence", "aof_enabled"); err != nil || on == 0 {
		return false, err
	}
	busy := func() (bool, error) {
		for _, f := range []string{"aof_rewrite_in_progress", "aof_rewrite_scheduled", "rdb_bgsave_in_progress"} {
			v, err := infoInt(ctx, b.rdb, "persistence", f)
			if err != nil || v != 0 {
				return true, err
			}
		}
		return false, nil
	}
	for started := false; ; {
		if on, err := busy(); err != nil {
			return false, err
		} else if !on && started {
			return true, nil
		} else if !on {
			if err := b.rdb.BgRewriteAOF(ctx).Err(); err != nil {
				return false, err
			}
			started = true
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// redisCPU is the CPU time (seconds) of the redis-server process, and of
// its children (AOF rewrites, RDB saves) when children is set.
func redisCPU(ctx context.Context, rdb redis.UniversalClient, children bool) (float64, error) {
	var sum float64
	fields := []string{"used_cpu_sys", "used_cpu_user"}
	if children {
		fields = []string{"used_cpu_sys_children", "used_cpu_user_children"}
	}
	for _, f := range fields {
		v, err := infoField(ctx, rdb, "cpu", f)
		if err != nil {
			return 0, err
		}
		x, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, err
		}
		sum += x
	}
	return sum, nil
}

// pidCPU is the CPU time (user and system, seconds) of a local process.
func pidCPU(pid int) (float64, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command name (which may hold spaces) start at ")".
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0, errors.New("unreadable /proc stat")
	}
	ut, err1 := strconv.ParseFloat(f[11], 64)
	st, err2 := strconv.ParseFloat(f[12], 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("unreadable /proc stat")
	}
	return (ut + st) / userHZ, nil
}

// userHZ is the clock ticks per second /proc reports CPU time in (USER_HZ,
// 100 on Linux).
const userHZ = 100

// hostCPU is the machine's CPU time (USER_HZ ticks) from the first line of
// /proc/stat.
type hostCPU struct{ busy, idle, steal uint64 }

func readHostCPU() (hostCPU, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return hostCPU{}, err
	}
	return parseHostCPU(string(b))
}

// parseHostCPU reads the "cpu" line: user nice system idle iowait irq
// softirq steal (guest time is already in user). Busy is user, nice,
// system, irq and softirq; idle includes iowait.
func parseHostCPU(stat string) (hostCPU, error) {
	line, _, _ := strings.Cut(stat, "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return hostCPU{}, errors.New("unreadable /proc/stat: no cpu line with steal time")
	}
	var v [8]uint64
	for i := range v {
		x, err := strconv.ParseUint(f[i+1], 10, 64)
		if err != nil {
			return hostCPU{}, fmt.Errorf("unreadable /proc/stat: %w", err)
		}
		v[i] = x
	}
	return hostCPU{busy: v[0] + v[1] + v[2] + v[5] + v[6], idle: v[3] + v[4], steal: v[7]}, nil
}

// since is the share of the CPUs' time between h0 and h, and the busy time
// per post; nil when no tick passed. A counter that went back (proc(5):
// iowait can) counts as none.
func (h hostCPU) since(h0 hostCPU, posts int) *hostShare {
	diff := func(a, b uint64) float64 { return float64(max(a, b) - b) }
	busy, idle, steal := diff(h.busy, h0.busy), diff(h.idle, h0.idle), diff(h.steal, h0.steal)
	total := busy + idle + steal
	if total <= 0 || posts <= 0 {
		return nil
	}
	return &hostShare{BusyPct: round1(100 * busy / total), IdlePct: round1(100 * idle / total),
		StealPct: round1(100 * steal / total), BusyUSPerPost: round1(busy / userHZ * 1e6 / float64(posts))}
}

func load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f, _, _ := strings.Cut(string(b), " ")
	x, _ := strconv.ParseFloat(f, 64)
	return x
}

func round1(x float64) float64 { return float64(int64(x*10+0.5)) / 10 }
func round3(x float64) float64 { return float64(int64(x*1000+0.5)) / 1000 }
