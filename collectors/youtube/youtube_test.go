package youtube_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/collectors"
	"github.com/tanggap/tanggap/collectors/youtube"
	"github.com/tanggap/tanggap/collectors/youtube/youtubefake"
	"github.com/tanggap/tanggap/config"
)

const key = "api-key-SECRET"

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); c.t = t; c.mu.Unlock() }

type env struct {
	clk    *clock
	fake   *youtubefake.Server
	poller *youtube.Poller
	acct   config.Account
	cid    string
	video  string
	cursor string
}

func newEnv(t *testing.T, fakeOpts []youtubefake.Option, opts ...youtube.Option) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC)}
	fake := youtubefake.New(append([]youtubefake.Option{youtubefake.WithClock(clk.Now), youtubefake.WithKey(key)}, fakeOpts...)...)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	p := youtube.New(youtube.StaticToken(key), append([]youtube.Option{
		youtube.WithBaseURL(srv.URL + "/youtube/v3"), youtube.WithClock(clk.Now), youtube.WithHTTPClient(srv.Client()),
	}, opts...)...)
	e := &env{clk: clk, fake: fake, poller: p, acct: config.Account{Platform: tanggap.PlatformYouTube, Handle: "@MasTriAdhianto", Owner: "mayor"}}
	e.cid = fake.AddChannel("@MasTriAdhianto", "Tri Adhianto", "")
	e.video = fake.NewVideoID()
	return e
}

func (e *env) comment(author, text, parent string, ago time.Duration) string {
	return e.fake.AddComment(youtubefake.Comment{ChannelID: e.cid, VideoID: e.video, ParentID: parent, Text: text,
		AuthorName: author, Published: e.clk.Now().Add(-ago)})
}

func (e *env) poll(t *testing.T) collectors.Batch {
	t.Helper()
	b, err := e.poller.Poll(context.Background(), e.acct, e.cursor)
	if err != nil {
		t.Fatalf("poll: %v", err)
	}
	e.cursor = b.Cursor
	return b
}

type brief struct {
	ID, Author, Text, Parent string
	Kind                     tanggap.Interaction
	Edited, Deleted          bool
}

func briefs(posts []tanggap.Post) []brief {
	var out []brief
	for _, p := range posts {
		out = append(out, brief{p.ID, p.Author, p.Text, p.ParentID, p.Interaction, p.EditedAt != nil, p.Deleted})
	}
	return out
}

