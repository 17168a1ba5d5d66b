package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/workflow"
)

// BenchmarkQueuePageRedis loads 1,000,000 items (100,000 open, the rest
// closed or not a complaint) into the real redis-server at
// TANGGAP_TEST_REDIS_ADDR under a fresh city code, then measures the server
// time of the queue page, its live fragment, the city board and a search
// that finds nothing (so reads its whole budget of rows) through the
// real handler with a real session cookie, and the Redis memory per item.
// TANGGAP_BENCH_ITEMS changes the total (a tenth is open). The city's keys
// are deleted afterwards.
//
//	TANGGAP_TEST_REDIS_ADDR=127.0.0.1:6391 go test ./web -run '^$' -bench QueuePageRedis -benchtime 200x -timeout 60m
func BenchmarkQueuePageRedis(b *testing.B) {
	addr := os.Getenv("TANGGAP_TEST_REDIS_ADDR")
	if addr == "" {
		b.Skip("TANGGAP_TEST_REDIS_ADDR is not set: this benchmark needs a real redis-server (e.g. 127.0.0.1:6391)")
	}
	total := 1_000_000
	if s := os.Getenv("TANGGAP_BENCH_ITEMS"); s != "" {
		var err error
		if total, err = strconv.Atoi(s); err != nil || total < 10 {
			b.Fatalf("TANGGAP_BENCH_ITEMS=%q", s)
		}
	}
	nOpen := total / 10
	cfg, err := config.Load("")
	if err != nil {
		b.Fatal(err)
	}
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 16})
	b.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(ctx).Err(); err != nil {
		b.Fatalf("redis at %s: %v", addr, err)
	}
	city := fmt.Sprintf("qbench%d", time.Now().UnixNano())
	prefix := "tanggap:{" + city + "}:"
	b.Cleanup(func() {
		start := time.Now()
		n, err := qbDeletePrefix(context.Background(), rdb, prefix)
		if err != nil {
			b.Errorf("cleanup of %s*: %v", prefix, err)
		}
		b.Logf("cleanup: deleted %d keys of %s* in %v", n, prefix, time.Since(start).Round(time.Millisecond))
	})
	st := store.New(rdb, city, nil)
	now := time.Now()

	busiest := cfg.OPDs[0].Code
	var codes []string
	for _, o := range cfg.OPDs {
		codes = append(codes, o.Code)
	}

	// Load.
	memBefore := qbUsedMemory(ctx, b, rdb)
	start := time.Now()
	loaded := qbLoad(ctx, b, st, clocks, codes, total, nOpen, now)
	loadTime := time.Since(start)
	b.Logf("loaded %d items (%d open, %d in %s) in %v: %.0f items/s", loaded, nOpen, nOpen/5, busiest,
		loadTime.Round(time.Millisecond), float64(loaded)/loadTime.Seconds())
	if n, err := st.ItemCount(ctx); err != nil || n != int64(total) {
		b.Fatalf("item count %d (%v), want %d", n, err, total)
	}

	// Memory.
	memAfter := qbUsedMemory(ctx, b, rdb)
	mem := qbMemory(ctx, b, rdb, prefix, total)
	deltaPerItem := float64(memAfter-memBefore) / float64(total)
	b.Logf("used_memory %d -> %d: %.0f B/item (whole server; other tenants may write meanwhile)", memBefore, memAfter, deltaPerItem)
	kept := mem.hash + mem.row + mem.history + mem.zsets
	b.Logf("MEMORY USAGE per item: item hash %.0f B, packed row %.0f B, history %.0f B, index zsets %.0f B, outbox stream %.0f B (until relayed to Kafka): %.0f B/item kept, %.0f B/item with the outbox",
		mem.hash, mem.row, mem.history, mem.zsets, mem.outbox, kept, kept+mem.outbox)

	// Users and the server.
	for _, u := range []store.User{
		{Login: "qb.admin", Name: "Admin " + busiest, Role: string(RoleOPDAdmin), OPD: busiest},
		{Login: "qb.humas", Name: "Humas", Role: string(RolePPIDUtama)},
	} {
		if err := st.PutUser(ctx, u, "kata-sandi-bench-1", true); err != nil {
			b.Fatal(err)
		}
	}
	srv, err := New(Options{Config: cfg, Store: st, Sessions: st, Clocks: clocks, Workflow: workflow.New(st, cfg, clocks, nil),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	cookie := func(login string) *http.Cookie {
		tok, err := st.NewSession(ctx, login, time.Hour)
		if err != nil {
			b.Fatal(err)
		}
		return &http.Cookie{Name: sessionCookie, Value: tok}
	}
	admin, humas := cookie("qb.admin"), cookie("qb.humas")

	b.Run("memory", func(b *testing.B) {
		for b.Loop() {
		}
		b.ReportMetric(kept, "B/item")
		b.ReportMetric(kept+mem.outbox, "B/item+outbox")
		b.ReportMetric(deltaPerItem, "used_memory-B/item")
		b.ReportMetric(float64(loaded)/loadTime.Seconds(), "load-items/s")
	})
	if la, err := os.ReadFile("/proc/loadavg"); err == nil {
		b.Logf("load average before the requests: %s", strings.TrimSpace(string(la)))
	}
	// The store's part of the queue page (Queue + Aging), and a bare round
	// trip, to tell Redis time from rendering time.
	timed := func(b *testing.B, fn func() error) {
		var durs []time.Duration
		for b.Loop() {
			t0 := time.Now()
			if err := fn(); err != nil {
				b.Fatal(err)
			}
			durs = append(durs, time.Since(t0))
		}
		slices.Sort(durs)
		for _, p := range []float64{50, 95, 99} {
			b.ReportMetric(qbPercentile(durs, p), fmt.Sprintf("p%.0f-ms", p))
		}
	}
	b.Run("redis_ping", func(b *testing.B) { timed(b, func() error { return rdb.Ping(ctx).Err() }) })
	b.Run("store_queue", func(b *testing.B) {
		bounds := []time.Time{time.Now().Add(-3 * time.Hour), time.Now().Add(-24 * time.Hour),
			clocks.AgoHK(time.Now(), 3), clocks.AgoHK(time.Now(), 5)}
		timed(b, func() error {
			q, err := st.Queue(ctx, busiest, store.QueuePage{Limit: 300})
			if err == nil && len(q.Items) != 300 {
				err = fmt.Errorf("queue has %d items", len(q.Items))
			}
			if err == nil {
				_, _, err = st.Aging(ctx, busiest, bounds)
			}
			return err
		})
	})
	for _, c := range []struct {
		name, path string
		who        *http.Cookie
		want       string
	}{
		{"queue", "/antrian/" + busiest, admin, "Antrian"},
		{"queue_rows", "/antrian/" + busiest + "/daftar", admin, ""},
		{"home", "/", humas, busiest},
		// A word no item has: the search reads its whole budget of rows.
		{"search_opd", "/cari?q=zzqx", admin, "Ditemukan 0 di antara"},
		{"search_city", "/cari?q=zzqx", humas, "Ditemukan 0 di antara 5000 aduan yang diterima"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var durs []time.Duration
			var size int
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, c.path, nil)
				req.AddCookie(c.who)
				rec := httptest.NewRecorder()
				t0 := time.Now()
				srv.ServeHTTP(rec, req)
				durs = append(durs, time.Since(t0))
				if rec.Code != http.StatusOK || (c.want != "" && !strings.Contains(rec.Body.String(), c.want)) {
					b.Fatalf("GET %s: %d %.300s", c.path, rec.Code, rec.Body.String())
				}
				size = rec.Body.Len()
			}
			slices.Sort(durs)
			for _, p := range []float64{50, 95, 99} {
				b.ReportMetric(qbPercentile(durs, p), fmt.Sprintf("p%.0f-ms", p))
			}
			b.ReportMetric(float64(size), "body-B")
		})
	}
}

