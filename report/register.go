package report

import (
	"cmp"
	"math"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/tanggap/tanggap"
)

// SummaryRunes is how much of a post's text the register keeps.
const SummaryRunes = 120

// RegisterRow is one item of the detail register. Times are zero when the
// event has not happened.
type RegisterRow struct {
	ID            string
	Posted        time.Time // T0
	Captured      time.Time
	Platform      string
	Account       string
	Interaction   string
	Link          string
	Reporter      string // masked unless the register was built unmasked
	Summary       string // first SummaryRunes runes of the text, one line
	Kind          string
	Topic         string
	Kecamatan     string
	Kelurahan     string
	OPD           string // code
	OPDName       string
	Assigned      time.Time
	FirstResponse time.Time
	Resolved      time.Time
	Evidence      string
	Status        tanggap.Status
	StatusLabel   string
	Deadline      time.Time
	// HKLeft is the working days left to Deadline (negative when late): for
	// an open item from now to its running clock's deadline, for a resolved
	// one from its resolution to the resolution deadline.
	HKLeft      float64
	HasHKLeft   bool
	ExternalRef string
	Officer     string
}

// Register is the detail register of a report.
type Register struct {
	Rows     []RegisterRow
	Unmasked bool
}

// RegisterOptions choose how the register is built.
type RegisterOptions struct {
	Lang string
	// Unmask shows reporters' identities. Only the PPID Utama may ask for
	// it, explicitly; the caller checks the role.
	Unmask bool
	// Official are the handles of the city's own accounts (any platform,
	// with or without "@"): a masked register keeps their @mentions in
	// summaries and links as they are, and masks every other one.
	Official []string
}

// masker hides identities in a masked register's cells (see registerRow).
type masker struct {
	official map[string]bool // lower-case handles without "@"
}

func newMasker(opt RegisterOptions) *masker {
	if opt.Unmask {
		return nil
	}
	m := &masker{official: make(map[string]bool, len(opt.Official))}
	for _, h := range opt.Official {
		if h = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(h), "@")); h != "" {
			m.official[h] = true
		}
	}
	return m
}

// BuildRegister lists the complaints received in the report's period, T0
// order.
func (r *Report) BuildRegister(d *Data, opt RegisterOptions) *Register {
	reg := &Register{Unmasked: opt.Unmask}
	names := map[string]string{}
	for _, o := range d.Scope.OPDs {
		names[o.Code] = o.Name
	}
	items := make([]*tanggap.Item, 0, len(d.Items))
	var seen map[string]bool // Load's Items hold distinct ids
	if !d.distinct {
		seen = make(map[string]bool, len(d.Items))
	}
	in := d.Scope.matcher()
	for i := range d.Items {
		it := &d.Items[i]
		if !seen[it.ID] && Counted(it) && in(it.OPD) && d.Period.Contains(it.CreatedAt) {
			if seen != nil {
				seen[it.ID] = true
			}
			items = append(items, it)
		}
	}
	if r.clock == nil {
		r.clock = newWorkClock(r.cal, d.Period.From, r.Now.AddDate(1, 0, 0))
	}
	if !slices.IsSortedFunc(items, byT0) { // a scan gives them in this order
		slices.SortStableFunc(items, byT0)
	}
	lb := &labels{lang: opt.Lang, names: names, m: map[string]string{}, mask: newMasker(opt)}
	reg.Rows = make([]RegisterRow, len(items))
	for i, it := range items {
		r.registerRow(&reg.Rows[i], it, lb, opt)
	}
	return reg
}