func byID(in []brief) []brief {
	out := append([]brief(nil), in...)
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func TestThreadsRepliesAndChannelReplies(t *testing.T) {
	e := newEnv(t, nil)
	t1 := e.comment("@warga_bekasi", "Banjir di Perumahan Pondok Gede Permai", "", time.Hour)
	r1 := e.fake.AddComment(youtubefake.Comment{ParentID: t1, Text: "Tim BPBD sudah diterjunkan", AuthorChannelID: e.cid, Published: e.clk.Now().Add(-30 * time.Minute)})
	var more []string
	for i := 0; i < 7; i++ { // more than the 5 a thread resource carries
		more = append(more, e.comment(fmt.Sprintf("@w%d", i), fmt.Sprintf("sama di RT %d", i), t1, time.Duration(29-i)*time.Minute))
	}
	b := e.poll(t)
	if len(b.Posts) != 9 {
		t.Fatalf("%d posts, want 9: %v", len(b.Posts), briefs(b.Posts))
	}
	want := []brief{
		{ID: t1, Author: "@warga_bekasi", Text: "Banjir di Perumahan Pondok Gede Permai", Kind: tanggap.InteractionComment},
		{ID: r1, Author: "@MasTriAdhianto", Text: "Tim BPBD sudah diterjunkan", Parent: t1, Kind: tanggap.InteractionReply},
	}
	if diff := cmp.Diff(want, briefs(b.Posts[:2])); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if b.Posts[1].AuthorID != e.cid {
		t.Errorf("channel reply author id %q", b.Posts[1].AuthorID)
	}
	for _, p := range b.Posts {
		if p.ThreadID != t1 || p.Validate() != nil || !strings.Contains(p.URL, "lc="+p.ID) {
			t.Errorf("post %s: thread %s url %s", p.ID, p.ThreadID, p.URL)
		}
	}
	// channels.list (handle), commentThreads, comments.list (replies)
	if b.Calls != 3 || e.fake.UnitsUsed() != 3 {
		t.Errorf("units: poller %d, fake %d; want 3", b.Calls, e.fake.UnitsUsed())
	}

	e.clk.Advance(time.Minute)
	if b := e.poll(t); len(b.Posts) != 0 || b.Calls != 1 {
		t.Errorf("idle poll: %v in %d units", briefs(b.Posts), b.Calls)
	}
	r9 := e.comment("@w9", "di Jatiasih juga", t1, 0)
	t2 := e.comment("@x", "Lampu jalan mati", "", 0)
	e.clk.Advance(time.Minute)
	b = e.poll(t)
	if diff := cmp.Diff(byID([]brief{
		{ID: r9, Author: "@w9", Text: "di Jatiasih juga", Parent: t1, Kind: tanggap.InteractionReply},
		{ID: t2, Author: "@x", Text: "Lampu jalan mati", Kind: tanggap.InteractionComment},
	}), byID(briefs(b.Posts))); diff != "" {
		t.Errorf("third poll (-want +got):\n%s", diff)
	}
	_ = more
}

// TestChannelKnownByIDNotName: authorDisplayName is a channel's @handle
// when it has one, else its name, which anyone can set to a city handle.
// The watched channel is known by its id (ByAccount); another channel by
// its @handle; a name without "@" makes nobody official.
func TestChannelKnownByIDNotName(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, nil)
	complaint := e.comment("@warga_bekasi", "Air PDAM mati 3 hari di Perumnas 3", "", time.Hour)
	impostor := e.fake.AddComment(youtubefake.Comment{ParentID: complaint, Text: "Sudah kami teruskan", AuthorName: "MasTriAdhianto",
		AuthorChannelID: "UCa1b2c3d4e5f6g7h8i9j0kL", Published: e.clk.Now().Add(-50 * time.Minute)})
	other := e.fake.AddComment(youtubefake.Comment{ParentID: complaint, Text: "Mohon maaf, kami cek", AuthorName: "@pemkotbekasi",
		AuthorChannelID: "UCx3vLzZ0aT1pQ2rS3tU4vWw", Published: e.clk.Now().Add(-45 * time.Minute)})
	own := e.fake.AddComment(youtubefake.Comment{ParentID: complaint, Text: "Tim sudah diterjunkan", AuthorName: "Tri Adhianto",
		AuthorChannelID: e.cid, Published: e.clk.Now().Add(-40 * time.Minute)})
	b := e.poll(t)
	type want struct {
		byAccount bool
		owner     string
	}
	wants := map[string]want{complaint: {}, impostor: {}, other: {false, "city"}, own: {true, "mayor"}}
	if len(b.Posts) != len(wants) {
		t.Fatalf("%d posts, want %d: %v", len(b.Posts), len(wants), briefs(b.Posts))
	}
	for _, p := range b.Posts {
		w := wants[p.ID]
		a, _ := cfg.Official(&p)
		if p.ByAccount != w.byAccount || a.Owner != w.owner {
			t.Errorf("post %s by %q (id %s): ByAccount %v, official owner %q; want %v %q", p.ID, p.Author, p.AuthorID, p.ByAccount, a.Owner, w.byAccount, w.owner)
		}
	}
}

func TestPagination(t *testing.T) {
	for _, tc := range []struct {
		name      string
		threads   int
		pageSize  int
		wantUnits int
	}{
		{"one page", 30, 100, 2},
		{"exact", 200, 100, 3},
		{"many pages", 250, 50, 6},
		{"empty channel", 0, 100, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil, youtube.WithPageSize(tc.pageSize), youtube.WithMaxPages(10))
			want := map[string]bool{}
			for i := 0; i < tc.threads; i++ {
				want[e.comment("@w", fmt.Sprintf("aduan %d", i), "", time.Duration(tc.threads-i)*time.Second)] = true
			}
			b := e.poll(t)
			got := map[string]bool{}
			for _, p := range b.Posts {
				if got[p.ID] {
					t.Errorf("%s twice", p.ID)
				}
				got[p.ID] = true
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if b.Calls != tc.wantUnits {
				t.Errorf("units %d, want %d", b.Calls, tc.wantUnits)
			}
			// The next poll stops after the first page: nothing changed.
			e.clk.Advance(time.Minute)
			if b := e.poll(t); len(b.Posts) != 0 || b.Calls != 1 {
				t.Errorf("idle poll: %d posts in %d units", len(b.Posts), b.Calls)
			}
		})
	}
}

