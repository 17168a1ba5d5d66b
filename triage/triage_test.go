package triage

import (
	"testing"
	"time"

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