// qbPercentile is the nearest-rank percentile of sorted durations, in ms.
func qbPercentile(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / float64(time.Millisecond)
}

func qbUsedMemory(ctx context.Context, b *testing.B, rdb *redis.Client) int64 {
	s, err := rdb.Info(ctx, "memory").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.SplitSeq(s, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
	}
	b.Fatal("INFO memory has no used_memory")
	return 0
}

// qbMem is the memory per stored item by kind of key, in bytes.
type qbMem struct{ hash, row, history, zsets, outbox float64 }

// qbMemory measures the city's keys with MEMORY USAGE: the item hashes,
// packed rows and history lists of a 1% sample (at least 200), every other
// key in full.
func qbMemory(ctx context.Context, b *testing.B, rdb *redis.Client, prefix string, total int) qbMem {
	var m qbMem
	var nHash, nRow, nHist int
	var sumHash, sumRow, sumHist, sumZ, sumOut int64
	every := 100 // 1%
	if total < 20_000 {
		every = max(1, total/200)
	}
	var seen int
	iter := rdb.Scan(ctx, 0, prefix+"*", 5000).Iterator()
	var pending []string
	flush := func() {
		if len(pending) == 0 {
			return
		}
		pipe := rdb.Pipeline()
		cmds := make([]*redis.IntCmd, len(pending))
		for i, k := range pending {
			cmds[i] = pipe.MemoryUsage(ctx, k, 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			b.Fatal(err)
		}
		for i, k := range pending {
			n := cmds[i].Val()
			rest := strings.TrimPrefix(k, prefix)
			switch {
			case strings.HasPrefix(rest, "item:"):
				sumHash += n
				nHash++
			case strings.HasPrefix(rest, "row:"):
				sumRow += n
				nRow++
			case strings.HasPrefix(rest, "history:"):
				sumHist += n
				nHist++
			case rest == "outbox":
				sumOut += n
			default:
				sumZ += n
			}
		}
		pending = pending[:0]
	}
	for iter.Next(ctx) {
		k := iter.Val()
		rest := strings.TrimPrefix(k, prefix)
		if strings.HasPrefix(rest, "item:") || strings.HasPrefix(rest, "row:") || strings.HasPrefix(rest, "history:") {
			seen++
			if seen%every != 0 {
				continue
			}
		}
		pending = append(pending, k)
		if len(pending) >= 500 {
			flush()
		}
	}
	if err := iter.Err(); err != nil {
		b.Fatal(err)
	}
	flush()
	if nHash > 0 {
		m.hash = float64(sumHash) / float64(nHash)
	}
	if nRow > 0 {
		m.row = float64(sumRow) / float64(nRow)
	}
	if nHist > 0 {
		m.history = float64(sumHist) / float64(nHist)
	}
	m.zsets = float64(sumZ) / float64(total)
	m.outbox = float64(sumOut) / float64(total)
	b.Logf("MEMORY USAGE sample: %d item hashes, %d histories; index zsets %d B in total, outbox %d B", nHash, nHist, sumZ, sumOut)
	return m
}

// qbDeletePrefix deletes every key under prefix (SCAN + UNLINK).
func qbDeletePrefix(ctx context.Context, rdb *redis.Client, prefix string) (int, error) {
	n := 0
	iter := rdb.Scan(ctx, 0, prefix+"*", 10000).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) >= 5000 {
			if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
				return n, err
			}
			n += len(batch)
			batch = batch[:0]
		}
	}
	if err := iter.Err(); err != nil {
		return n, err
	}
	if len(batch) > 0 {
		if err := rdb.Unlink(ctx, batch...).Err(); err != nil {
			return n, err
		}
		n += len(batch)
	}
	return n, nil
}

