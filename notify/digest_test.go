package notify

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/calendar"
	"github.com/tanggap/tanggap/internal/testenv"
	"github.com/tanggap/tanggap/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// The production types fit the interfaces declared here.
var (
	_ Source     = (*store.Store)(nil)
	_ Calendar   = (*calendar.Calendar)(nil)
	_ Channel    = (*SMTP)(nil)
	_ Recipients = (*StaticRecipients)(nil)
	_ Ledger     = (*MemoryLedger)(nil)
)

const testBase = "https://tanggap.example.go.id"

// fakeSource is the store's view of open items, in memory.
type fakeSource struct {
	mu    sync.Mutex
	slots map[string][]string
	items map[string]tanggap.Item
	err   error
}

func (f *fakeSource) add(slot string, it tanggap.Item) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.items == nil {
		f.slots, f.items = map[string][]string{}, map[string]tanggap.Item{}
	}
	f.slots[slot] = append(f.slots[slot], it.ID)
	f.items[it.ID] = it
}

func (f *fakeSource) OpenIDs(_ context.Context, opd string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.slots[opd]), f.err
}

func (f *fakeSource) ItemsByID(_ context.Context, ids []string) ([]tanggap.Item, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []tanggap.Item
	for _, id := range ids {
		if it, ok := f.items[id]; ok {
			out = append(out, it)
		}
	}
	return out, nil
}

// plainCal hides the calendar's String and MissingYearWarning, which change
// with the holiday table, from golden files.
type plainCal struct{ Calendar }

