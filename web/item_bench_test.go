package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/internal/testenv"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/triage/classify"
	"github.com/tanggap/tanggap/workflow"
)

// BenchmarkItemPageRedis measures the item page on the real redis-server
// at TANGGAP_TEST_REDIS_ADDR, through the real handler with a session:
// "similar" is a DLH report whose place has full near-duplicate slots (200
// reports of the OPD and 200 unrouted within the three days), so the page
// reads and compares all 400 to offer possible duplicates; "plain" is one
// without a place, which offers none. The difference is what the offer
// costs a page.
//
//	TANGGAP_TEST_REDIS_ADDR=127.0.0.1:6391 go test ./web -run '^$' -bench ItemPageRedis -benchtime 300x
func BenchmarkItemPageRedis(b *testing.B) {
	addr := testenv.RedisAddr(b)
	cfg, err := config.Load("")
	if err != nil {
		b.Fatal(err)
	}
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		b.Fatal(err)
	}
	cls, err := classify.Default(cfg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	b.Cleanup(func() { rdb.Close() })
	city := fmt.Sprintf("ibench%d", time.Now().UnixNano())
	b.Cleanup(func() { testenv.DropCity(context.Background(), rdb, city) })
	st := store.New(rdb, city, nil)
	now := time.Now()
	streets := []string{"jl. kemakmuran", "gang mawar", "jl. ahmad yani", "jl. juanda", "gang melati", "jl. pramuka"}
	issues := []string{"sampah menumpuk belum diangkut", "got mampet air meluap ke jalan", "bau busuk dari tps liar",
		"pembakaran sampah asapnya masuk rumah", "limbah pabrik bikin kali hitam", "pohon tumbang menutup jalan"}
	var batch []store.Ingest
	put := func(id, opd, place, text string, age time.Duration) {
		created := now.Add(-age)
		status := tanggap.StatusAssigned
		if opd == "" {
			status = tanggap.StatusNew
		}
		batch = append(batch, store.Ingest{Post: tanggap.Post{Platform: tanggap.PlatformX, ID: id, Text: text, Author: "w" + id,
			Account: "humasbekasikota", CreatedAt: created, CapturedAt: created, ThreadID: id, URL: "https://x.com/w/status/" + id},
			Kind: tanggap.KindComplaint, OPD: opd, Status: status, Queued: true, Kelurahan: place,
			Fingerprint: cls.Fingerprint(text).String(), Deadlines: clocks.Deadlines(created, tanggap.KindComplaint, opd, false)})
	}
	put("1", "lingkungan_hidup", "Jatimekar", "sampah menumpuk belum diangkut di gang mawar sudah seminggu, bau sampai ke rumah", 30*time.Hour)
	put("2", "lingkungan_hidup", "", "sampah menumpuk belum diangkut di gang mawar sudah seminggu, bau sampai ke rumah", 30*time.Hour)
	for i := range 400 {
		opd := "lingkungan_hidup"
		if i%2 == 1 {
			opd = ""
		}
		text := fmt.Sprintf("%s di %s rt %02d, sudah %d hari tolong segera ditangani", issues[i%len(issues)], streets[i/len(issues)%len(streets)], i%20, 1+i%9)
		put(fmt.Sprint(100+i), opd, "Jatimekar", text, time.Duration(i)*6*time.Minute)
	}
	if _, errs := st.IngestBatch(ctx, batch); errs != nil {
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := st.PutUser(ctx, store.User{Login: "ib.dlh", Name: "Admin DLH", Role: string(RoleOPDAdmin), OPD: "lingkungan_hidup"}, "kata-sandi-bench-1", true); err != nil {
		b.Fatal(err)
	}
	srv, err := New(Options{Config: cfg, Store: st, Sessions: st, Clocks: clocks, Workflow: workflow.New(st, cfg, clocks, nil),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.PutUser(ctx, store.User{Login: "ib.humas", Name: "Humas", Role: string(RolePPIDUtama)}, "kata-sandi-bench-1", true); err != nil {
		b.Fatal(err)
	}
	tok, err := st.NewSession(ctx, "ib.dlh", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	utama, err := st.NewSession(ctx, "ib.humas", time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	// similar_citywide: the PPID Utama's page reads every OPD's slot of
	// the place (the others empty here).
	for _, c := range []struct{ name, id, want, tok string }{{"similar", "x:1", "offered", tok}, {"similar_citywide", "x:1", "offered", utama}, {"plain", "x:2", "", tok}} {
		b.Run(c.name, func(b *testing.B) {
			get := func() string {
				req := httptest.NewRequest(http.MethodGet, "/item/"+c.id, nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.tok})
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET /item/%s: %d", c.id, rec.Code)
				}
				return rec.Body.String()
			}
			body := get()
			if offered := strings.Count(body, `type="hidden" name="of"`); c.want != "" && offered != similarLimit || c.want == "" && offered != 0 {
				b.Fatalf("%s offers %d similar reports", c.id, offered)
			}
			for b.Loop() {
				get()
			}
		})
	}
}
