package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/redis/go-redis/v9"
	"github.com/tanggap/tanggap"
)

// pack builds a packed row of a map of fields, in repFields order.
func pack(m map[string]string) string {
	vals := make([]string, len(repFields))
	for i, f := range repFields {
		vals[i] = m[f]
	}
	return packRow(vals)
}

// A packed row decoded in place gives the item the whole hash gives, for
// every field the row carries, including odd values (colons and digits in
// texts, unparsable numbers, "0" instants).
func TestDecodeRowMatchesHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []string{"", "0", "1", "x", "12:34", "3:abc", "1772298043000", "1772298043000x", "-5", "0.75",
		"teks: dengan 12:34 titik dua\x1e dan kontrol", "null", `["a","b"]`, "9999999999999999999999"}
	for i := 0; i < 500; i++ {
		m := map[string]string{}
		for _, f := range repFields {
			m[f] = values[rng.IntN(len(values))]
		}
		row := pack(m)
		var d itemDecoder
		var got tanggap.Item
		if !decodeRow(row, &d, &got) {
			t.Fatalf("row %q does not decode", row)
		}
		want := decodeItem(m)
		if diff := cmp.Diff(*want, got); diff != "" {
			t.Fatalf("decodeRow differs from decodeItem (-hash +row):\n%s", diff)
		}
		um := map[string]string{}
		if !unpackRow(row, um) {
			t.Fatalf("row %q does not unpack", row)
		}
		if diff := cmp.Diff(*want, *decodeItem(um)); diff != "" {
			t.Fatalf("unpackRow differs (-hash +row):\n%s", diff)
		}
	}
	good := pack(map[string]string{"id": "x:1", "text": "halo"})
	// A row packed before reopens_ms joined its fields still decodes.
	legacy := strings.TrimSuffix(good, "0:")
	for _, row := range []string{good, legacy} {
		var d itemDecoder
		var it tanggap.Item
		m := map[string]string{}
		if !decodeRow(row, &d, &it) || it.ID != "x:1" || it.Text != "halo" || !unpackRow(row, m) || m["text"] != "halo" {
			t.Errorf("row %q: decoded %v, unpacked %v", row, it.ID, m)
		}
	}
	for _, bad := range []string{"", good[:len(good)-1], good + "0:", "x" + good, strings.Replace(good, "4:halo", "5:halo", 1),
		strings.Replace(good, "4:halo", "-4:halo", 1), strings.Replace(good, "4:halo", "99999999999:halo", 1)} {
		var d itemDecoder
		var it tanggap.Item
		if decodeRow(bad, &d, &it) {
			t.Errorf("malformed row %q decoded", bad)
		}
	}
}