// qbLoad ingests total items, the first nOpen of them open, with
// IngestBatch in batches of 1000 from several goroutines.
func qbLoad(ctx context.Context, b *testing.B, st *store.Store, clocks *workflow.Clocks, opds []string, total, nOpen int, now time.Time) int {
	const batch = 1000
	const workers = 6
	jobs := make(chan int)
	var mu sync.Mutex
	var firstErr error
	loaded := 0
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			g := newQBGen(uint64(w)+1, clocks, opds, now)
			ins := make([]store.Ingest, 0, batch)
			for from := range jobs {
				ins = ins[:0]
				for i := from; i < min(from+batch, total); i++ {
					ins = append(ins, g.item(i, i < nOpen))
				}
				res, errs := st.IngestBatch(ctx, ins)
				n := 0
				for i, err := range errs {
					if err == nil && res[i] == store.Stored {
						n++
					} else if err == nil {
						err = fmt.Errorf("item %d: %s", i, res[i])
					}
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
					}
				}
				mu.Lock()
				loaded += n
				mu.Unlock()
			}
		})
	}
	for from := 0; from < total; from += batch {
		jobs <- from
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	return loaded
}

// qbGen makes realistic posts: Indonesian complaint texts of 150-300
// bytes, OPDs with a skewed spread (the first OPD gets ~20% of the open
// items), ages, deadlines from the city's clocks.
type qbGen struct {
	r      *rand.Rand
	clocks *workflow.Clocks
	opds   []string
	cum    []float64 // cumulative OPD weights of open items
	now    time.Time
	seed   uint64
}

