package triage

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/segmentio/kafka-go"
	"github.com/tanggap/tanggap/bus"
	"github.com/tanggap/tanggap/store"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/workflow"
)

func mustConfig(t *testing.T) *config.Config {
	t.Helper()
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestDecide(t *testing.T) {
	cfg := mustConfig(t)
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	tr := New(cfg, clocks, NewKeywords(cfg), nil, nil, nil, nil)
	t0 := time.Date(2026, 3, 17, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		post     tanggap.Post
		kind     tanggap.Kind
		opd      string
		status   tanggap.Status
		queued   bool
		replyBy  string
		deadline time.Duration
	}{
		{"complaint routed", tanggap.Post{Platform: tanggap.PlatformX, Author: "warga_bekasi", Text: "sampah numpuk di TPS liar dekat pasar, bau busuk bgt"},
			tanggap.KindComplaint, "lingkungan_hidup", tanggap.StatusAssigned, true, "", 24 * time.Hour},
		{"official reply", tanggap.Post{Platform: tanggap.PlatformX, Author: "humasbekasikota", Text: "Terima kasih, sudah kami teruskan"},
			tanggap.KindOfficial, "", tanggap.StatusNotComplaint, false, "city", 0},
		{"spam", tanggap.Post{Platform: tanggap.PlatformInstagram, Author: "gacor88", Text: "slot gacor maxwin hari ini"},
			tanggap.KindNoise, "", tanggap.StatusNotComplaint, false, "", 0},
		{"urgent fire", tanggap.Post{Platform: tanggap.PlatformX, Author: "warga2", Text: "kebakaran rumah di jatiasih, damkar tolong!!"},
			tanggap.KindComplaint, "damkar", tanggap.StatusAssigned, true, "", 3 * time.Hour},
		{"unsure stays new", tanggap.Post{Platform: tanggap.PlatformX, Author: "warga3", Text: "tolong dong pak, sudah lama belum ada kabar"},
			tanggap.KindComplaint, "", tanggap.StatusNew, true, "", 24 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.post.ID, tc.post.CreatedAt = "1", t0
			in := tr.Decide(tc.post)
			if in.Kind != tc.kind || in.OPD != tc.opd || in.Status != tc.status || in.Queued != tc.queued || in.ReplyBy != tc.replyBy {
				t.Fatalf("got kind=%s opd=%q status=%s queued=%v replyBy=%q features=%v",
					in.Kind, in.OPD, in.Status, in.Queued, in.ReplyBy, in.Features)
			}
			if tc.deadline > 0 && !in.Deadlines.FirstResponse.Equal(t0.Add(tc.deadline)) {
				t.Errorf("deadline %v, want T0+%v", in.Deadlines.FirstResponse, tc.deadline)
			}
			if tc.deadline > 0 && !in.Deadlines.Routing.After(in.Deadlines.FirstResponse) {
				t.Errorf("routing clock %v not after first response", in.Deadlines.Routing)
			}
		})
	}
}

