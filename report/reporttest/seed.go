// Package reporttest fills a store with synthetic complaints for report
// benchmarks, tests and screenshots. Every text is generated from the
// templates below (written for Tanggap); no real citizen text is used.
package reporttest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/internal/testenv"
	"github.com/tanggap/tanggap/report"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
)

// Options describe the synthetic month.
type Options struct {
	N       int           // items to create
	Period  report.Period // T0 range
	OPDs    []string      // OPD codes; the first ones get most items
	Now     time.Time     // answers and resolutions never lie after it
	Seed    uint64
	Workers int // concurrent writers (default 8)
	// Before is how many months before Period are seeded too, N items
	// each, the same way: a live city's history, whose items a report of
	// Period reads when they were open at its start or are open now.
	Before int
}

// words are the vocabulary of the synthetic posts.
type words struct{ topics, kecamatan, phrases []string }

func vocabulary() words {
	return words{topics: []string{"jalan rusak", "sampah", "banjir", "drainase", "parkir liar", "lampu jalan", "air PDAM", "KTP-el",
		"BPJS", "pohon tumbang", "kemacetan", "PPDB", "puskesmas", "izin usaha", "pungli"},
		kecamatan: []string{"Bekasi Timur", "Bekasi Barat", "Bekasi Utara", "Bekasi Selatan", "Rawalumbu", "Medan Satria",
			"Bantargebang", "Pondok Gede", "Jatiasih", "Jatisampurna", "Mustika Jaya", "Pondok Melati"},
		phrases: []string{"mohon segera ditindaklanjuti", "sudah dua minggu belum ada perbaikan", "warga sangat terganggu",
			"tolong dicek pak", "kapan diperbaiki?", "sudah lapor ke RT tapi belum ada respon"}}
}

// Seed writes opt.N items through the store's own ingest and update
// scripts: each is ingested as ASSIGNED with its real deadlines, then about
// 70% get a first response (median about 5 hours, long tail), half of those
// are resolved, 4% are archived as not a complaint.
func Seed(ctx context.Context, st *store.Store, clocks *workflow.Clocks, opt Options) error {
	if opt.Workers <= 0 {
		opt.Workers = 8
	}
	from := opt.Period.From
	for m := opt.Before; m >= 0; m-- {
		o := opt
		o.Period = report.Month(from.Year(), from.Month()-time.Month(m), from.Location())
		o.Seed = opt.Seed + uint64(m)<<32
		if err := seedMonth(ctx, st, clocks, o, 1_000_000+10_000_000*m); err != nil {
			return err
		}
	}
	return nil
}

// seedMonth writes opt.N items in opt.Period, with ids from idBase on.
func seedMonth(ctx context.Context, st *store.Store, clocks *workflow.Clocks, opt Options, idBase int) error {
	voc := vocabulary()
	jobs := make(chan int)
	errs := make(chan error, opt.Workers)
	var wg sync.WaitGroup
	span := opt.Period.To.Sub(opt.Period.From)
	for w := 0; w < opt.Workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := seedOne(ctx, st, clocks, opt, voc, idBase, i, span); err != nil {
					errs <- err
					for range jobs { // drain
					}
					return
				}
			}
		}()
	}
	var err error
loop:
	for i := 0; i < opt.N; i++ {
		select {
		case jobs <- i:
		case err = <-errs:
			break loop
		case <-ctx.Done():
			err = ctx.Err()
			break loop
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errs:
		default:
		}
	}
	return err
}

func seedOne(ctx context.Context, st *store.Store, clocks *workflow.Clocks, opt Options, voc words, idBase, i int, span time.Duration) error {
	rng := rand.New(rand.NewPCG(opt.Seed, uint64(i)))
	t0 := opt.Period.From.Add(time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second)
	if !t0.Before(opt.Now) {
		t0 = opt.Now.Add(-time.Minute)
	}
	// Zipf-like: the first OPDs get most complaints.
	k := int(float64(len(opt.OPDs)) * math.Pow(rng.Float64(), 2.2))
	opd := opt.OPDs[min(k, len(opt.OPDs)-1)]
	pl := tanggap.Platforms[rng.IntN(3)]
	id := strconv.Itoa(idBase + i)
	topic := voc.topics[rng.IntN(len(voc.topics))]
	kec := voc.kecamatan[rng.IntN(len(voc.kecamatan))]
	text := fmt.Sprintf("Lapor min, %s di %s %s. %s", topic, kec, voc.phrases[rng.IntN(len(voc.phrases))], voc.phrases[rng.IntN(len(voc.phrases))])
	urgent := rng.IntN(50) == 0
	_, err := st.Ingest(ctx, store.Ingest{
		Post: tanggap.Post{Platform: pl, ID: id, Text: text, Author: fmt.Sprintf("warga%05d", rng.IntN(60000)), AuthorName: "Warga " + id,
			Account: "humasbekasikota", CreatedAt: t0, CapturedAt: t0.Add(time.Duration(30+rng.IntN(600)) * time.Second), ThreadID: id,
			Interaction: tanggap.InteractionMention, URL: "https://example.org/" + string(pl) + "/" + id},
		Kind: tanggap.KindComplaint, OPD: opd, Confidence: 0.8, Status: tanggap.StatusAssigned, Queued: true, Urgent: urgent,
		Topic: topic, Kecamatan: kec, Deadlines: clocks.Deadlines(t0, tanggap.KindComplaint, opd, urgent),
	})
	if err != nil {
		return err
	}
	set := map[string]string{}
	roll := rng.Float64()
	switch {
	case roll < 0.04:
		set["status"], set["archive_reason"] = string(tanggap.StatusNotComplaint), "noise"
	case roll < 0.74:
		// Log-normal first response: median ~5 h, p90 ~ 2 days.
		d := time.Duration(math.Exp(math.Log(5)+1.4*rng.NormFloat64()) * float64(time.Hour))
		fr := t0.Add(max(d, time.Minute))
		if fr.After(opt.Now) {
			break
		}
		set["fr_ms"], set["fr_opd"], set["status"] = ms(fr), opd, string(tanggap.StatusInProgress)
		set["fr_url"], set["officer"] = "https://example.org/reply/"+id, opd+".admin"
		if rng.IntN(2) == 0 {
			res := fr.Add(time.Duration(1+rng.IntN(20*24)) * time.Hour)
			if res.Before(opt.Now) {
				set["resolved_ms"], set["status"], set["evidence"] = ms(res), string(tanggap.StatusResolved), "https://example.org/bukti/"+id
			}
		}
	}
	if len(set) == 0 {
		return nil
	}
	_, err = st.Apply(ctx, store.Change{ID: string(pl) + ":" + id, Version: -1, Actor: "seed", Action: "seed", Set: set})
	return err
}

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// BenchSize is the size of the benchmarks' month: TANGGAP_BENCH_ITEMS items
// (default 100,000) and TANGGAP_BENCH_HISTORY months seeded before it
// (default 0; see Options.Before).
func BenchSize(tb testing.TB) (items, before int) {
	tb.Helper()
	items = 100_000
	for _, v := range []struct {
		name string
		dst  *int
		min  int
	}{{"TANGGAP_BENCH_ITEMS", &items, 1}, {"TANGGAP_BENCH_HISTORY", &before, 0}} {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < v.min {
				tb.Fatalf("%s=%q: want a whole number from %d", v.name, s, v.min)
			}
			*v.dst = n
		}
	}
	return items, before
}