func newQBGen(seed uint64, clocks *workflow.Clocks, opds []string, now time.Time) *qbGen {
	g := &qbGen{r: rand.New(rand.NewPCG(seed, 0x7a6e)), clocks: clocks, opds: opds, now: now, seed: seed}
	// The first OPD 20%; the others share 80% by 1/rank.
	w := make([]float64, len(opds))
	var rest float64
	for i := 1; i < len(opds); i++ {
		w[i] = 1 / float64(i)
		rest += w[i]
	}
	w[0] = 0.2
	for i := 1; i < len(opds); i++ {
		w[i] = 0.8 * w[i] / rest
	}
	var c float64
	for _, x := range w {
		c += x
		g.cum = append(g.cum, c)
	}
	return g
}

func (g *qbGen) opd(open bool) string {
	if !open {
		return g.opds[g.r.IntN(len(g.opds))]
	}
	x := g.r.Float64()
	i, _ := slices.BinarySearch(g.cum, x)
	return g.opds[min(i, len(g.opds)-1)]
}

func (g *qbGen) pick(xs []string) string { return xs[g.r.IntN(len(xs))] }

func (g *qbGen) text() (string, string, string) {
	kec := []string{"Bekasi Timur", "Bekasi Barat", "Bekasi Utara", "Bekasi Selatan", "Medan Satria", "Rawalumbu",
		"Bantargebang", "Pondok Gede", "Jatiasih", "Jatisampurna", "Mustikajaya", "Pondok Melati"}
	kel := []string{"Margahayu", "Aren Jaya", "Duren Jaya", "Harapan Jaya", "Kayuringin Jaya", "Pekayon Jaya", "Jakamulya",
		"Bojong Rawalumbu", "Ciketing Udik", "Jatibening", "Jatimakmur", "Jatirangga", "Mustikasari", "Jatiwarna"}
	what := []string{"jalan berlubang cukup dalam", "sampah menumpuk sudah seminggu tidak diangkut", "lampu PJU mati total",
		"saluran air mampet dan meluap ke jalan", "pohon tumbang menutup separuh jalan", "air PDAM tidak mengalir sejak pagi",
		"antrean di puskesmas sangat panjang", "pelayanan KTP elektronik belum selesai", "parkir liar bikin macet",
		"genangan air setinggi lutut setelah hujan", "bau menyengat dari TPS", "lampu lalu lintas tidak berfungsi",
		"PKL menutup trotoar", "banjir masuk ke rumah warga", "bangunan liar di bantaran kali"}
	where := []string{"di Jl. Ahmad Yani", "di Jl. Juanda", "depan pasar", "dekat sekolah", "di gang RT 03/RW 07",
		"di perumahan", "dekat stasiun", "di pertigaan", "samping masjid", "depan kantor kelurahan"}
	more := []string{"Sudah dilaporkan ke RT tapi belum ada tindakan.", "Mohon segera ditindaklanjuti, sangat membahayakan pengendara motor.",
		"Anak-anak sekolah jadi susah lewat.", "Kejadian ini sudah berulang kali.", "Warga sudah resah, tolong dicek ke lokasi.",
		"Foto terlampir.", "Kapan mau diperbaiki pak?", "Mohon perhatiannya dari dinas terkait.", "Sudah hampir dua minggu seperti ini."}
	tags := []string{"#bekasi", "#kotabekasi", "#bekasikeren", "#lapor", "#warga"}
	k, l := g.pick(kec), g.pick(kel)
	var sb strings.Builder
	sb.WriteString("@humasbekasikota ")
	sb.WriteString(g.pick([]string{"Pak, ", "Min, ", "Selamat pagi, ", "Tolong ", "Lapor, "}))
	sb.WriteString(g.pick(what) + " " + g.pick(where) + ", kel. " + l + ", kec. " + k + ". ")
	target := 150 + g.r.IntN(151)
	for sb.Len() < target-40 {
		sb.WriteString(g.pick(more) + " ")
	}
	sb.WriteString(g.pick(tags) + " " + g.pick(tags))
	s := sb.String()
	if len(s) > 300 {
		s = s[:300]
		for !strings.HasSuffix(s, " ") && len(s) > 150 {
			s = s[:len(s)-1]
		}
	}
	return strings.TrimSpace(s), k, l
}