func testCalendar(t *testing.T) *calendar.Calendar {
	t.Helper()
	cal, err := calendar.Default(calendar.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	return cal
}

// fixture is a city with seven digest slots on Wednesday 8 July 2026, a
// month without holidays, at 07:00 WIB.
type fixture struct {
	cal    *calendar.Calendar
	now    time.Time
	src    *fakeSource
	rcpt   *StaticRecipients
	ledger *MemoryLedger
	srv    *smtpd
	smtp   *SMTP
	reg    *prometheus.Registry
	logs   *testenv.Buffer // the logs of digests running side by side
	cfg    DigestConfig
}

const hostileText = "<script>alert(1)</script>\r\nBcc: evil@x.test\r\n\r\nPPID: abaikan surel ini"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cal := testCalendar(t)
	jkt := cal.Location()
	at := func(day, hour int) time.Time { return time.Date(2026, 7, day, hour, 0, 0, 0, jkt) }
	f := &fixture{cal: cal, now: at(8, 7), src: &fakeSource{}, reg: prometheus.NewRegistry(), logs: &testenv.Buffer{}}
	f.ledger = NewMemoryLedger(func() time.Time { return f.now })
	open := func(id, opd string, created, due, soon time.Time, clock tanggap.Clock, text string) tanggap.Item {
		return tanggap.Item{ID: id, Platform: tanggap.PlatformX, OPD: opd, Status: tanggap.StatusAssigned, Kind: tanggap.KindComplaint,
			CreatedAt: created, Deadline: due, DueSoonAt: soon, Clock: clock, Text: text, Author: "warga", Queued: true}
	}
	// DLH: one overdue by 0 HK (admin), one due soon with hostile text and
	// names, one on track, one on hold past its deadline, one moved away.
	f.src.add("dlh", open("x:101", "dlh", at(6, 9), at(7, 16), at(6, 16), tanggap.ClockFollowup, "Sampah menumpuk di Jl. Contoh Raya, sudah seminggu tidak diangkut."))
	hostile := open("instagram:102", "dlh", at(7, 10), at(8, 16), at(7, 16), tanggap.ClockFirstResponse, hostileText)
	hostile.Author, hostile.AuthorName = "<b>eve</b>", "Eve\r\nBcc: evil@x.test"
	f.src.add("dlh", hostile)
	f.src.add("dlh", open("x:103", "dlh", at(7, 11), at(15, 16), at(14, 16), tanggap.ClockFollowup, "Tepat waktu"))
	held := open("x:104", "dlh", at(1, 9), at(2, 16), at(1, 16), tanggap.ClockFollowup, "Ditunda")
	held.Status = tanggap.StatusOnHold
	f.src.add("dlh", held)
	f.src.add("dlh", open("x:105", "dishub", at(1, 9), at(1, 16), at(1, 9), tanggap.ClockFollowup, "Pindah"))
	// Dishub: overdue since Friday 16:00: Monday and Tuesday, 2 HK (PPID Pelaksana).
	f.src.add("dishub", open("x:201", "dishub", at(2, 10), at(3, 16), at(2, 16), tanggap.ClockFollowup, "Lampu lalu lintas mati"))
	// Disdik: 4 HK (PPID Utama) and 0 HK.
	f.src.add("disdik", open("facebook:301", "disdik", at(1, 8), at(1, 16), at(1, 8), tanggap.ClockResolution, "PPDB"))
	f.src.add("disdik", open("facebook:302", "disdik", at(6, 8), at(7, 16), at(6, 16), tanggap.ClockFirstResponse, "Zonasi"))
	// Bapenda: only due soon: a reminder to its admins.
	f.src.add("bapenda", open("youtube:401", "bapenda", at(7, 9), at(8, 16), at(7, 16), tanggap.ClockFirstResponse, "PBB"))
	// Dinkes: on track only.
	f.src.add("dinkes", open("x:501", "dinkes", at(7, 9), at(20, 16), at(17, 16), tanggap.ClockFollowup, "Posyandu"))
	// DPMPTSP: overdue, but nobody to tell.
	f.src.add("dpmptsp", open("x:701", "dpmptsp", at(6, 9), at(7, 16), at(6, 16), tanggap.ClockFollowup, "Izin"))
	// Unrouted: 4 HK late on the routing clock.
	f.src.add(store.Unrouted, open("x:601", "", at(1, 9), at(1, 16), at(1, 9), tanggap.ClockRouting, "Tidak jelas"))

	var err error
	f.rcpt, err = NewStaticRecipients(RecipientsConfig{
		Admins: map[string][]Address{
			"dlh": {{Name: "Admin DLH", Email: "admin.dlh@bekasikota.go.id"}}, "dishub": {{Email: "admin.dishub@bekasikota.go.id"}},
			"disdik": {{Email: "admin.disdik@bekasikota.go.id"}}, "bapenda": {{Email: "admin.bapenda@bekasikota.go.id"}},
			"dinkes": {{Email: "admin.dinkes@bekasikota.go.id"}}, store.Unrouted: {{Name: "Humas", Email: "humas@bekasikota.go.id"}},
		},
		Pelaksana: map[string][]Address{
			"dlh": {{Email: "ppid.dlh@bekasikota.go.id"}}, "dishub": {{Name: "PPID\r\nBcc: evil@x.test", Email: "ppid.dishub@bekasikota.go.id"}},
			"disdik": {{Email: "ppid.disdik@bekasikota.go.id"}},
		},
		Utama: []Address{{Name: "PPID Utama", Email: "ppid.utama@bekasikota.go.id"}, {Email: "HUMAS@bekasikota.go.id"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = &smtpd{t: t}
	addr := f.srv.start()
	f.smtp = newTestSMTP(t, SMTPConfig{}, addr)
	f.cfg = DigestConfig{City: "Kota Bekasi", BaseURL: testBase + "/", OPDs: []OPD{
		{Code: "dlh", Name: "Dinas Lingkungan Hidup", Short: "DLH"},
		{Code: "dishub", Name: "Dinas Perhubungan", Short: "Dishub"},
		{Code: "disdik", Name: "Dinas Pendidikan", Short: "Disdik"},
		{Code: "bapenda", Name: "Badan Pendapatan Daerah", Short: "Bapenda"},
		{Code: "dinkes", Name: "Dinas Kesehatan", Short: "Dinkes"},
		{Code: "dpmptsp", Name: "Dinas Penanaman Modal dan PTSP", Short: "DPMPTSP"},
		{Code: store.Unrouted, Name: "Belum terdisposisi"},
	}}
	return f
}

func (f *fixture) digest(t *testing.T, ch Channel, cal Calendar) *Digest {
	t.Helper()
	if ch == nil {
		ch = f.smtp
	}
	if cal == nil {
		cal = plainCal{f.cal}
	}
	d, err := NewDigest(f.cfg, Deps{Source: f.src, Recipients: f.rcpt, Channel: ch, Ledger: f.ledger, Calendar: cal,
		Registerer: f.reg, Logger: slog.New(slog.NewTextHandler(f.logs, nil)), Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

var msgIDRE = regexp.MustCompile(`^<digest-(.+)-(\d{4}-\d\d-\d\d)@bekasikota\.go\.id>$`)

// byOPD takes the received digests apart by OPD (from the Message-ID).
func byOPD(t *testing.T, msgs []received) (map[string]received, map[string]parsedMail) {
	t.Helper()
	raw, parsed := map[string]received{}, map[string]parsedMail{}
	for _, m := range msgs {
		p := parseMail(t, m.Data)
		sub := msgIDRE.FindStringSubmatch(p.Header.Get("Message-Id"))
		if sub == nil {
			t.Fatalf("Message-ID %q", p.Header.Get("Message-Id"))
		}
		if _, dup := raw[sub[1]]; dup {
			t.Errorf("two digests for %s", sub[1])
		}
		raw[sub[1]], parsed[sub[1]] = m, p
	}
	return raw, parsed
}

func TestDigestSendNow(t *testing.T) {
	f := newFixture(t)
	d := f.digest(t, nil, nil)
	rep, err := d.SendNow(context.Background(), f.now)
	if err != nil {
		t.Fatal(err)
	}
	wantRep := Report{Day: "2026-07-08", OPDs: []OPDResult{
		{OPD: "dlh", Result: ResultSent, Level: LevelAdmin, Overdue: 1, DueSoon: 1, Recipients: 1},
		{OPD: "dishub", Result: ResultSent, Level: LevelPelaksana, Overdue: 1, Recipients: 2},
		{OPD: "disdik", Result: ResultSent, Level: LevelUtama, Overdue: 2, Recipients: 4},
		{OPD: "bapenda", Result: ResultSent, Level: LevelNone, DueSoon: 1, Recipients: 1},
		{OPD: "dinkes", Result: ResultEmpty},
		{OPD: "dpmptsp", Result: ResultNoRecipients, Level: LevelAdmin, Overdue: 1},
		{OPD: store.Unrouted, Result: ResultSent, Level: LevelUtama, Overdue: 1, Recipients: 2},
	}}
	if diff := cmp.Diff(wantRep, rep); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}

	raw, parsed := byOPD(t, f.srv.messages())
	gotTo := map[string][]string{}
	for opd, m := range raw {
		gotTo[opd] = m.To
	}
	wantTo := map[string][]string{
		"dlh":          {"admin.dlh@bekasikota.go.id"},
		"dishub":       {"admin.dishub@bekasikota.go.id", "ppid.dishub@bekasikota.go.id"},
		"disdik":       {"admin.disdik@bekasikota.go.id", "ppid.disdik@bekasikota.go.id", "ppid.utama@bekasikota.go.id", "HUMAS@bekasikota.go.id"},
		"bapenda":      {"admin.bapenda@bekasikota.go.id"},
		store.Unrouted: {"humas@bekasikota.go.id", "ppid.utama@bekasikota.go.id"},
	}
	if diff := cmp.Diff(wantTo, gotTo); diff != "" {
		t.Errorf("recipients per OPD (-want +got):\n%s", diff)
	}

	gotSubj := map[string]string{}
	for opd, p := range parsed {
		gotSubj[opd] = p.Subject
	}
	wantSubj := map[string]string{
		"dlh":          "[Tanggap] DLH: 1 aduan lewat tenggat, 1 segera jatuh tempo (Rabu, 8 Juli 2026)",
		"dishub":       "[Tanggap] Eskalasi PPID Pelaksana - Dishub: 1 aduan lewat tenggat, 0 segera jatuh tempo (Rabu, 8 Juli 2026)",
		"disdik":       "[Tanggap] Eskalasi PPID Utama - Disdik: 2 aduan lewat tenggat, 0 segera jatuh tempo (Rabu, 8 Juli 2026)",
		"bapenda":      "[Tanggap] Bapenda: 1 segera jatuh tempo (Rabu, 8 Juli 2026)",
		store.Unrouted: "[Tanggap] Eskalasi PPID Utama - Belum terdisposisi: 1 aduan lewat tenggat, 0 segera jatuh tempo (Rabu, 8 Juli 2026)",
	}
	if diff := cmp.Diff(wantSubj, gotSubj); diff != "" {
		t.Errorf("subjects (-want +got):\n%s", diff)
	}

	// Item lines: id, clock, deadline, lateness and level, age, link; worst first.
	disdik := parsed["disdik"].Text
	for _, want := range []string{
		"Tingkat eskalasi: PPID Utama\n  (ada aduan yang lewat tenggat lebih dari 3 HK)\n",
		"Dikirim kepada: Admin OPD, PPID Pelaksana, PPID Utama\n",
		"1. facebook:301\n   Penyelesaian: tenggat 1 Juli 2026 16.00 WIB, lewat 6 hari 15 jam (4 HK), eskalasi PPID Utama\n   Umur 6 hari 23 jam, dari @warga\n   Kutipan warga: \"PPDB\"\n   " + testBase + "/item/facebook:301\n",
		"2. facebook:302\n   Tanggapan pertama: tenggat 7 Juli 2026 16.00 WIB, lewat 15 jam (0 HK), eskalasi Admin OPD\n   Umur 1 hari 23 jam",
		"Antrean lengkap: " + testBase + "/antrian/disdik\n",
	} {
		if !strings.Contains(disdik, want) {
			t.Errorf("disdik digest lacks %q:\n%s", want, disdik)
		}
	}
	if !strings.Contains(parsed["dishub"].Text, "lewat 4 hari 15 jam (2 HK), eskalasi PPID Pelaksana") {
		t.Errorf("dishub digest:\n%s", parsed["dishub"].Text)
	}
	if !strings.Contains(parsed["bapenda"].Text, "Tingkat eskalasi: belum ada (pengingat)") {
		t.Errorf("bapenda digest:\n%s", parsed["bapenda"].Text)
	}
	dlh := parsed["dlh"].Text
	for _, absent := range []string{"x:103", "x:104", "x:105"} {
		if strings.Contains(dlh, absent) {
			t.Errorf("dlh digest lists %s (on track, on hold or moved)", absent)
		}
	}

	if got := testutil.ToFloat64(d.total.WithLabelValues(ResultSent)); got != 5 {
		t.Errorf("sent counter %v, want 5", got)
	}
	if !strings.Contains(f.logs.String(), `msg="digest has no recipients" opd=dpmptsp level=opd_admin`) {
		t.Errorf("logs:\n%s", f.logs)
	}
	if strings.Contains(f.logs.String(), "Sampah") {
		t.Error("citizen text in the logs")
	}
}

func TestDigestHostileText(t *testing.T) {
	f := newFixture(t)
	if _, err := f.digest(t, nil, nil).SendNow(context.Background(), f.now); err != nil {
		t.Fatal(err)
	}
	raw, parsed := byOPD(t, f.srv.messages())
	for opd, m := range raw {
		for _, a := range m.To {
			if strings.Contains(a, "evil") {
				t.Errorf("%s: envelope recipient %q", opd, a)
			}
		}
		p := parsed[opd]
		if len(p.Header["Bcc"]) != 0 || len(p.Header["Cc"]) != 0 {
			t.Errorf("%s: injected header %v", opd, p.Header)
		}
		for _, l := range strings.Split(p.Text, "\n") {
			if strings.HasPrefix(l, "Bcc:") || strings.HasPrefix(l, "PPID:") {
				t.Errorf("%s: citizen text starts a line of its own: %q", opd, l)
			}
		}
		if strings.Contains(p.HTML, "<script") || strings.Contains(p.HTML, "<b>") {
			t.Errorf("%s: unescaped HTML from citizen text:\n%s", opd, p.HTML)
		}
	}
	dlh := parsed["dlh"]
	if want := "   Kutipan warga: \"<script>alert(1)</script> Bcc: evil@x.test PPID: abaikan surel ini\"\n"; !strings.Contains(dlh.Text, want) {
		t.Errorf("plain text lacks the one-line excerpt %q:\n%s", want, dlh.Text)
	}
	if want := "dari Eve Bcc: evil@x.test @<b>eve</b>\n"; !strings.Contains(dlh.Text, want) {
		t.Errorf("plain text lacks the one-line author %q:\n%s", want, dlh.Text)
	}
	for _, want := range []string{"&lt;script&gt;alert(1)&lt;/script&gt; Bcc: evil@x.test PPID: abaikan surel ini", "Eve Bcc: evil@x.test @&lt;b&gt;eve&lt;/b&gt;",
		`<a href="` + testBase + `/item/instagram:102">instagram:102</a>`} {
		if !strings.Contains(dlh.HTML, want) {
			t.Errorf("HTML lacks %q:\n%s", want, dlh.HTML)
		}
	}
	// The PPID Pelaksana of Dishub has a hostile display name.
	to, err := parsed["dishub"].Header.AddressList("To")
	if err != nil || len(to) != 2 || to[1].Name != "PPID Bcc: evil@x.test" {
		t.Errorf("dishub To %v (%v)", to, err)
	}
}

func TestDigestGolden(t *testing.T) {
	f := newFixture(t)
	f.cfg.OPDs = f.cfg.OPDs[:1]
	if _, err := f.digest(t, nil, nil).SendNow(context.Background(), f.now); err != nil {
		t.Fatal(err)
	}
	_, parsed := byOPD(t, f.srv.messages())
	p := parsed["dlh"]
	for name, got := range map[string]string{"digest-dlh.txt": p.Text, "digest-dlh.html": p.HTML} {
		path := filepath.Join("testdata", "golden", name)
		if *update {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./notify -run Golden -update)", err)
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}

func TestDigestOncePerDay(t *testing.T) {
	f := newFixture(t)
	d := f.digest(t, nil, nil)
	ctx := context.Background()
	if _, err := d.SendNow(ctx, f.now); err != nil {
		t.Fatal(err)
	}
	first := len(f.srv.messages())
	// Later the same day, and from a second process sharing the ledger.
	for i, dd := range []*Digest{d, f.digest(t, nil, nil)} {
		rep, err := dd.SendNow(ctx, f.now.Add(5*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		if n := rep.Count(ResultSkipped); n != len(f.cfg.OPDs) {
			t.Errorf("run %d: %d skipped, want all %d: %+v", i+2, n, len(f.cfg.OPDs), rep)
		}
	}
	if n := len(f.srv.messages()); n != first {
		t.Fatalf("%d messages after the repeats, want still %d", n, first)
	}
	if got := testutil.ToFloat64(d.total.WithLabelValues(ResultSkipped)); got != float64(2*len(f.cfg.OPDs)) {
		t.Errorf("skipped counter %v", got)
	}
	// The next working day has its own digests.
	f.now = f.now.Add(24 * time.Hour)
	rep, err := d.SendNow(ctx, f.now)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Day != "2026-07-09" || rep.Count(ResultSent) != 5 {
		t.Errorf("next day: %+v", rep)
	}
}

func TestDigestConcurrentProcesses(t *testing.T) {
	f := newFixture(t)
	var wg sync.WaitGroup
	for range 4 {
		d := f.digest(t, nil, nil)
		wg.Go(func() {
			if _, err := d.SendNow(context.Background(), f.now); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	raw, _ := byOPD(t, f.srv.messages()) // fails on a duplicate
	if len(raw) != 5 {
		t.Errorf("%d digests, want 5", len(raw))
	}
}

func TestDigestFailureIsRetried(t *testing.T) {
	f := newFixture(t)
	f.srv.rejectRcpt = func(a string) bool { return a == "ppid.dishub@bekasikota.go.id" }
	f.cfg.Lease = 10 * time.Minute
	d := f.digest(t, nil, nil)
	ctx := context.Background()
	start := time.Now()
	rep, err := d.SendNow(ctx, f.now)
	if err == nil || !strings.Contains(err.Error(), "digest dishub: send: smtp rcpt ppid.dishub@bekasikota.go.id: 550") {
		t.Fatalf("SendNow error %v, want the refused recipient of dishub", err)
	}
	if time.Since(start) > 3*time.Second {
		t.Errorf("a refused recipient took %s", time.Since(start))
	}
	if rep.Count(ResultSent) != 4 || rep.Count(ResultError) != 1 {
		t.Errorf("report %+v", rep)
	}
	// While the lease runs nobody sends it; after it, the next try does.
	f.srv.rejectRcpt = nil
	f.now = f.now.Add(5 * time.Minute)
	if rep, _ := d.SendNow(ctx, f.now); rep.Count(ResultSkipped) != len(f.cfg.OPDs) {
		t.Errorf("inside the lease: %+v", rep)
	}
	f.now = f.now.Add(6 * time.Minute)
	rep, err = d.SendNow(ctx, f.now)
	if err != nil || rep.Count(ResultSent) != 1 || rep.OPDs[1].Result != ResultSent {
		t.Errorf("after the lease: %+v, %v", rep, err)
	}
	if raw, _ := byOPD(t, f.srv.messages()); len(raw) != 5 {
		t.Errorf("%d digests, want 5", len(raw))
	}
	if got := testutil.ToFloat64(d.total.WithLabelValues(ResultError)); got != 1 {
		t.Errorf("error counter %v", got)
	}
}

func TestDigestSourceError(t *testing.T) {
	f := newFixture(t)
	f.src.err = errors.New("redis down")
	rep, err := f.digest(t, nil, nil).SendNow(context.Background(), f.now)
	if err == nil || rep.Count(ResultError) != len(f.cfg.OPDs) || !strings.Contains(err.Error(), "digest dlh: open items: redis down") {
		t.Errorf("SendNow = %+v, %v", rep, err)
	}
}

func TestDigestLimitsAndCalendarLine(t *testing.T) {
	f := newFixture(t)
	f.cfg.OPDs = f.cfg.OPDs[2:3] // disdik: two overdue
	f.cfg.MaxItems = 1
	if _, err := f.digest(t, nil, f.cal).SendNow(context.Background(), f.now); err != nil {
		t.Fatal(err)
	}
	_, parsed := byOPD(t, f.srv.messages())
	text := parsed["disdik"].Text
	for _, want := range []string{"Lewat tenggat: 2 aduan", "1. facebook:301", "... dan 1 aduan lainnya di antrean.", f.cal.String()} {
		if !strings.Contains(text, want) {
			t.Errorf("digest lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "facebook:302") {
		t.Errorf("digest lists more than MaxItems:\n%s", text)
	}
	if w := f.cal.MissingYearWarning(f.now); w != "" && !strings.Contains(text, "PERINGATAN: "+w) {
		t.Errorf("digest lacks the calendar warning %q", w)
	}
}

func TestDigestNoReminders(t *testing.T) {
	f := newFixture(t)
	f.cfg.OPDs = f.cfg.OPDs[3:4]             // bapenda: only due soon
	f.cfg.Ladder = Ladder{NoReminders: true} // default steps
	rep, err := f.digest(t, nil, nil).SendNow(context.Background(), f.now)
	if err != nil || rep.OPDs[0].Result != ResultEmpty || len(f.srv.messages()) != 0 {
		t.Errorf("SendNow = %+v, %v; %d messages", rep, err, len(f.srv.messages()))
	}
}

func TestNewDigestRejects(t *testing.T) {
	f := newFixture(t)
	deps := Deps{Source: f.src, Recipients: f.rcpt, Channel: f.smtp, Ledger: f.ledger, Calendar: f.cal}
	for name, mut := range map[string]func(*DigestConfig){
		"no base":      func(c *DigestConfig) { c.BaseURL = "" },
		"js base":      func(c *DigestConfig) { c.BaseURL = "javascript:alert(1)" },
		"no OPDs":      func(c *DigestConfig) { c.OPDs = nil },
		"repeated OPD": func(c *DigestConfig) { c.OPDs = append(c.OPDs, c.OPDs[0]) },
		"bad OPD code": func(c *DigestConfig) { c.OPDs = []OPD{{Code: "a:b"}} },
		"bad time":     func(c *DigestConfig) { c.At = "7 pagi" },
		"bad ladder":   func(c *DigestConfig) { c.Ladder = Ladder{Steps: []Step{{LevelUtama, 0}, {LevelAdmin, 1}}} },
		"catch-up":     func(c *DigestConfig) { c.CatchUp = 30 * time.Hour },
	} {
		cfg := f.cfg
		mut(&cfg)
		if _, err := NewDigest(cfg, deps); err == nil {
			t.Errorf("%s: NewDigest accepted %+v", name, cfg)
		}
	}
	if _, err := NewDigest(f.cfg, Deps{Source: f.src}); err == nil {
		t.Error("NewDigest accepted missing dependencies")
	}
	// Two digests may share a registry.
	deps.Registerer = f.reg
	for range 2 {
		if _, err := NewDigest(f.cfg, deps); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDigestWindow(t *testing.T) {
	f := newFixture(t)
	d := f.digest(t, nil, f.cal)
	jkt := f.cal.Location()
	at := func(mo time.Month, day, h, m int) time.Time { return time.Date(2026, mo, day, h, m, 0, 0, jkt) }
	for _, tc := range []struct {
		now   time.Time
		start time.Time
		in    bool
	}{
		{at(7, 8, 6, 59), at(7, 8, 7, 0), false},
		{at(7, 8, 7, 0), at(7, 8, 7, 0), true},
		{at(7, 8, 15, 59), at(7, 8, 7, 0), true},
		{at(7, 8, 16, 0), at(7, 9, 7, 0), false},       // the window is 9h
		{at(7, 10, 17, 0), at(7, 13, 7, 0), false},     // Friday evening: Monday
		{at(7, 11, 10, 0), at(7, 13, 7, 0), false},     // Saturday
		{at(5, 26, 17, 0), at(5, 29, 7, 0), false},     // Idul Adha and its cuti bersama
		{at(8, 17, 8, 0), at(8, 18, 7, 0), false},      // Independence Day
		{at(7, 8, 0, 30).UTC(), at(7, 8, 7, 0), false}, // the previous evening in UTC
	} {
		start, in := d.window(tc.now)
		if !start.Equal(tc.start) || in != tc.in {
			t.Errorf("window(%s) = %s, %v; want %s, %v", tc.now.In(jkt), start.In(jkt), in, tc.start, tc.in)
		}
	}
}

// flaky fails its first n sends.
type flaky struct {
	n     atomic.Int32
	fails int32
	mu    sync.Mutex
	sent  []string
}

func (c *flaky) Send(_ context.Context, m Message) error {
	if c.n.Add(1) <= c.fails {
		return errors.New("mail server unavailable")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, m.ID)
	return nil
}

func (c *flaky) ids() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sent)
}

func TestDigestRun(t *testing.T) {
	t.Run("sends once in the window and retries failures", func(t *testing.T) {
		f := newFixture(t)
		f.now = f.now.Add(30 * time.Second)
		f.cfg.RetryEvery, f.cfg.Lease = 20*time.Millisecond, time.Millisecond
		f.ledger = NewMemoryLedger(nil) // real time, so that leases run out
		ch := &flaky{fails: 2}
		d := f.digest(t, ch, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- d.Run(ctx) }()
		deadline := time.Now().Add(5 * time.Second)
		for len(ch.ids()) < 5 && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond) // room for a wrong extra send
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run returned %v", err)
		}
		got := ch.ids()
		slices.Sort(got)
		want := []string{"digest-_unrouted-2026-07-08", "digest-bapenda-2026-07-08", "digest-disdik-2026-07-08", "digest-dishub-2026-07-08", "digest-dlh-2026-07-08"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("sent (-want +got):\n%s", diff)
		}
		if !strings.Contains(f.logs.String(), `msg="digest run failed"`) {
			t.Errorf("the failed first round is not logged:\n%s", f.logs)
		}
	})
	t.Run("nothing on a Sunday", func(t *testing.T) {
		f := newFixture(t)
		f.now = time.Date(2026, 7, 12, 10, 0, 0, 0, f.cal.Location())
		ch := &flaky{}
		d := f.digest(t, ch, nil)
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := d.Run(ctx); err != nil {
			t.Errorf("Run returned %v", err)
		}
		if n := len(ch.ids()); n != 0 {
			t.Errorf("%d digests on a Sunday", n)
		}
	})
}
