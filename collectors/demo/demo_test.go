package demo

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/config"
	"github.com/tanggap/tanggap/triage/classify"
)

func TestLoadCoversTheDemoNeeds(t *testing.T) {
	posts, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(posts); n < 45 || n > 60 {
		t.Errorf("%d posts, want about 50", n)
	}
	var (
		opds          = map[string]bool{}
		kinds         = map[tanggap.Kind]int{}
		official      = map[tanggap.Platform]int{}
		urgentDamkar  bool
		spam          bool
		replyFirst    bool
		pos           = map[string]int{}
		platformCount = map[tanggap.Platform]int{}
	)
	for i, p := range posts {
		pos[p.Key] = i
		platformCount[p.Platform]++
		if p.ExpectOPD != "" && p.ExpectOPD != tanggap.OutOfScope && !p.Official {
			opds[p.ExpectOPD] = true
		}
		kinds[p.ExpectKind]++
		if p.Official {
			official[p.Platform]++
		}
		if p.ExpectOPD == "damkar" && p.Urgent {
			urgentDamkar = true
		}
		if strings.Contains(strings.ToLower(p.Text), "slot gacor") {
			spam = true
		}
	}
	for i, p := range posts {
		if p.ReplyTo != "" && pos[p.ReplyTo] > i {
			replyFirst = true
		}
	}
	if len(opds) < 5 {
		t.Errorf("complaints cover %d OPDs, want at least 5", len(opds))
	}
	for _, k := range []tanggap.Kind{tanggap.KindComplaint, tanggap.KindInfo, tanggap.KindPraise, tanggap.KindNoise, tanggap.KindAspiration, tanggap.KindOfficial} {
		if kinds[k] == 0 {
			t.Errorf("no post of kind %s", k)
		}
	}
	// As in Bekasi: most on Instagram, then X, Facebook and YouTube, with
	// official replies on every platform.
	n := 0
	for _, p := range []tanggap.Platform{tanggap.PlatformInstagram, tanggap.PlatformX, tanggap.PlatformFacebook, tanggap.PlatformYouTube} {
		if official[p] == 0 || platformCount[p] <= official[p] {
			t.Errorf("%s: %d posts, %d official: want citizens' posts and official replies", p, platformCount[p], official[p])
		}
		n += official[p]
	}
	if n < 8 {
		t.Errorf("%d official posts, want about 10", n)
	}
	for _, p := range []tanggap.Platform{tanggap.PlatformX, tanggap.PlatformFacebook, tanggap.PlatformYouTube} {
		if platformCount[p] >= platformCount[tanggap.PlatformInstagram] {
			t.Errorf("%s has %d posts, Instagram %d: want most on Instagram", p, platformCount[p], platformCount[tanggap.PlatformInstagram])
		}
	}
	if !urgentDamkar || !spam || !replyFirst {
		t.Errorf("urgent fire %v, gambling spam %v, reply before its parent %v: want all", urgentDamkar, spam, replyFirst)
	}
	outOfScope := false
	for _, p := range posts {
		if p.ExpectOPD == tanggap.OutOfScope {
			outOfScope = true
		}
	}
	if !outOfScope {
		t.Error("no out-of-scope post")
	}
}

// The demo shows a near-duplicate cluster: three reports of one pothole on
// two platforms and three accounts route to the same OPD with confidence,
// name the same kelurahan and are similar enough to join (triage clusters
// them; the first one stored lists the others on its page).
func TestDemoHasACluster(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	c, err := classify.Default(cfg)
	if err != nil {
		t.Fatal(err)
	}
	posts, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	var got []classify.Result
	for _, p := range posts {
		switch p.Key {
		case "fb-jalan-juanda", "ig-jalan-juanda", "ig-jalan-juanda-2":
			got = append(got, c.Classify(p.Text))
		}
	}
	if len(got) != 3 {
		t.Fatalf("%d of the cluster's posts found", len(got))
	}
	for i, r := range got {
		if r.OPD != got[0].OPD || r.Kelurahan == "" || r.Kelurahan != got[0].Kelurahan || r.Confidence < cfg.Triage.MinConfidence {
			t.Errorf("post %d: OPD %s (%.2f), kelurahan %q: want one OPD above %.2f and one kelurahan", i, r.OPD, r.Confidence, r.Kelurahan, cfg.Triage.MinConfidence)
		}
		for _, o := range got[:i] {
			if sim := classify.Similarity(r.Fingerprint, o.Fingerprint); sim < classify.DuplicateThreshold {
				t.Errorf("post %d: similarity %.2f to an earlier one, below %.2f", i, sim, classify.DuplicateThreshold)
			}
		}
	}
}