func (g *qbGen) item(i int, open bool) store.Ingest {
	platforms := []tanggap.Platform{tanggap.PlatformX, tanggap.PlatformX, tanggap.PlatformInstagram, tanggap.PlatformFacebook}
	p := platforms[g.r.IntN(len(platforms))]
	id := fmt.Sprintf("18%09d", i)
	var created time.Time
	if open {
		// Open items: most recent, a tail of old ones (overdue).
		age := time.Duration(g.r.ExpFloat64() * float64(36*time.Hour))
		created = g.now.Add(-min(age, 30*24*time.Hour))
	} else {
		created = g.now.Add(-time.Duration(g.r.Int64N(int64(365 * 24 * time.Hour))))
	}
	opd := g.opd(open)
	text, kec, kel := g.text()
	kind := tanggap.KindComplaint
	if g.r.IntN(100) < 15 {
		kind = tanggap.KindInfo
	}
	urgent := g.r.IntN(100) < 3
	in := store.Ingest{
		Post: tanggap.Post{Platform: p, ID: id, Text: text, Account: "humasbekasikota",
			Author: fmt.Sprintf("warga%05d", g.r.IntN(60000)), AuthorID: strconv.Itoa(100000 + g.r.IntN(900000)),
			AuthorName:  g.pick([]string{"Budi Santoso", "Siti Rahma", "Agus W.", "Dewi Lestari", "Rudi Hartono", "Nur Aini"}),
			Interaction: tanggap.InteractionMention, ThreadID: id, URL: "https://x.com/warga/status/" + id,
			CreatedAt: created, CapturedAt: created.Add(time.Duration(30+g.r.IntN(600)) * time.Second)},
		Kind: kind, OPD: opd, ClassifierOPD: opd, Confidence: 0.6 + 0.4*g.r.Float64(), Urgent: urgent,
		Features:  []string{"kw:" + strings.Fields(text)[2], "place:" + strings.ToLower(kel)},
		Kecamatan: kec, Kelurahan: kel, Topic: "infrastruktur", Fingerprint: fmt.Sprintf("%016x", g.r.Uint64()),
		Deadlines: g.clocks.Deadlines(created, kind, opd, urgent),
	}
	switch {
	case open:
		in.Queued = true
		switch x := g.r.IntN(10); {
		case x < 7:
			in.Status = tanggap.StatusAssigned
		case x < 9:
			in.Status = tanggap.StatusInProgress
		default:
			in.Status = tanggap.StatusNew
		}
	case g.r.IntN(100) < 20:
		in.Status, in.Kind, in.OPD, in.ClassifierOPD, in.Fingerprint = tanggap.StatusNotComplaint, tanggap.KindNoise, "", "", ""
		in.Deadlines = tanggap.Deadlines{}
	default:
		in.Status = tanggap.StatusClosed
	}
	return in
}