// TestDecideOfficialAuthor: an official account is known by the id its
// collector resolved (ByAccount), a configured id, or a unique handle,
// never by a display name: on Facebook, where Author is one, a citizen who
// names their profile after a city handle stays a citizen.
func TestDecideOfficialAuthor(t *testing.T) {
	cfg := mustConfig(t)
	clocks, err := workflow.NewClocks(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	tr := New(cfg, clocks, NewKeywords(cfg), nil, nil, nil, nil)
	const pdam = "Air PDAM mati 3 hari di Perumnas 3, tolong segera diperbaiki"
	fb := func(author, authorID string, byAccount bool) tanggap.Post {
		return tanggap.Post{Platform: tanggap.PlatformFacebook, Account: "pemkotbekasi", Author: author, AuthorName: author,
			AuthorID: authorID, ByAccount: byAccount, Text: pdam}
	}
	yt := func(account, author, authorID string, byAccount bool) tanggap.Post {
		return tanggap.Post{Platform: tanggap.PlatformYouTube, Account: account, Author: author, AuthorName: author,
			AuthorID: authorID, ByAccount: byAccount, Text: pdam}
	}
	reply := func(p tanggap.Post) tanggap.Post {
		p.ParentID, p.ThreadID, p.Interaction = "1_2", "1", tanggap.InteractionReply
		return p
	}
	for _, tc := range []struct {
		name    string
		post    tanggap.Post
		replyBy string // "" = a citizen's post, classified
	}{
		{"facebook citizen named like the page", fb("PemkotBekasi", "26001234567890123", false), ""},
		{"facebook citizen named like the page, a reply", reply(fb("PemkotBekasi", "26001234567890123", false)), ""},
		{"facebook citizen named like another city page", fb("PerumdaTirtaPatriot", "26001234567890123", false), ""},
		{"facebook page itself", fb("pemkotbekasi", "104938271650123", true), "city"},
		{"facebook page itself, a reply", reply(fb("pemkotbekasi", "104938271650123", true)), "city"},
		{"facebook configured page id", fb("Dinas Ketahanan Pangan", "637634266103403", false), "ketahanan_pangan"},
		{"facebook watched account unknown", tanggap.Post{Platform: tanggap.PlatformFacebook, Account: "someotherpage",
			Author: "someotherpage", AuthorID: "1", ByAccount: true, Text: pdam}, ""},
		{"youtube display name without @", yt("pemkotbekasi", "MasTriAdhianto", "UCa1b2c3d4e5f6g7h8i9j0kL", false), ""},
		{"youtube handle", yt("pemkotbekasi", "@MasTriAdhianto", "UCa1b2c3d4e5f6g7h8i9j0kL", false), "mayor"},
		{"youtube channel itself", yt("UCPsvy0fMeCtkgrkZYD9_juQ", "UCPsvy0fMeCtkgrkZYD9_juQ", "UCPsvy0fMeCtkgrkZYD9_juQ", true), "dukcapil"},
		{"x handle", tanggap.Post{Platform: tanggap.PlatformX, Account: "humasbekasikota", Author: "HumasBekasiKota", AuthorID: "1", Text: pdam}, "city"},
		{"x citizen", tanggap.Post{Platform: tanggap.PlatformX, Account: "humasbekasikota", Author: "warga_bekasi", AuthorName: "humasbekasikota", Text: pdam}, ""},
		{"instagram handle", tanggap.Post{Platform: tanggap.PlatformInstagram, Account: "pemkot_bekasi", Author: "humaskotabekasi", Text: pdam}, "city"},
		{"instagram citizen", tanggap.Post{Platform: tanggap.PlatformInstagram, Account: "pemkot_bekasi", Author: "warga.bekasi", Text: pdam}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.post.ID, tc.post.CreatedAt = "1_3", time.Date(2026, 3, 17, 8, 0, 0, 0, time.UTC)
			in := tr.Decide(tc.post)
			if tc.replyBy != "" {
				if in.Kind != tanggap.KindOfficial || in.ReplyBy != tc.replyBy || in.Queued {
					t.Errorf("got kind=%s replyBy=%q queued=%v, want an official post for %s", in.Kind, in.ReplyBy, in.Queued, tc.replyBy)
				}
				return
			}
			if in.Kind != tanggap.KindComplaint || in.ReplyBy != "" || !in.Queued || in.Status == tanggap.StatusNotComplaint {
				t.Errorf("got kind=%s status=%s replyBy=%q queued=%v, want a queued complaint", in.Kind, in.Status, in.ReplyBy, in.Queued)
			}
		})
	}
}

type memStore struct{ got []store.Ingest }

func (m *memStore) Ingest(_ context.Context, in store.Ingest) (store.IngestResult, error) {
	m.got = append(m.got, in)
	return store.Stored, nil
}

func TestHandleHostileRecords(t *testing.T) {
	cfg := mustConfig(t)
	clocks, _ := workflow.NewClocks(cfg, "")
	ms := &memStore{}
	m := NewMetrics(prometheus.NewRegistry())
	tr := New(cfg, clocks, NewKeywords(cfg), ms, m, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	huge := strings.Repeat("sampah numpuk ", 5000)
	post := tanggap.Post{Platform: tanggap.PlatformX, ID: "1", Author: "w", Text: huge + "\xff\xfe", CreatedAt: time.Now()}
	b, _ := json.Marshal(bus.Envelope{V: 1, Type: "post", Post: &post})
	if err := tr.Handle(context.Background(), kafka.Message{Value: b}); err != nil {
		t.Fatal(err)
	}
	got := ms.got[0].Post
	if !got.Truncated || len(got.Text) > tanggap.MaxTextBytes || !utf8.ValidString(got.Text) {
		t.Fatalf("oversize text not cut: %d bytes, truncated=%v", len(got.Text), got.Truncated)
	}
	if testutil.ToFloat64(m.Sanitized.WithLabelValues("truncated")) != 1 {
		t.Error("truncation not counted")
	}
	// Records that are not ours are EINVALID (dead-lettered), never stored.
	for _, v := range []string{"", "null", "{}", `{"v":1,"type":"event","event":{"item_id":"x"}}`, "\x00\x01binary"} {
		err := tr.Handle(context.Background(), kafka.Message{Value: []byte(v)})
		if tanggap.ErrorCode(err) != tanggap.EINVALID {
			t.Errorf("%q: %v", v, err)
		}
	}
	if len(ms.got) != 1 {
		t.Errorf("stored %d records", len(ms.got))
	}
}
