package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/internal/testenv"
)

// BenchmarkIngestBatch measures the store's ingest alone against a real
// redis-server (TANGGAP_TEST_REDIS_ADDR), 500 posts per call as triage
// sends them, and reports the server's CPU per post and this process's
// (the Go side, the making of the posts included): the store's share of
// the pipeline's budget. "joins" has every post after the
// first of its place join that place's cluster (the bench's generated
// load clusters about 70% of posts). Fresh posts and joins to a formed
// cluster take the plain path (plain.go); "script" sends the fresh posts
// through the ingest script instead. In "answers" every second post is an
// official reply to a complaint of the batch before (the ingest script:
// the reply is stored and its parent's clock stopped).
//
//	TANGGAP_TEST_REDIS_ADDR=127.0.0.1:6379 go test ./store -run '^$' -bench IngestBatch -benchtime 20000x
func BenchmarkIngestBatch(b *testing.B) {
	addr := testenv.RedisAddr(b)
	for _, mode := range []string{"fresh", "joins", "script", "answers"} {
		joins, answers := mode == "joins", mode == "answers"
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			rdb := redis.NewClient(&redis.Options{Addr: addr})
			defer rdb.Close()
			city := "bench" + strconv.FormatInt(time.Now().UnixNano(), 36)
			c := newClock()
			s := New(rdb, city, c.Now)
			s.noPlain = mode == "script"
			defer dropCity(rdb, city)
			text := "jalan berlubang parah di jl. ahmad yani rt 03 rw 07 sudah tiga hari, tolong segera diperbaiki, motor sering jatuh"
			fp := strings.Repeat("0123abcd", 16) // classify.Fingerprint.String: 128 hex digits
			places := []string{"Margajaya", "Kranji", "Jatiasih", "Pekayon Jaya", "Harapan Jaya", "Bintara"}
			t0 := c.Now().Add(-time.Hour)
			batch := make([]Ingest, 0, 500)
			flush := func() {
				_, errs := s.IngestBatch(ctx, batch)
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
				batch = batch[:0]
			}
			cpu0, self0 := redisCPU(b, rdb), selfCPU()
			b.ResetTimer()
			for i := range b.N {
				in := citizen(strconv.Itoa(1000000+i), text, t0.Add(time.Duration(i)*time.Millisecond))
				in.Kelurahan, in.Fingerprint = places[i%len(places)], fp
				if joins && i >= len(places) {
					in.ClusterID = "x:" + strconv.Itoa(1000000+i%len(places))
				}
				if answers && i%2 == 1 && i >= cap(batch) {
					in = reply(strconv.Itoa(1000000+i), strconv.Itoa(1000000+i-1-cap(batch)), in.Post.CreatedAt, "bina_marga_sda")
				}
				if batch = append(batch, in); len(batch) == cap(batch) {
					flush()
				}
			}
			if len(batch) > 0 {
				flush()
			}
			b.StopTimer()
			b.ReportMetric((redisCPU(b, rdb)-cpu0)*1e6/float64(b.N), "redis-cpu-us/post")
			b.ReportMetric((selfCPU()-self0)*1e6/float64(b.N), "go-cpu-us/post")
			b.ReportMetric(float64(s.PlainIngests())/float64(b.N), "plain/post")
			if n, err := s.ItemCount(ctx); err != nil || n != int64(b.N) { // every post stored
				b.Fatalf("%d items stored, want %d (%v)", n, b.N, err)
			}
			want := tanggap.StatusAssigned
			if answers && b.N > cap(batch)+1 { // answered by post 501
				want = tanggap.StatusInProgress
			}
			if it, err := s.Item(ctx, "x:1000000"); err != nil || it.Status != want || it.Deadline.IsZero() {
				b.Fatalf("first item: %+v %v", it, err)
			}
		})
	}
}

// selfCPU is this process's CPU time in seconds (user and system): the
// Go side of the store, with the benchmark's own post making.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// redisCPU is the server's CPU time in seconds (INFO cpu, main process).
func redisCPU(b *testing.B, rdb *redis.Client) float64 {
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\n") {
		k, v, _ := strings.Cut(strings.TrimSpace(line), ":")
		if k == "used_cpu_sys" || k == "used_cpu_user" {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(fmt.Errorf("INFO cpu %s: %w", k, err))
			}
			total += f
		}
	}
	return total
}

// dropCity deletes every key of a city.
func dropCity(rdb redis.UniversalClient, city string) {
	testenv.DropCity(context.Background(), rdb, city)
}

// BenchmarkIngestCall measures what triage spends building one post's
// ingest call (staged hash, script keys and arguments, packed row, ingest
// event): no Redis.
//
//	go test ./store -run '^$' -bench IngestCall -benchmem
func BenchmarkIngestCall(b *testing.B) {
	c := newClock()
	s := New(nil, "bench", c.Now)
	in := citizen("1790000000000000010", "jalan berlubang parah di jl. ahmad yani rt 03 rw 07 sudah tiga hari, tolong segera diperbaiki", c.Now())
	in.Kelurahan, in.Fingerprint, in.ClusterID = "Margajaya", strings.Repeat("0123abcd", 16), "x:1790000000000000001"
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.newIngestCall(&in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPrune measures `tanggap prune` on the real redis-server: b.N
// posts that ended a year and more ago (noise, which ends when it comes:
// the bulk of what a city collects) are stored and relayed, then pruned;
// it reports the items removed per second and the server's CPU per item.
//
//	TANGGAP_TEST_REDIS_ADDR=127.0.0.1:6379 go test ./store -run '^$' -bench Prune -benchtime 20000x
func BenchmarkPrune(b *testing.B) {
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: testenv.RedisAddr(b)})
	defer rdb.Close()
	city := "prune" + strconv.FormatInt(time.Now().UnixNano(), 36)
	defer dropCity(rdb, city)
	c := newClock()
	c.t = c.t.Add(-400 * 24 * time.Hour)
	s := New(rdb, city, c.Now)
	batch := make([]Ingest, 0, 500)
	for i := range b.N {
		in := citizen(strconv.Itoa(1_000_000+i), "selamat pagi bekasi, semoga sehat selalu", c.t.Add(-time.Duration(i)*time.Second))
		in.Kind, in.Status, in.Queued, in.Deadlines = tanggap.KindNoise, tanggap.StatusNotComplaint, false, tanggap.Deadlines{}
		batch = append(batch, in)
		if len(batch) == cap(batch) || i == b.N-1 {
			if _, errs := s.IngestBatch(ctx, batch); errs != nil {
				for _, err := range errs {
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			batch = batch[:0]
		}
	}
	relayAll(b, s)
	cpu0 := redisCPU(b, rdb)
	b.ResetTimer()
	res, err := s.Prune(ctx, c.t.Add(24*time.Hour), false)
	b.StopTimer()
	if err != nil || res.Pruned != int64(b.N) {
		b.Fatalf("pruned %+v (%v), want %d", res, err, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "items/s")
	b.ReportMetric((redisCPU(b, rdb)-cpu0)*1e6/float64(b.N), "redis-µs/item")
}