// ScanCreated gives every item of [from, to) once, in platform time then id
// order, whatever the spread of platform times; an item without a packed
// row (written before rows were kept) keeps its place; an item that
// vanished is skipped.
func TestScanCreatedOrderAndFallback(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-2 * time.Hour).Truncate(time.Second)
		var want []string
		add := func(id string, at time.Time) {
			t.Helper()
			if _, err := s.Ingest(ctx, citizen(id, "aduan "+id, at)); err != nil {
				t.Fatal(err)
			}
		}
		add("before", t0.Add(-time.Millisecond))
		for i := 0; i < 40; i++ {
			at := t0.Add(time.Duration(i*i) * time.Second) // spread unevenly
			if i >= 10 && i < 30 {
				at = t0.Add(7 * time.Minute) // twenty at the same instant
			}
			add(fmt.Sprintf("%03d", i), at)
		}
		add("at_to", t0.Add(time.Hour))
		ids, err := s.rdb.ZRangeByScore(ctx, s.k.items(), &redis.ZRangeBy{Min: ms(t0), Max: "(" + ms(t0.Add(time.Hour))}).Result()
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, ids...)
		if len(want) != 40 {
			t.Fatalf("%d ids in range", len(want))
		}
		// An item of before packed rows had its row as a field of the
		// hash: it has no row key. Another vanished since the range was
		// read (its id stays in the set).
		if err := s.rdb.Del(ctx, s.k.row("x:015")).Err(); err != nil {
			t.Fatal(err)
		}
		if err := s.rdb.Del(ctx, s.k.item("x:020"), s.k.row("x:020")).Err(); err != nil {
			t.Fatal(err)
		}
		want = slicesDelete(want, "x:020")
		check := func(name string, got []tanggap.Item, want []string) {
			t.Helper()
			var ids []string
			for _, it := range got {
				ids = append(ids, it.ID)
				if it.Text != "aduan "+strings.TrimPrefix(it.ID, "x:") {
					t.Errorf("%s: %s has text %q", name, it.ID, it.Text)
				}
			}
			if diff := cmp.Diff(want, ids); diff != "" {
				t.Fatalf("%s: ids (-want +got):\n%s", name, diff)
			}
		}
		for _, batch := range []int64{1, 3, 7, 100} {
			var got []tanggap.Item
			err := s.ScanCreated(ctx, t0, t0.Add(time.Hour), batch, func(its []tanggap.Item) error {
				got = append(got, its...)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("ScanCreated batch %d", batch), got, want)

			// AppendCreated: the same items after what dst holds, those keep
			// refuses dropped, whatever the window size.
			head := []tanggap.Item{{ID: "x:head", Text: "aduan head"}}
			odd := func(it *tanggap.Item) bool { n, _ := strconv.Atoi(strings.TrimPrefix(it.ID, "x:")); return n%2 == 1 }
			all, err := s.AppendCreated(ctx, "", t0, t0.Add(time.Hour), batch, head, nil)
			if err != nil {
				t.Fatal(err)
			}
			check(fmt.Sprintf("AppendCreated batch %d", batch), all, append([]string{"x:head"}, want...))
			some, err := s.AppendCreated(ctx, "", t0, t0.Add(time.Hour), batch, nil, odd)
			if err != nil {
				t.Fatal(err)
			}
			var wantOdd []string
			for _, id := range want {
				if odd(&tanggap.Item{ID: id}) {
					wantOdd = append(wantOdd, id)
				}
			}
			check(fmt.Sprintf("AppendCreated odd batch %d", batch), some, wantOdd)
		}
		// An error from fn stops the scan with that error.
		stop := fmt.Errorf("stop")
		calls := 0
		if err := s.ScanCreated(ctx, t0, t0.Add(time.Hour), 2, func([]tanggap.Item) error { calls++; return stop }); err != stop || calls != 1 {
			t.Errorf("fn error: %v after %d calls", err, calls)
		}
		// A cancelled context ends the scan.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := s.AppendCreated(cctx, "", t0, t0.Add(time.Hour), 2, nil, nil); err == nil {
			t.Error("a cancelled scan returned no error")
		}
		// An empty range and a range with nothing in it.
		for _, r := range [][2]time.Time{{t0, t0}, {t0.Add(-time.Hour), t0.Add(-time.Minute)}} {
			if err := s.ScanCreated(ctx, r[0], r[1], 10, func(its []tanggap.Item) error {
				t.Errorf("items in an empty range: %d", len(its))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
	})
}