var xHandle = regexp.MustCompile(`^[A-Za-z0-9_]{1,15}$`)

func TestPostsMatchTheCityConfig(t *testing.T) {
	cfg, err := config.Load("")
	if err != nil {
		t.Fatal(err)
	}
	posts, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range posts {
		acct, ok := cfg.OfficialAccount(p.Platform, p.Account, "")
		if !ok || !acct.Watched() {
			t.Errorf("%s: account %s/%s is not a watched account of the city", p.Key, p.Platform, p.Account)
		}
		_, authorIsOfficial := cfg.OfficialAccount(p.Platform, p.Author, "")
		if authorIsOfficial != p.Official {
			t.Errorf("%s: author %s registered=%v but official=%v", p.Key, p.Author, authorIsOfficial, p.Official)
		}
		if p.ExpectOPD != "" && p.ExpectOPD != tanggap.OutOfScope {
			if _, ok := cfg.OPD(p.ExpectOPD); !ok {
				t.Errorf("%s: unknown OPD %q", p.Key, p.ExpectOPD)
			}
		}
		if p.ExpectKind != "" && p.ExpectKind != tanggap.KindOfficial && p.ExpectKind.Label("en") == string(p.ExpectKind) {
			t.Errorf("%s: unknown kind %q", p.Key, p.ExpectKind)
		}
		if !utf8.ValidString(p.Text) {
			t.Errorf("%s: text is not UTF-8", p.Key)
		}
		if p.Platform != tanggap.PlatformX {
			continue
		}
		if !xHandle.MatchString(p.Author) {
			t.Errorf("%s: %q is not a possible X handle", p.Key, p.Author)
		}
		if n := utf8.RuneCountInString(p.Text); n > 280 {
			t.Errorf("%s: %d characters, X allows 280", p.Key, n)
		}
		// The fake X API lists a citizen's tweet in the mentions of the
		// accounts it names: it must name the account it is collected under.
		if !p.Official && !strings.Contains(strings.ToLower(p.Text), "@"+strings.ToLower(p.Account)) {
			t.Errorf("%s: text does not mention @%s", p.Key, p.Account)
		}
	}
}

func TestParseRejects(t *testing.T) {
	const ok = `
  - {key: a, platform: x, account: humasbekasikota, author: warga1, text: "@humasbekasikota jalan rusak", minutes_ago: 30}
`
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"unknown field", "posts:\n  - {key: a, colour: red}\n", "colour"},
		{"duplicate key", "posts:" + ok + ok, "duplicate key"},
		{"unknown platform", "posts:\n  - {key: a, platform: myspace, account: a, author: b, text: c}\n", "unknown platform"},
		{"no text", "posts:\n  - {key: a, platform: x, account: a, author: b, text: \" \"}\n", "no text"},
		{"missing parent", "posts:" + ok + "  - {key: b, platform: x, account: a, author: b, text: c, reply_to: zz}\n", "no such post"},
		{"reply older than parent", "posts:" + ok + "  - {key: b, platform: x, account: a, author: b, text: c, reply_to: a, minutes_ago: 40}\n", "not younger"},
		{"official elsewhere", "posts:\n  - {key: a, platform: x, account: a, author: b, text: c, official: true}\n", "its author's account"},
		{"media_of on X", "posts:\n  - {key: a, platform: x, account: a, author: b, text: \"@a c\", media_of: news}\n", "media_of is for"},
		{"media_of without the mention", "posts:\n  - {key: a, platform: instagram, account: a, author: b, text: c, media_of: news}\n", "must @mention"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parse([]byte(tc.yaml))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
	posts, err := parse([]byte("posts:" + ok))
	if err != nil || len(posts) != 1 {
		t.Fatalf("valid file: %v, %d posts", err, len(posts))
	}
	if got := ForPlatform(posts, tanggap.PlatformInstagram); len(got) != 0 {
		t.Errorf("ForPlatform(instagram) = %v", got)
	}
}