func TestVeryLargePage(t *testing.T) {
	e := newEnv(t, nil)
	long := strings.Repeat("jalan rusak berat ", 1500)
	for i := 0; i < 100; i++ {
		e.comment("@w", fmt.Sprintf("%d %s", i, long), "", time.Duration(100-i)*time.Second)
	}
	b := e.poll(t)
	if len(b.Posts) != 100 {
		t.Fatalf("%d posts", len(b.Posts))
	}
	for _, p := range b.Posts {
		if !p.Truncated || len(p.Text) > tanggap.MaxTextBytes {
			t.Fatalf("%s: truncated %v len %d", p.ID, p.Truncated, len(p.Text))
		}
	}
}

func TestErrors(t *testing.T) {
	// 10:00 UTC on 17 March 2026 is 03:00 PDT: the quota resets at
	// 00:00 PDT on 18 March = 07:00 UTC.
	midnightPT := time.Date(2026, 3, 18, 7, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name          string
		fault         youtubefake.Fault
		code          string
		reason, scope string
		until         time.Time
	}{
		{name: "quotaExceeded is a 403", fault: youtubefake.QuotaExceeded(), code: tanggap.ERATELIMIT, reason: "quota_exceeded", scope: youtube.ScopeQuota, until: midnightPT},
		{name: "rateLimitExceeded", fault: youtubefake.Fault{Status: 403, Reason: "rateLimitExceeded", Message: "slow down"}, code: tanggap.ERATELIMIT, reason: "rate_limit", scope: youtube.ScopeQuota, until: time.Date(2026, 3, 17, 10, 1, 0, 0, time.UTC)},
		{name: "429", fault: youtubefake.Fault{Status: 429}, code: tanggap.ERATELIMIT, reason: "rate_limit", scope: youtube.ScopeQuota, until: time.Date(2026, 3, 17, 10, 1, 0, 0, time.UTC)},
		{name: "key invalid", fault: youtubefake.KeyInvalid(), code: tanggap.EAUTH},
		{name: "401", fault: youtubefake.AuthError(), code: tanggap.EAUTH},
		{name: "403 forbidden", fault: youtubefake.Fault{Status: 403, Reason: "forbidden", Message: "no"}, code: tanggap.EAUTH},
		{name: "503 backendError", fault: youtubefake.BackendError(), code: tanggap.EUNAVAILABLE},
		{name: "500 empty", fault: youtubefake.Fault{Status: 500}, code: tanggap.EUNAVAILABLE},
		{name: "malformed", fault: youtubefake.Malformed(), code: tanggap.EINVALID},
		{name: "channel not found", fault: youtubefake.Fault{Status: 404, Reason: "channelNotFound", Message: "not found"}, code: tanggap.EINVALID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			e.acct.ID = e.cid
			e.comment("@w", "Air mati", "", time.Minute)
			e.fake.Inject(tc.fault)
			_, err := e.poller.Poll(context.Background(), e.acct, "")
			if got := tanggap.ErrorCode(err); got != tc.code {
				t.Fatalf("code %q (%v), want %q", got, err, tc.code)
			}
			if strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "@MasTriAdhianto") {
				t.Errorf("message: %s", err)
			}
			if tc.reason != "" {
				var rl *collectors.RateLimitError
				if !errors.As(err, &rl) {
					t.Fatalf("no RateLimitError in %v", err)
				}
				if diff := cmp.Diff(collectors.RateLimitError{Until: tc.until, Reason: tc.reason, Scope: tc.scope}, *rl); diff != "" {
					t.Errorf("(-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestCommentsDisabledIsNotAnError(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.Inject(youtubefake.Fault{Path: "commentThreads", Status: 403, Reason: "commentsDisabled", Message: "The video identified by the videoId parameter has disabled comments."})
	b := e.poll(t)
	if len(b.Posts) != 0 || b.Cursor == "" {
		t.Errorf("%v %q", briefs(b.Posts), b.Cursor)
	}
}

func TestDailyQuotaFromTheFake(t *testing.T) {
	e := newEnv(t, []youtubefake.Option{youtubefake.WithQuota(3)})
	e.comment("@w", "Air mati", "", time.Minute)
	e.poll(t) // channels + threads = 2 units
	e.clk.Advance(time.Minute)
	e.poll(t) // 3 units
	e.clk.Advance(time.Minute)
	_, err := e.poller.Poll(context.Background(), e.acct, e.cursor)
	var rl *collectors.RateLimitError
	if !errors.As(err, &rl) || rl.Reason != "quota_exceeded" || !rl.Until.Equal(time.Date(2026, 3, 18, 7, 0, 0, 0, time.UTC)) {
		t.Fatalf("err = %v", err)
	}
	e.clk.Set(rl.Until)
	e.poll(t) // a new Pacific day
}

func TestSlowResponseTimesOut(t *testing.T) {
	e := newEnv(t, nil)
	e.fake.Inject(youtubefake.Slow(time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := e.poller.Poll(ctx, e.acct, "")
	if tanggap.ErrorCode(err) != tanggap.EUNAVAILABLE || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
}

func TestEditsAndDeletions(t *testing.T) {
	e := newEnv(t, nil)
	t1 := e.comment("@a", "Jalan rusak", "", 2*time.Hour)
	t2 := e.comment("@b", "Parit mampet", "", 2*time.Hour)
	r1 := e.comment("@c", "betul", t1, time.Hour)
	r2 := e.comment("@d", "parah", t1, time.Hour)
	first := e.poll(t)
	created := map[string]time.Time{}
	for _, p := range first.Posts {
		created[p.ID] = p.CreatedAt
	}

	e.clk.Advance(time.Minute)
	e.fake.EditComment(t1, "Jalan rusak di Jl. Chairil Anwar")
	b := e.poll(t)
	if diff := cmp.Diff([]brief{{ID: t1, Author: "@a", Text: "Jalan rusak di Jl. Chairil Anwar", Kind: tanggap.InteractionComment, Edited: true}}, briefs(b.Posts)); diff != "" {
		t.Fatalf("edit (-want +got):\n%s", diff)
	}
	if !b.Posts[0].EditedAt.Equal(e.clk.Now()) || !b.Posts[0].CreatedAt.Equal(created[t1]) {
		t.Errorf("edited %v created %v", b.Posts[0].EditedAt, b.Posts[0].CreatedAt)
	}

	e.clk.Advance(time.Minute)
	e.fake.DeleteComment(r2)
	e.fake.DeleteComment(t2)
	b = e.poll(t)
	want := []brief{
		{ID: r2, Parent: t1, Kind: tanggap.InteractionReply, Deleted: true},
		{ID: t2, Kind: tanggap.InteractionComment, Deleted: true},
	}
	if diff := cmp.Diff(byID(want), byID(briefs(b.Posts))); diff != "" {
		t.Fatalf("deletions (-want +got):\n%s", diff)
	}
	for _, p := range b.Posts {
		if !p.CreatedAt.Equal(created[p.ID]) {
			t.Errorf("%s created %v", p.ID, p.CreatedAt)
		}
	}
	e.clk.Advance(time.Minute)
	if b := e.poll(t); len(b.Posts) != 0 {
		t.Errorf("again: %v", briefs(b.Posts))
	}
	_ = r1
}

func TestInvalidUTF8(t *testing.T) {
	e := newEnv(t, nil)
	e.acct.ID = e.cid
	body := "{\"kind\":\"youtube#commentThreadListResponse\",\"items\":[{\"kind\":\"youtube#commentThread\",\"id\":\"UgzAAAAAAAAAAAAAAAA4AaABAg\",\"snippet\":{\"channelId\":\"" + e.cid +
		"\",\"videoId\":\"dQ7xB2kLm9Q\",\"totalReplyCount\":0,\"topLevelComment\":{\"kind\":\"youtube#comment\",\"id\":\"UgzAAAAAAAAAAAAAAAA4AaABAg\",\"snippet\":{\"textDisplay\":\"air \xff\xfe mati\",\"textOriginal\":\"air \xff\xfe mati\",\"authorDisplayName\":\"@w\",\"authorChannelId\":{\"value\":\"UCa\"},\"publishedAt\":\"2026-03-17T09:00:00Z\",\"updatedAt\":\"2026-03-17T09:00:00Z\"}}}}]}"
	e.fake.Inject(youtubefake.Fault{Status: 200, Body: body})
	b := e.poll(t)
	if len(b.Posts) != 1 || !b.Posts[0].InvalidUTF8 || b.Posts[0].Text != "air \uFFFD\uFFFD mati" {
		t.Fatalf("%+v", b.Posts)
	}
}

func TestNextPacificMidnight(t *testing.T) {
	pt := youtube.PacificZone()
	for _, tc := range []struct{ now, want time.Time }{
		{time.Date(2026, 3, 17, 10, 0, 0, 0, time.UTC), time.Date(2026, 3, 18, 7, 0, 0, 0, time.UTC)}, // PDT
		{time.Date(2026, 1, 5, 7, 59, 0, 0, time.UTC), time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)},   // PST, a minute before
		{time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC), time.Date(2026, 1, 6, 8, 0, 0, 0, time.UTC)},
		{time.Date(2026, 3, 8, 9, 0, 0, 0, time.UTC), time.Date(2026, 3, 9, 7, 0, 0, 0, time.UTC)}, // DST starts on 8 March
	} {
		if got := youtube.NextPacificMidnight(tc.now, pt); !got.Equal(tc.want) {
			t.Errorf("NextPacificMidnight(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
}

// TestRepliesToOlderThreads is the audit's repro: order=time sorts threads
// by when they started, so a reply to a thread past the first page does
// not bring it back there. A sweep (every 30 minutes by default) walks on
// to the end of the tracking window: the channel's late answer and a
// citizen's follow-up are collected once, by the first poll half an hour
// after the last sweep, and the polls between cost 1 unit each.
func TestRepliesToOlderThreads(t *testing.T) {
	e := newEnv(t, nil, youtube.WithPageSize(20))
	var threads []string // newest first
	for i := 0; i < 30; i++ {
		threads = append([]string{e.comment("@w", fmt.Sprintf("aduan %d", i), "", time.Duration(30-i)*time.Hour)}, threads...)
	}
	if b := e.poll(t); len(b.Posts) != 30 {
		t.Fatalf("first poll: %d posts", len(b.Posts))
	}
	e.clk.Advance(time.Minute)
	answer := e.fake.AddComment(youtubefake.Comment{ParentID: threads[24], Text: "Sudah kami tindak lanjuti", AuthorChannelID: e.cid})
	followUp := e.comment("@w2", "masih rusak", threads[21], 0)

	got := map[string]int{}
	at := -1
	for i := 1; i <= 8; i++ {
		e.clk.Advance(5 * time.Minute)
		b := e.poll(t)
		for _, p := range b.Posts {
			got[p.ID]++
			if p.ID == answer && !p.ByAccount {
				t.Errorf("the channel's answer is not ByAccount: %+v", p)
			}
		}
		if len(b.Posts) > 0 && at < 0 {
			at = i
		}
		// Page 1 every poll, and the sweep's page 2 (the last) once.
		if want := 1; b.Calls != want && !(i == at && b.Calls == 2) {
			t.Errorf("poll %d: %d units", i, b.Calls)
		}
	}
	if diff := cmp.Diff(map[string]int{answer: 1, followUp: 1}, got); diff != "" {
		t.Errorf("collected (-want +got):\n%s", diff)
	}
	if at != 6 { // 1 + 5 + 6×5 minutes: the first poll 30 minutes after the first sweep
		t.Errorf("collected by poll %d, want 6", at)
	}
}

// TestSweepStopsAtTheWindow: a sweep reads no further than the first page
// that reaches threads older than the tracking window (a week): a
// channel's years of history cost nothing.
func TestSweepStopsAtTheWindow(t *testing.T) {
	e := newEnv(t, nil, youtube.WithPageSize(20))
	for i := 0; i < 200; i++ {
		e.comment("@w", fmt.Sprintf("lama %d", i), "", time.Duration(8*24+i)*time.Hour)
	}
	var recent []string
	for i := 0; i < 30; i++ {
		recent = append(recent, e.comment("@w", fmt.Sprintf("baru %d", i), "", time.Duration(30-i)*time.Hour))
	}
	e.poll(t) // the backlog: 5 pages
	e.clk.Advance(31 * time.Minute)
	reply := e.comment("@w2", "sama", recent[0], 0) // the oldest recent thread: page 2
	b := e.poll(t)
	if len(b.Posts) != 1 || b.Posts[0].ID != reply || b.Calls != 2 {
		t.Errorf("sweep: %v in %d units, want the reply in 2", briefs(b.Posts), b.Calls)
	}
	if b.Partial != "" {
		t.Errorf("partial %q for a week that fits the sweep", b.Partial)
	}
}

// TestSweepBeyondTheQuota: a channel whose week of threads needs more
// pages than a sweep may read (the quota's share) says so in every poll
// (the Runner shows a partial coverage gap) and keeps each poll within
// its bound; replies within reach are still collected, and the gap closes
// when the week fits again.
func TestSweepBeyondTheQuota(t *testing.T) {
	e := newEnv(t, nil, youtube.WithPageSize(20), youtube.WithMaxPages(1), youtube.WithSweep(30*time.Minute, 3))
	var threads []string // newest first
	for i := 0; i < 100; i++ {
		threads = append([]string{e.comment("@w", fmt.Sprintf("aduan %d", i), "", time.Duration(100-i)*time.Hour)}, threads...)
	}
	b := e.poll(t)
	if len(b.Posts) != 60 || b.Calls != 4 || b.Partial == "" {
		t.Fatalf("first poll: %d posts in %d units, partial %q; want 60 in 4 (channel and 3 pages) and a gap", len(b.Posts), b.Calls, b.Partial)
	}
	within := e.comment("@w2", "masih", threads[50], 0)
	e.comment("@w2", "masih", threads[70], 0) // past the sweep's 3 pages: missed, and the gap says so
	got := map[string]int{}
	for i := 0; i < 7; i++ {
		e.clk.Advance(10 * time.Minute)
		b := e.poll(t)
		for _, p := range b.Posts {
			got[p.ID]++
		}
		if b.Calls > 3 || b.Partial == "" {
			t.Errorf("poll %d: %d units, partial %q", i, b.Calls, b.Partial)
		}
	}
	if diff := cmp.Diff(map[string]int{within: 1}, got); diff != "" {
		t.Errorf("collected (-want +got):\n%s", diff)
	}
	// A week later the threads have aged out of the window: no gap.
	e.clk.Advance(7 * 24 * time.Hour)
	if b := e.poll(t); b.Partial != "" {
		t.Errorf("partial %q after the threads left the window", b.Partial)
	}
}

// TestCursorWithoutSweep: a cursor written before sweeps loads, and its
// first poll sweeps at once: a reply an older thread got meanwhile is
// collected, nothing else again.
func TestCursorWithoutSweep(t *testing.T) {
	e := newEnv(t, nil, youtube.WithPageSize(20))
	var threads []string
	for i := 0; i < 30; i++ {
		threads = append([]string{e.comment("@w", fmt.Sprintf("aduan %d", i), "", time.Duration(30-i)*time.Hour)}, threads...)
	}
	e.poll(t)
	var c map[string]any
	if err := json.Unmarshal([]byte(e.cursor), &c); err != nil {
		t.Fatal(err)
	}
	if _, ok := c["sw"]; !ok {
		t.Fatalf("cursor %s has no sweep time", e.cursor)
	}
	delete(c, "sw")
	delete(c, "short")
	old, _ := json.Marshal(c)
	e.cursor = string(old)
	e.clk.Advance(time.Minute)
	reply := e.comment("@w2", "belum ada tindakan", threads[25], 0)
	e.clk.Advance(time.Minute)
	b := e.poll(t)
	if len(b.Posts) != 1 || b.Posts[0].ID != reply || b.Calls != 2 {
		t.Errorf("first poll on an old cursor: %v in %d units, want the reply in 2", briefs(b.Posts), b.Calls)
	}
}