func slicesDelete(s []string, v string) []string {
	out := s[:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// OpenOutside gives the open items of the slots outside [from, to) only,
// each with the platform time and current clock its item holds.
func TestOpenOutside(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		from := c.Now().Add(-48 * time.Hour)
		to := c.Now().Add(-24 * time.Hour)
		in := func(id, opd string, at time.Time) {
			t.Helper()
			p := citizen(id, "aduan", at)
			p.OPD = opd
			if _, err := s.Ingest(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		in("old", "bina_marga_sda", from.Add(-time.Hour))
		in("inside", "bina_marga_sda", from.Add(time.Hour))
		in("at_from", "bina_marga_sda", from)
		in("at_to", "bina_marga_sda", to)
		in("after", "bina_marga_sda", to.Add(time.Hour))
		in("other_opd", "perhubungan", from.Add(-time.Hour))
		unrouted := citizen("unrouted", "aduan", from.Add(-2*time.Hour))
		unrouted.OPD, unrouted.Status = "", tanggap.StatusNew
		if _, err := s.Ingest(ctx, unrouted); err != nil {
			t.Fatal(err)
		}
		in("closed_old", "bina_marga_sda", from.Add(-3*time.Hour))
		if _, err := s.Apply(ctx, Change{ID: "x:closed_old", Version: -1, Actor: "t", Action: "archive",
			Set: map[string]string{"status": string(tanggap.StatusNotComplaint), "archive_reason": "spam"}}); err != nil {
			t.Fatal(err)
		}
		in("held", "bina_marga_sda", from.Add(-4*time.Hour))
		if _, err := s.Apply(ctx, Change{ID: "x:held", Version: -1, Actor: "t", Action: "hold",
			Set: map[string]string{"status": string(tanggap.StatusOnHold), "held_ms": strconv.FormatInt(c.Now().UnixMilli(), 10)}}); err != nil {
			t.Fatal(err)
		}
		type open struct {
			ID, OPD                    string
			Created, Deadline, DueSoon time.Time
		}
		var got []open
		if err := s.OpenOutside(ctx, []string{"", "bina_marga_sda"}, from, to, func(id, opd string, created, due, soon time.Time) {
			got = append(got, open{id, opd, created, due, soon})
		}); err != nil {
			t.Fatal(err)
		}
		var want []open
		for _, id := range []string{"x:unrouted", "x:held", "x:old", "x:at_to", "x:after"} {
			it, err := s.Item(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			want = append(want, open{it.ID, it.OPD, it.CreatedAt, it.Deadline, it.DueSoonAt})
		}
		if want[1].Deadline != (time.Time{}) || want[2].Deadline.IsZero() || want[2].DueSoon.IsZero() {
			t.Fatalf("clocks: held %v, old %v/%v", want[1].Deadline, want[2].Deadline, want[2].DueSoon)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateApproxTime(0)); diff != "" {
			t.Errorf("open items outside (-want +got):\n%s", diff)
		}
		if err := s.OpenOutside(ctx, nil, from, to, func(id, _ string, _, _, _ time.Time) { t.Errorf("no slots: %s", id) }); err != nil {
			t.Error(err)
		}
	})
}

// AppendCreated with an OPD reads the items that have been in that OPD:
// one routed elsewhere since is read from both OPDs' sets (with its
// current OPD), one never in it is not read.
func TestAppendCreatedOPD(t *testing.T) {
	backends(t, func(t *testing.T, s *Store, c *fakeClock) {
		ctx := context.Background()
		t0 := c.Now().Add(-time.Hour)
		for i, opd := range []string{"bina_marga_sda", "perhubungan", "bina_marga_sda", ""} {
			in := citizen(strconv.Itoa(700+i), "aduan", t0.Add(time.Duration(i)*time.Minute))
			in.OPD = opd
			if _, err := s.Ingest(ctx, in); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.Apply(ctx, Change{ID: "x:702", Version: -1, Actor: "t", Action: "reassign",
			Set: map[string]string{"opd": "perhubungan"}}); err != nil {
			t.Fatal(err)
		}
		read := func(opd string) []string {
			t.Helper()
			its, err := s.AppendCreated(ctx, opd, t0, t0.Add(time.Hour), 2, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, it := range its {
				out = append(out, it.ID+"@"+it.OPD)
			}
			return out
		}
		if diff := cmp.Diff([]string{"x:700@bina_marga_sda", "x:702@perhubungan"}, read("bina_marga_sda")); diff != "" {
			t.Errorf("bina_marga_sda (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]string{"x:701@perhubungan", "x:702@perhubungan"}, read("perhubungan")); diff != "" {
			t.Errorf("perhubungan (-want +got):\n%s", diff)
		}
		if got := read(""); len(got) != 4 {
			t.Errorf("every item: %v", got)
		}
	})
}