// RedisAddrEnv names the real redis-server benchmarks use when it is set
// (the same variable as the integration run's).
const RedisAddrEnv = "TANGGAP_TEST_REDIS_ADDR"

// KeepCityEnv names a city to seed once and keep on the real
// redis-server between benchmark runs (seeding 100,000 items through the
// ingest scripts takes minutes): with it set, Store uses that city and
// leaves its keys at cleanup, and Backend.Seed skips seeding when the city
// already holds the same synthetic month.
const KeepCityEnv = "TANGGAP_BENCH_CITY"

// Backend is the Redis a benchmark runs on.
type Backend struct {
	Name string // "miniredis" or "redis-server host:port"
	// ServerCPU is the CPU time the redis-server has used so far (INFO
	// cpu); 0 for miniredis, whose work is the benchmark process's own.
	ServerCPU func() time.Duration

	rdb  redis.UniversalClient
	city string
	keep bool // a kept city (KeepCityEnv)
}

// Seed writes the synthetic month opt describes, like the package's Seed,
// unless the backend is a kept city that already holds exactly that month.
// It reports whether it reused the kept data.
func (b Backend) Seed(ctx context.Context, st *store.Store, clocks *workflow.Clocks, opt Options) (reused bool, err error) {
	if !b.keep {
		return false, Seed(ctx, st, clocks, opt)
	}
	marker := "tanggap:{" + b.city + "}:reporttest:seeded"
	want := fmt.Sprintf("n=%d from=%d to=%d opds=%s now=%d seed=%d before=%d", opt.N, opt.Period.From.UnixMilli(), opt.Period.To.UnixMilli(),
		strings.Join(opt.OPDs, ","), opt.Now.UnixMilli(), opt.Seed, opt.Before)
	if got, err := b.rdb.Get(ctx, marker).Result(); err == nil && got == want {
		return true, nil
	}
	if err := testenv.DropCity(ctx, b.rdb, b.city); err != nil {
		return false, err
	}
	if err := Seed(ctx, st, clocks, opt); err != nil {
		return false, err
	}
	return false, b.rdb.Set(ctx, marker, want, 0).Err()
}

// Store returns a store for a fresh city: on the real redis-server at
// $TANGGAP_TEST_REDIS_ADDR when set (its keys are deleted at cleanup),
// otherwise on an in-process miniredis.
func Store(tb testing.TB, now func() time.Time) (*store.Store, Backend) {
	tb.Helper()
	addr := os.Getenv(RedisAddrEnv)
	if addr == "" {
		mr := miniredis.RunT(tb)
		rdb := redis.NewClient(&redis.Options{Addr: mr.Addr()})
		tb.Cleanup(func() { rdb.Close() })
		return store.New(rdb, "bench", now), Backend{Name: "miniredis", ServerCPU: func() time.Duration { return 0 }}
	}
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 32})
	city, keep := os.Getenv(KeepCityEnv), true
	if city == "" {
		city, keep = "bench"+strconv.FormatInt(time.Now().UnixNano(), 36), false
	}
	tb.Cleanup(func() {
		defer rdb.Close()
		if !keep {
			_ = testenv.DropCity(context.Background(), rdb, city)
		}
	})
	cpu := func() time.Duration {
		info, err := rdb.Info(context.Background(), "cpu").Result()
		if err != nil {
			return 0
		}
		var total float64
		for _, line := range strings.Split(info, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
		return time.Duration(total * float64(time.Second))
	}
	name := "redis-server " + addr
	if keep {
		name += " (kept city " + city + ")"
	}
	return store.New(rdb, city, now), Backend{Name: name, ServerCPU: cpu, rdb: rdb, city: city, keep: keep}
}