// byT0 is the register's order: T0, then id.
func byT0(a, b *tanggap.Item) int {
	if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// labels remembers the labels of the few distinct codes a register repeats
// on every row (interaction, kind, status, OPD name).
type labels struct {
	lang  string
	names map[string]string
	m     map[string]string
	mask  *masker // nil for an unmasked register
}

func (l *labels) get(kind byte, code string, mk func() string) string {
	key := string(kind) + code
	if v, ok := l.m[key]; ok {
		return v
	}
	v := mk()
	l.m[key] = v
	return v
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func (r *Report) registerRow(row *RegisterRow, it *tanggap.Item, lb *labels, opt RegisterOptions) {
	*row = RegisterRow{
		ID: clean(it.ID), Posted: it.CreatedAt, Captured: it.CapturedAt, Platform: it.Platform.Label(), Account: clean(it.Account),
		Interaction: lb.get('i', string(it.Interaction), func() string { return interactionLabel(it.Interaction, opt.Lang) }),
		Link:        safeURL(it.URL), Summary: Summary(it.Text),
		Kind:  lb.get('k', string(it.Kind), func() string { return it.Kind.Label(opt.Lang) }),
		Topic: clean(it.Topic), Kecamatan: clean(it.Kecamatan), Kelurahan: clean(it.Kelurahan),
		OPD: it.OPD, Assigned: deref(it.AssignedAt), FirstResponse: deref(it.FirstResponseAt), Resolved: deref(it.ResolvedAt),
		Evidence: clean(it.Evidence), Status: it.Status,
		StatusLabel: lb.get('s', string(it.Status), func() string { return it.Status.Label(opt.Lang) }),
		ExternalRef: clean(it.ExternalRef), Officer: clean(it.Officer),
	}
	row.OPDName = lb.get('o', it.OPD, func() string {
		switch {
		case it.OPD == "":
			return text(opt.Lang, "unrouted")
		case lb.names[it.OPD] != "":
			return lb.names[it.OPD]
		}
		return it.OPD
	})
	if opt.Unmask {
		row.Reporter = clean(it.Author)
		if n := clean(it.AuthorName); n != "" && n != row.Reporter {
			row.Reporter += " (" + n + ")"
		}
	} else {
		// The reporter's handle must not come back one column over: in the
		// post's link (x.com/<handle>/status/<id>) or an @mention of it in
		// the text (a citizen often names themself, or others).
		row.Reporter = Mask(clean(it.Author))
		row.Link = lb.mask.link(row.Link, clean(it.Author))
		row.Summary = Summary(lb.mask.mentions(it.Text))
	}
	switch {
	case it.Status.Open() && !it.Deadline.IsZero():
		row.Deadline = it.Deadline
		row.HKLeft, row.HasHKLeft = r.clock.Days(r.Now, it.Deadline), true
	case it.ResolvedAt != nil && !it.Deadlines.Resolution.IsZero():
		row.Deadline = it.Deadlines.Resolution
		row.HKLeft, row.HasHKLeft = r.clock.Days(*it.ResolvedAt, it.Deadlines.Resolution), true
	}
	if row.HasHKLeft {
		row.HKLeft = math.Round(row.HKLeft*100) / 100
		if row.HKLeft == 0 {
			row.HKLeft = 0 // no -0
		}
	}
}

// Mask hides most of an identity: the first two and the last two
// characters stay, the rest becomes "***" whatever its length ("wa***88").
// Identities of four characters or fewer keep only their first one.
func Mask(s string) string {
	if ascii(s) && (s == "" || s[0] > ' ' && s[len(s)-1] > ' ') {
		switch n := len(s); {
		case n == 0:
			return ""
		case n <= 4:
			return s[:1] + "***"
		default:
			return s[:2] + "***" + s[n-2:]
		}
	}
	s = strings.TrimSpace(s)
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0:
		return ""
	case n <= 4:
		r, _ := utf8.DecodeRuneInString(s)
		return string(r) + "***"
	}
	rs := []rune(s)
	return string(rs[:2]) + "***" + string(rs[n-2:])
}

// mentions masks every @handle of s with Mask ("@budi_santoso88" becomes
// "@bu***88", as the reporter column shows it) but those of the city's
// accounts. A handle is "@" and then letters, digits, "_" and "." (a
// trailing "." ends the sentence), after the start of s or a character
// other than a letter, a digit or "_", so e-mail addresses stay whole.
func (m *masker) mentions(s string) string {
	if strings.IndexByte(s, '@') < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '@' || i > 0 && handleByte(s[i-1]) && s[i-1] != '.' {
			continue
		}
		j := i + 1
		for j < len(s) && handleByte(s[j]) {
			j++
		}
		for j > i+1 && s[j-1] == '.' {
			j--
		}
		h := s[i+1 : j]
		if h == "" || m.official[strings.ToLower(h)] {
			continue
		}
		b.WriteString(s[last : i+1])
		b.WriteString(Mask(h))
		last, i = j, j-1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func handleByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.'
}

// link is a post's link as a masked register shows it: only the forms the
// collectors write that name no citizen, else "". X links name their
// author (x.com/<handle>/status/<id>): they become x.com/i/status/<id>,
// which opens the same post. Instagram's /p/, /reel/ and /tv/ links name
// the media (and the comment); YouTube's watch?v=…&lc=… the video and
// the comment, and channel/<id>/community?lc=… the city's channel;
// Facebook's /<page>/posts|videos/<id>?comment_id=… the city's page (the
// collector reads the city's pages only) and the comments. Query
// parameters other than those are dropped (a share link's tracking
// names whoever shared it), and so is a link of another form or of
// another site, such as Facebook's permalink.php?story_fbid=…&id=<poster>,
// or one that still holds the reporter's handle as a path segment or a
// parameter.
func (m *masker) link(s, author string) string {
	if s == "" {
		return ""
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil {
		return ""
	}
	host := strings.ToLower(u.Hostname())
	for _, p := range []string{"www.", "mobile.", "m."} {
		host = strings.TrimPrefix(host, p)
	}
	seg := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	q := u.Query()
	keep := func(path string, params ...string) string {
		v := url.Values{}
		for _, p := range params {
			if x := q.Get(p); x != "" {
				v.Set(p, x)
			}
		}
		out := url.URL{Scheme: u.Scheme, Host: u.Host, Path: path, RawQuery: v.Encode()}
		return out.String()
	}
	var out string
	switch host {
	case "x.com", "twitter.com":
		// /<handle>/status/<id>[/...], /i/status/<id>, /i/web/status/<id>
		if len(seg) >= 3 && seg[0] == "i" && seg[1] == "web" {
			seg = seg[1:]
		}
		if len(seg) >= 3 && seg[1] == "status" && digits(seg[2]) {
			if m.official[strings.ToLower(seg[0])] {
				out = keep("/" + seg[0] + "/status/" + seg[2])
			} else {
				out = "https://x.com/i/status/" + seg[2]
			}
		}
	case "instagram.com":
		if len(seg) >= 2 && (seg[0] == "p" || seg[0] == "reel" || seg[0] == "tv") {
			out = keep(u.Path)
		}
	case "youtube.com":
		switch {
		case len(seg) == 1 && seg[0] == "watch" && q.Get("v") != "":
			out = keep(u.Path, "v", "lc")
		case len(seg) == 3 && seg[0] == "channel" && seg[2] == "community":
			out = keep(u.Path, "lc")
		}
	case "youtu.be":
		if len(seg) == 1 && seg[0] != "" {
			out = keep(u.Path, "lc")
		}
	case "facebook.com":
		switch {
		case len(seg) >= 3 && (seg[1] == "posts" || seg[1] == "videos"):
			out = keep(u.Path, "comment_id", "reply_comment_id")
		case len(seg) >= 2 && seg[0] == "reel":
			out = keep(u.Path, "comment_id", "reply_comment_id")
		}
	}
	if out == "" || author == "" {
		return out
	}
	a := strings.ToLower(strings.TrimPrefix(author, "@"))
	ou, err := url.Parse(out)
	if err != nil {
		return ""
	}
	for _, p := range strings.Split(strings.ToLower(ou.Path), "/") {
		if p == a || p == "@"+a {
			return ""
		}
	}
	for _, vs := range ou.Query() {
		for _, v := range vs {
			if strings.ToLower(v) == a {
				return ""
			}
		}
	}
	return out
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Summary is the register's view of a text: one line (every run of white
// space or control characters becomes one space), at most SummaryRunes
// runes, with "…" when cut.
func Summary(s string) string {
	if out, ok := summaryPlain(s); ok {
		return out
	}
	s = strings.Join(strings.Fields(clean(s)), " ")
	if utf8.RuneCountInString(s) <= SummaryRunes {
		return s
	}
	rs := []rune(s)[:SummaryRunes]
	return strings.TrimRight(string(rs), " ") + "…"
}

// summaryPlain is Summary for the common text: valid UTF-8 without
// control characters, no white space but single ASCII spaces between
// words. It reports false for any other text.
func summaryPlain(s string) (string, bool) {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' {
		return "", s == ""
	}
	n, cut := 0, -1 // runes; byte offset of rune SummaryRunes
	space := false
	for i := 0; i < len(s); {
		c := s[i]
		w := 1
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f || c == ' ' && space {
				return "", false
			}
			space = c == ' '
		} else {
			var r rune
			r, w = utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && w == 1 || unicode.IsControl(r) || unicode.IsSpace(r) {
				return "", false
			}
			space = false
		}
		if n == SummaryRunes {
			cut = i
		}
		n++
		i += w
	}
	if cut < 0 {
		return s, true
	}
	return strings.TrimRight(s[:cut], " ") + "…", true
}

// ascii reports whether s is printable ASCII.
func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// clean makes a stored string fit one spreadsheet cell: valid UTF-8, no
// control characters, no surrounding space.
func clean(s string) string {
	if ascii(s) && (s == "" || s[0] != ' ' && s[len(s)-1] != ' ') {
		return s // the common case: nothing to change
	}
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return ' '
			}
			return r
		}, s)
	}
	return strings.TrimSpace(s)
}

