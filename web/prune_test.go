package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/store"
	"github.com/tanggap/tanggap/store/storetest"
)

// A prune keeps what a kept report's pages link to, however long ago it
// ended: the first report of the report's near-duplicate cluster, and the
// complaint a person marked it a duplicate of (a citizen repeating today
// what was answered and closed two months ago). Every item link of the
// pages then opens, later reports join the kept cluster, and a rebuild
// from the events topic gives the same pages and counts.
func TestPruneKeepsWhatDuplicatesLinkTo(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	put := f.placed(t, "lingkungan_hidup")
	const day = 24 * time.Hour
	// closed marks an item answered and closed age before the fixture's now.
	closed := func(id string, age time.Duration) {
		t.Helper()
		at := strconv.FormatInt(f.now.Add(-age).UnixMilli(), 10)
		if _, err := f.st.Apply(ctx, store.Change{ID: id, Version: -1, Actor: "t", Action: "set",
			Set: map[string]string{"status": string(tanggap.StatusClosed), "fr_ms": at, "closed_ms": at}}); err != nil {
			t.Fatal(err)
		}
	}
	// A flood reported three times within the clustering window: the first
	// and second reports were answered and closed, the third never was.
	// (The store's rule has no minimum age: tanggap prune's 90 days are a
	// guard of the command; this cluster is days old so that a report of
	// today can still join it below.)
	const flood = "banjir setinggi lutut di jl mawar jatimekar, saluran mampet tidak pernah dibersihkan"
	put("940", "Jatimekar", "", flood, 4*day)
	put("941", "Jatimekar", "x:940", flood+" sejak kemarin", 4*day-time.Hour)
	put("942", "Jatimekar", "x:940", "jl mawar jatimekar banjir lagi setinggi lutut, saluran mampet", 2*day+12*time.Hour)
	closed("x:940", 3*day)
	closed("x:941", 3*day)
	// A complaint answered and closed two months ago, repeated today by
	// another citizen: DLH marks the new report a duplicate of the old one.
	put("950", "Margahayu", "", "pju padam sepanjang jl juanda depan stasiun", 60*day)
	closed("x:950", 59*day)
	put("951", "Margahayu", "", "lampu jalan jl juanda depan stasiun mati lagi", 2*time.Hour)
	dlh := f.client(t, "dlh")
	if code, body := post(t, dlh, f.srv.URL+"/item/x:951/duplicate", url.Values{"version": {"1"}, "of": {"x:950"}}); code != http.StatusSeeOther {
		t.Fatalf("mark x:951 a duplicate of x:950: %d %s", code, body)
	}
	evs := storetest.RelayAll(t, f.st)

	cutoff := f.now.Add(-day)
	res, err := f.st.Prune(ctx, cutoff, false)
	if err != nil {
		t.Fatal(err)
	}
	// x:941 goes; x:940 and x:950 stay for the reports that link to them.
	if want := (store.PruneResult{Pruned: 1, Open: 2, Joined: 1, Originals: 1}); res != want {
		t.Errorf("prune: %+v, want %+v", res, want)
	}
	for _, id := range []string{"x:940", "x:942", "x:950", "x:951"} {
		if _, err := f.st.Item(ctx, id); err != nil {
			t.Errorf("%s after the prune: %v", id, err)
		}
	}
	if _, err := f.st.Item(ctx, "x:941"); tanggap.ErrorCode(err) != tanggap.ENOTFOUND {
		t.Errorf("x:941 after the prune: %v, want not found", err)
	}

	// The pages as DLH sees them: each item link they hold opens.
	pages := func() map[string]string {
		t.Helper()
		out := map[string]string{}
		for _, u := range []string{"/antrian/lingkungan_hidup", "/item/x:940", "/item/x:942", "/item/x:950", "/item/x:951"} {
			code, body := get(t, dlh, f.srv.URL+u)
			if code != http.StatusOK {
				t.Errorf("%s: %d", u, code)
			}
			out[u] = body
		}
		linked := map[string]bool{}
		for _, body := range out {
			for _, m := range regexp.MustCompile(`href="(/item/[^"?]+)"`).FindAllStringSubmatch(body, -1) {
				linked[m[1]] = true
			}
		}
		for u := range linked {
			if code, _ := get(t, dlh, f.srv.URL+u); code != http.StatusOK {
				t.Errorf("a page links to %s, which answers %d", u, code)
			}
		}
		return out
	}
	got := pages()
	hasAll(t, "the duplicate's page", got["/item/x:951"], []string{"Duplikat dari", `href="/item/x:950"`, "pju padam"}, nil)
	hasAll(t, "the kept report's page", got["/item/x:942"], []string{"Laporan serupa yang pertama diterima", `href="/item/x:940"`}, nil)
	// The report pruned from its list is still counted; the page does not
	// say it joined before the list was kept (a rebuild will not list it).
	hasAll(t, "the kept first report's page", got["/item/x:940"], []string{"Laporan serupa yang bergabung (1)", `href="/item/x:942"`,
		"1 laporan yang bergabung tidak tercantum", "atau dihapus karena berakhir sebelum batas penyimpanan"}, []string{`href="/item/x:941"`})
	hasAll(t, "the queue", got["/antrian/lingkungan_hidup"], []string{`<a href="/item/x:940">bagian dari kelompok laporan serupa</a>`}, nil)
	reporters := func(want int) {
		t.Helper()
		if it, err := f.st.Item(ctx, "x:940"); err != nil || it.Reporters != want || it.ClusterID != "x:940" {
			t.Errorf("the first report: %v, want its cluster with %d reporters", err, want)
		}
	}
	reporters(3) // the pruned report still reported it

	// A report of today joins the cluster through the kept third report,
	// as triage finds it.
	in := store.Ingest{Post: tanggap.Post{Platform: tanggap.PlatformX, ID: "943", Text: flood, Author: "w943", Account: "humasbekasikota",
		CreatedAt: f.now.Add(-time.Hour), CapturedAt: f.now.Add(-time.Hour), ThreadID: "943"},
		OPD: "lingkungan_hidup", Queued: true, Kelurahan: "Jatimekar"}
	in.Fingerprint = strings.Repeat("0", 128)
	cands, err := f.st.NearCandidates(ctx, []store.Ingest{in})
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(cands[0], func(c store.NearCandidate) bool { return c.ID == "x:942" })
	if i < 0 || cands[0][i].ClusterID != "x:940" || slices.ContainsFunc(cands[0], func(c store.NearCandidate) bool { return c.ID == "x:941" }) {
		t.Fatalf("candidates of a report of today: %+v, want x:942 of the cluster x:940 and not the pruned x:941", cands[0])
	}
	put("943", "Jatimekar", cands[0][i].ClusterID, flood, time.Hour)
	reporters(4)
	evs = append(evs, storetest.RelayAll(t, f.st)...)
	want := pages()

	// A rebuild from the events topic into a Redis that lost the city's
	// items (the users and sessions stay, for the pages) leaves out what
	// the prune removed, and only that.
	keys, err := f.rdb.Keys(ctx, "tanggap:{test}:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		rest := strings.TrimPrefix(k, "tanggap:{test}:")
		if !strings.HasPrefix(rest, "user") && !strings.HasPrefix(rest, "session:") {
			f.rdb.Del(ctx, k)
		}
	}
	if r, err := f.st.Restore(ctx, evs, cutoff); err != nil || r.Pruned != 1 {
		t.Fatalf("rebuild: %+v %v, want x:941 pruned again", r, err)
	}
	reporters(4)
	if d := cmp.Diff(want, pages()); d != "" {
		t.Errorf("the pages after a rebuild (-pruned +rebuilt):\n%s", d)
	}
}
