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
	seen := make(map[string]bool, len(d.Items))
	in := d.Scope.matcher()
	for i := range d.Items {
		it := &d.Items[i]
		if !seen[it.ID] && Counted(it) && in(it.OPD) && d.Period.Contains(it.CreatedAt) {
			seen[it.ID] = true
			items = append(items, it)
		}
	}
	slices.SortStableFunc(items, func(a, b *tanggap.Item) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.ID, b.ID)
	})
	reg.Rows = make([]RegisterRow, len(items))
	for i, it := range items {
		reg.Rows[i] = r.registerRow(it, names, opt)
	}
	return reg
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

func (r *Report) registerRow(it *tanggap.Item, names map[string]string, opt RegisterOptions) RegisterRow {
	row := RegisterRow{
		ID: clean(it.ID), Posted: it.CreatedAt, Captured: it.CapturedAt, Platform: it.Platform.Label(), Account: clean(it.Account),
		Interaction: interactionLabel(it.Interaction, opt.Lang), Link: safeURL(it.URL), Summary: Summary(it.Text),
		Kind: it.Kind.Label(opt.Lang), Topic: clean(it.Topic), Kecamatan: clean(it.Kecamatan), Kelurahan: clean(it.Kelurahan),
		OPD: it.OPD, Assigned: deref(it.AssignedAt), FirstResponse: deref(it.FirstResponseAt), Resolved: deref(it.ResolvedAt),
		Evidence: clean(it.Evidence), Status: it.Status, StatusLabel: it.Status.Label(opt.Lang),
		ExternalRef: clean(it.ExternalRef), Officer: clean(it.Officer),
	}
	switch {
	case it.OPD == "":
		row.OPDName = text(opt.Lang, "unrouted")
	case names[it.OPD] != "":
		row.OPDName = names[it.OPD]
	default:
		row.OPDName = it.OPD
	}
	if opt.Unmask {
		row.Reporter = clean(it.Author)
		if n := clean(it.AuthorName); n != "" && n != row.Reporter {
			row.Reporter += " (" + n + ")"
		}
	} else {
		row.Reporter = Mask(clean(it.Author))
	}
	switch {
	case it.Status.Open() && !it.Deadline.IsZero():
		row.Deadline = it.Deadline
		row.HKLeft, row.HasHKLeft = r.cal.WorkingDaysBetween(r.Now, it.Deadline), true
	case it.ResolvedAt != nil && !it.Deadlines.Resolution.IsZero():
		row.Deadline = it.Deadlines.Resolution
		row.HKLeft, row.HasHKLeft = r.cal.WorkingDaysBetween(*it.ResolvedAt, it.Deadlines.Resolution), true
	}
	if row.HasHKLeft {
		row.HKLeft = math.Round(row.HKLeft*100) / 100
		if row.HKLeft == 0 {
			row.HKLeft = 0 // no -0
		}
	}
	return row
}

// Mask hides most of an identity: the first two and the last two
// characters stay, the rest becomes "***" whatever its length ("wa***88").
// Identities of four characters or fewer keep only their first one.
func Mask(s string) string {
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

// Summary is the register's view of a text: one line (every run of white
// space or control characters becomes one space), at most SummaryRunes
// runes, with "…" when cut.
func Summary(s string) string {
	s = strings.Join(strings.Fields(clean(s)), " ")
	if utf8.RuneCountInString(s) <= SummaryRunes {
		return s
	}
	rs := []rune(s)[:SummaryRunes]
	return strings.TrimRight(string(rs), " ") + "…"
}

// clean makes a stored string fit one spreadsheet cell: valid UTF-8, no
// control characters, no surrounding space.
func clean(s string) string {
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