// safeURL keeps http(s) links only.
func safeURL(s string) string {
	s = clean(s)
	if plainURL(s) {
		return s
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return ""
	}
	return s
}

func interactionLabel(ia tanggap.Interaction, lang string) string {
	if ia == "" {
		return ""
	}
	if l := text(lang, "ia_"+string(ia)); l != "ia_"+string(ia) {
		return l
	}
	return clean(string(ia))
}

// plainURL reports whether s is an http(s) link url.Parse surely accepts
// with a host: a lower-case scheme, a host of letters, digits, dots and
// hyphens, an optional numeric port, and a path without escapes, query or
// fragment. Other links go through url.Parse.
func plainURL(s string) bool {
	rest, ok := strings.CutPrefix(s, "https://")
	if !ok {
		if rest, ok = strings.CutPrefix(s, "http://"); !ok {
			return false
		}
	}
	i := 0
	for i < len(rest) && (rest[i] >= 'a' && rest[i] <= 'z' || rest[i] >= 'A' && rest[i] <= 'Z' || rest[i] >= '0' && rest[i] <= '9' ||
		rest[i] == '.' || rest[i] == '-') {
		i++
	}
	if i == 0 {
		return false
	}
	if i < len(rest) && rest[i] == ':' {
		j := i + 1
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == i+1 {
			return false
		}
		i = j
	}
	if i == len(rest) {
		return true
	}
	if rest[i] != '/' {
		return false
	}
	for _, c := range []byte(rest[i:]) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~!$&'()*+,;=:@/", c) >= 0:
		default:
			return false
		}
	}
	return true
}
