// Package report computes the reports of the PPID Utama (Humas) and the
// OPDs over a period: the response league table per OPD, the monthly recap
// ("Rekapitulasi Pengaduan Media Sosial per Perangkat Daerah"), the detail
// register of items, their CSV and XLSX exports, and server-side SVG
// charts. It is pure computation over items read through a small Source
// interface: no HTTP here.
//
// Every figure is defined by a formula printed with the report
// ([Report.Formulas]); cities compute "persentase tindak lanjut"
// differently, so the report says which one it is.
package report

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
	"github.com/tanggap/tanggap/calendar"
)

// DefaultMinSample is how many received complaints an OPD needs before the
// league table ranks it.
const DefaultMinSample = 5

// Options are the settings of a report.
type Options struct {
	// Calendar is the working-day calendar (required).
	Calendar *calendar.Calendar
	// Now is the instant of the "now" figures (overdue, oldest open).
	Now time.Time
	// MinSample is the minimum of received complaints before an OPD is
	// ranked; <= 0 means DefaultMinSample.
	MinSample int
	// FirstResponseTarget is the first-response clock used for items that
	// carry no first-response deadline (config clocks.first_response).
	FirstResponseTarget time.Duration
	// Lookback is the carry-over search window Load used (for the formula
	// text); <= 0 means DefaultLookback.
	Lookback time.Duration
	// PrunedBefore is the latest cutoff `tanggap prune` removed ended items
	// before (store.PrunedBefore; zero when none): a period that starts
	// before it says it misses them.
	PrunedBefore time.Time
}

func (o *Options) defaults() {
	if o.MinSample <= 0 {
		o.MinSample = DefaultMinSample
	}
	if o.FirstResponseTarget <= 0 {
		o.FirstResponseTarget = 24 * time.Hour
	}
	if o.Lookback <= 0 {
		o.Lookback = DefaultLookback
	}
}

// Durations summarises times to first response.
type Durations struct {
	N      int
	Mean   time.Duration
	Median time.Duration
	P90    time.Duration
}

// Row is one OPD's line of the league table and the recap.
type Row struct {
	OPD    string // code; "" for the unrouted row; Total for the total row
	Name   string
	Abbrev string

	CarryOver  int // open at the start of the period, received before it
	Received   int
	Archived   int // received, then archived as not a complaint
	NeedAnswer int // Received - Archived
	Answered   int // NeedAnswer with a first response recorded
	InTarget   int // Answered with first response <= first-response deadline
	Pending    int // NeedAnswer not answered whose first-response deadline has not passed
	Resolved   int // NeedAnswer with a resolution time recorded
	ByStatus   map[tanggap.Status]int

	FirstResponse     Durations // clock hours
	FirstResponseWork Durations // working hours (calendar.WorkingHoursBetween)
	ResolutionHK      float64   // mean working days from T0 to resolution
	ResolvedN         int       // resolutions in ResolutionHK

	OpenNow      int     // open now (any platform time)
	Overdue      int     // open now with a running clock past its deadline
	OldestOpenHK float64 // working days since T0 of the oldest open item; 0 when none

	TopPlatform  tanggap.Platform
	TopPlatformN int
	TopTopic     string
	TopTopicN    int

	Rank int // 1.. in the league table; 0 when not ranked
}

// Total is the OPD code of the total row.
const Total = "_total"

// ratio returns a/b and whether it is defined (b > 0).
func ratio(a, b int) (float64, bool) {
	if b <= 0 {
		return 0, false
	}
	return float64(a) / float64(b), true
}

// FollowedUp is "persentase tindak lanjut": Answered / NeedAnswer.
func (r *Row) FollowedUp() (float64, bool) { return ratio(r.Answered, r.NeedAnswer) }

// WithinTarget is Answered within target / (NeedAnswer - Pending).
func (r *Row) WithinTarget() (float64, bool) { return ratio(r.InTarget, r.NeedAnswer-r.Pending) }

// ResolvedShare is Resolved / NeedAnswer.
func (r *Row) ResolvedShare() (float64, bool) { return ratio(r.Resolved, r.NeedAnswer) }

// Status returns the count of received items now in status st.
func (r *Row) Status(st tanggap.Status) int { return r.ByStatus[st] }

// StatusCounts are the per-status counts in tanggap.Statuses order.
func (r *Row) StatusCounts() []int {
	out := make([]int, len(tanggap.Statuses))
	for i, st := range tanggap.Statuses {
		out[i] = r.ByStatus[st]
	}
	return out
}

// Ranked reports whether the row has a place in the league table.
func (r *Row) Ranked() bool { return r.Rank > 0 }

// Report is a computed report.
type Report struct {
	Period    Period
	Now       time.Time
	Scope     Scope
	MinSample int
	Target    time.Duration // default first-response clock

	// Rows are the recap rows in display order: the scope's OPDs, then the
	// unrouted row and other codes when the scope has them.
	Rows []Row
	// League is Rows' OPD rows ranked: ranked ones first (Rank 1..), then
	// the others ("belum cukup data") by received, descending.
	League []Row
	Total  Row

	Charts ChartData

	CalendarVersion string
	CutiNonworking  bool
	OfficeStart     string
	OfficeEnd       string
	Lookback        time.Duration
	PrunedBefore    time.Time

	loc   *time.Location
	cal   *calendar.Calendar
	clock *workClock // office time, for the register's HK left
}

// Location is the report's time zone (Asia/Jakarta).
func (r *Report) Location() *time.Location { return r.loc }

// ChartData holds what the charts draw.
type ChartData struct {
	// Weeks are the starts (Monday 00:00, clipped to the period) of the
	// weeks the period overlaps.
	Weeks []time.Time
	// WeeklySeries are the top OPDs' received counts per week, with the
	// rest summed in a last series whose OPD is "" (Others).
	WeeklySeries []Series
	// FRBuckets counts answered complaints by time to first response
	// (clock hours) in FRBounds' buckets: (0, b0], (b0, b1], ..., (bn, inf).
	FRBounds     []time.Duration
	FRBuckets    []int
	FRUnanswered int
	// AgingBounds are working-day bounds of open items' age buckets; Aging
	// counts open items per bucket and deadline state.
	AgingBounds []float64
	Aging       [][3]int // [overdue, due_soon, on_track] per bucket
	Topics      []Count
	Kecamatan   []Count
}

// Series is one line of a chart.
type Series struct {
	OPD    string
	Label  string
	Counts []int
}

// Count is a label with a count.
type Count struct {
	Label string
	N     int
}

// facts are the per-item figures, computed once.
type facts struct {
	it         *tanggap.Item
	received   bool // T0 in the period
	need       bool
	answered   bool
	inTarget   bool
	pending    bool
	resolved   bool
	frClock    time.Duration
	frWork     time.Duration
	resHK      float64
	openNow    bool
	overdue    bool
	ageHK      float64
	carry      bool
	deadlineSt tanggap.DeadlineState
	topic      int // index of the item's topic in builder.topicNames; -1 for none
	week       int // index of the week of T0 in the chart's weeks; -1 outside
}

// OpenAt reports whether a counted item was open at t: received before t,
// not within a time it spent ended before it became open again (after the
// instant it ended and before its reopening: it.Reopens), and open now or
// ended (resolved, closed, or for statuses without their own time stamp,
// last changed) at or after t. An item reopened before the store recorded
// reopenings counts as open since T0.
func OpenAt(it *tanggap.Item, t time.Time) bool {
	if !it.CreatedAt.Before(t) {
		return false
	}
	for _, r := range it.Reopens {
		if t.After(r.Ended) && t.Before(r.At) {
			return false
		}
	}
	if it.Status.Open() {
		return true
	}
	end := it.UpdatedAt
	switch {
	case it.ResolvedAt != nil:
		end = *it.ResolvedAt
	case it.ClosedAt != nil:
		end = *it.ClosedAt
	}
	return end.IsZero() || !end.Before(t)
}

// FirstResponseDeadline is the item's first-response deadline, or T0 plus
// the default target when the item carries none.
func FirstResponseDeadline(it *tanggap.Item, target time.Duration) time.Time {
	if !it.Deadlines.FirstResponse.IsZero() {
		return it.Deadlines.FirstResponse
	}
	return it.CreatedAt.Add(target)
}

func (b *builder) facts(it *tanggap.Item, received bool) facts {
	f := facts{it: it, received: received, topic: -1, week: -1}
	now := b.opt.Now
	if received {
		f.topic = b.topic(it.Topic)
		f.week = b.chart.week(it.CreatedAt)
		f.need = it.Status != tanggap.StatusNotComplaint
		if f.need {
			if it.FirstResponseAt != nil {
				f.answered = true
				f.frClock = max(it.FirstResponseAt.Sub(it.CreatedAt), 0)
				f.frWork = max(b.clock.Hours(it.CreatedAt, *it.FirstResponseAt), 0)
				f.inTarget = !it.FirstResponseAt.After(FirstResponseDeadline(it, b.opt.FirstResponseTarget))
			} else {
				f.pending = now.Before(FirstResponseDeadline(it, b.opt.FirstResponseTarget))
			}
			if it.ResolvedAt != nil {
				f.resolved = true
				f.resHK = max(b.clock.Days(it.CreatedAt, *it.ResolvedAt), 0)
			}
		}
	}
	if it.Status.Open() {
		b.openNow(&f, it.CreatedAt, it.StateAt(now))
	}
	f.carry = OpenAt(it, b.p.From)
	return f
}

// openNow marks f as an item open now, received at created, in deadline
// state st.
func (b *builder) openNow(f *facts, created time.Time, st tanggap.DeadlineState) {
	f.openNow = true
	f.deadlineSt = st
	f.overdue = st == tanggap.Overdue
	f.ageHK = max(b.clock.Days(created, b.opt.Now), 0)
}

type builder struct {
	opt   Options
	p     Period
	clock *workClock
	chart *chartAcc
	// topicIndex numbers the topics met; topicNames[i] is topic i.
	topicIndex map[string]int
	topicNames []string
}

// topic numbers a topic ("" is -1).
func (b *builder) topic(t string) int {
	if t == "" {
		return -1
	}
	i, ok := b.topicIndex[t]
	if !ok {
		i = len(b.topicNames)
		b.topicIndex[t] = i
		b.topicNames = append(b.topicNames, t)
	}
	return i
}

// acc accumulates one row. Counts are kept in slices indexed like
// tanggap.Statuses, tanggap.Platforms and the builder's topics, with maps
// for codes outside those lists, and become the row's maps and tops in
// finish.
type acc struct {
	row      Row
	frc, frw []time.Duration
	resSum   float64
	status   []int
	statusX  map[tanggap.Status]int
	plat     []int
	platX    map[tanggap.Platform]int
	topics   []int
	weekly   []int // received per week of the chart; nil when none
}

func newAcc(code, name, abbrev string) *acc {
	return &acc{row: Row{OPD: code, Name: name, Abbrev: abbrev}, status: make([]int, len(tanggap.Statuses)),
		plat: make([]int, len(tanggap.Platforms))}
}

func statusIndex(st tanggap.Status) int {
	for i, s := range tanggap.Statuses {
		if s == st {
			return i
		}
	}
	return -1
}

func platformIndex(p tanggap.Platform) int {
	for i, q := range tanggap.Platforms {
		if q == p {
			return i
		}
	}
	return -1
}

func (a *acc) add(f *facts, weeks int) {
	r := &a.row
	if f.carry {
		r.CarryOver++
	}
	if f.openNow {
		r.OpenNow++
		if f.overdue {
			r.Overdue++
		}
		r.OldestOpenHK = max(r.OldestOpenHK, f.ageHK)
	}
	if !f.received {
		return
	}
	r.Received++
	if i := statusIndex(f.it.Status); i >= 0 {
		a.status[i]++
	} else {
		if a.statusX == nil {
			a.statusX = map[tanggap.Status]int{}
		}
		a.statusX[f.it.Status]++
	}
	if i := platformIndex(f.it.Platform); i >= 0 {
		a.plat[i]++
	} else {
		if a.platX == nil {
			a.platX = map[tanggap.Platform]int{}
		}
		a.platX[f.it.Platform]++
	}
	if f.topic >= 0 {
		if f.topic >= len(a.topics) {
			a.topics = append(a.topics, make([]int, f.topic+1-len(a.topics))...)
		}
		a.topics[f.topic]++
	}
	if f.week >= 0 {
		if a.weekly == nil {
			a.weekly = make([]int, weeks)
		}
		a.weekly[f.week]++
	}
	if !f.need {
		r.Archived++
		return
	}
	r.NeedAnswer++
	if f.answered {
		r.Answered++
		a.frc = append(a.frc, f.frClock)
		a.frw = append(a.frw, f.frWork)
		if f.inTarget {
			r.InTarget++
		}
	}
	if f.pending {
		r.Pending++
	}
	if f.resolved {
		r.Resolved++
		r.ResolvedN++
		a.resSum += f.resHK
	}
}

func (a *acc) finish(topicNames []string) Row {
	r := a.row
	r.FirstResponse = summarize(a.frc)
	r.FirstResponseWork = summarize(a.frw)
	if r.ResolvedN > 0 {
		r.ResolutionHK = a.resSum / float64(r.ResolvedN)
	}
	r.ByStatus = make(map[tanggap.Status]int, len(a.status)+len(a.statusX))
	for i, n := range a.status {
		if n > 0 {
			r.ByStatus[tanggap.Statuses[i]] = n
		}
	}
	for st, n := range a.statusX {
		r.ByStatus[st] = n
	}
	for i, p := range tanggap.Platforms {
		if n := a.plat[i]; n > r.TopPlatformN {
			r.TopPlatform, r.TopPlatformN = p, n
		}
	}
	for p, n := range a.platX { // platforms outside the known list
		if n > r.TopPlatformN {
			r.TopPlatform, r.TopPlatformN = p, n
		}
	}
	if t := topCounts(a.topicCounts(topicNames), 1); len(t) > 0 {
		r.TopTopic, r.TopTopicN = t[0].Label, t[0].N
	}
	return r
}

// topicCounts are the row's received complaints per topic.
func (a *acc) topicCounts(topicNames []string) map[string]int {
	m := make(map[string]int, len(a.topics))
	for i, n := range a.topics {
		if n > 0 {
			m[topicNames[i]] = n
		}
	}
	return m
}

// summarize computes the mean, median and nearest-rank p90 of ds (sorted in
// place).
func summarize(ds []time.Duration) Durations {
	n := len(ds)
	if n == 0 {
		return Durations{}
	}
	slices.Sort(ds)
	var sum float64
	for _, d := range ds {
		sum += float64(d)
	}
	out := Durations{N: n, Mean: time.Duration(math.Round(sum / float64(n)))}
	if n%2 == 1 {
		out.Median = ds[n/2]
	} else {
		out.Median = (ds[n/2-1] + ds[n/2]) / 2
	}
	out.P90 = Percentile(ds, 0.9)
	return out
}

// Percentile is the nearest-rank percentile q (0 < q <= 1) of sorted: the
// value at rank ceil(q*n).
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	k := int(math.Ceil(q*float64(len(sorted))-1e-9)) - 1 // 1e-9: 0.9*n must not round up past n*9/10
	return sorted[min(max(k, 0), len(sorted)-1)]
}

// topCounts returns the n most frequent labels, ties by label.
func topCounts(m map[string]int, n int) []Count {
	out := make([]Count, 0, len(m))
	for k, v := range m {
		out = append(out, Count{Label: k, N: v})
	}
	slices.SortFunc(out, func(a, b Count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return strings.Compare(a.Label, b.Label)
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Header is a report without figures: the period, the time of the data,
// the scope, the calendar settings and the formulas, which is what the
// detail register's exports print around their rows (BuildRegister needs
// nothing more). Its Rows, League, Total and Charts are empty.
func Header(d *Data, opt Options) *Report {
	opt.defaults()
	cal := opt.Calendar
	co := cal.Options()
	rep := &Report{Period: d.Period, Now: opt.Now, Scope: d.Scope, MinSample: opt.MinSample, Target: opt.FirstResponseTarget,
		CalendarVersion: cal.Version(), CutiNonworking: cal.CutiBersamaIsNonworking(), OfficeStart: co.OfficeStart, OfficeEnd: co.OfficeEnd,
		Lookback: opt.Lookback, PrunedBefore: opt.PrunedBefore, loc: cal.Location(), cal: cal}
	// The office-time table covers the instants a report meets: T0 since
	// the lookback, answers and resolutions, deadlines up to a year on.
	until := d.Period.To
	if opt.Now.After(until) {
		until = opt.Now
	}
	rep.clock = newWorkClock(cal, d.Period.From.Add(-opt.Lookback), until.AddDate(1, 0, 0))
	return rep
}

// Build computes the report of d.
func Build(d *Data, opt Options) *Report {
	opt.defaults()
	rep := Header(d, opt)
	loc := rep.loc
	b := &builder{opt: opt, p: d.Period, clock: rep.clock, chart: newChartAcc(d.Period, loc), topicIndex: map[string]int{}}

	// accs holds the row of every OPD slot met; nil for a slot outside the
	// scope, so that each item costs one lookup.
	accs := map[string]*acc{}
	var order []string
	for _, o := range d.Scope.OPDs {
		if _, dup := accs[o.Code]; !dup {
			accs[o.Code] = newAcc(o.Code, o.Name, o.Abbrev)
			order = append(order, o.Code)
		}
	}
	if d.Scope.Unrouted {
		accs[""] = newAcc("", "", "")
	}
	total := newAcc(Total, "", "")
	in := d.Scope.matcher()
	weeks := len(b.chart.weeks)

	// row is the accumulator of an OPD slot: nil outside the scope.
	row := func(code string) *acc {
		a, ok := accs[code]
		if !ok {
			if in(code) {
				a = newAcc(code, code, "")
			}
			accs[code] = a
		}
		return a
	}
	count := func(a *acc, f *facts) {
		a.add(f, weeks)
		total.add(f, weeks)
		b.chart.add(f)
	}
	seen := newSeen(d)
	visit := func(it *tanggap.Item, received, other bool) {
		if !Counted(it) {
			return
		}
		a := row(it.OPD)
		if a == nil || seen.visited(it.ID, other) {
			return
		}
		f := b.facts(it, received)
		count(a, &f)
	}
	for i := range d.Items {
		visit(&d.Items[i], d.Period.Contains(d.Items[i].CreatedAt), false)
	}
	for i := range d.Others {
		visit(&d.Others[i], d.Period.Contains(d.Others[i].CreatedAt), true)
	}
	// The open backlog outside the period: open now, carried over when
	// received before it (OpenAt of an open item that did not become open
	// again after the period began: Load reads those into Others). The
	// open sets hold counted items only; none is in Items or Others (see
	// Load).
	for i := range d.Open {
		o := &d.Open[i]
		if a := row(o.OPD); a != nil {
			f := facts{topic: -1, week: -1, carry: o.CreatedAt.Before(d.Period.From)}
			b.openNow(&f, o.CreatedAt, o.stateAt(opt.Now))
			count(a, &f)
		}
	}

	// Recap rows: the scope's OPDs, the unrouted row, other codes by code.
	for _, code := range order {
		rep.Rows = append(rep.Rows, accs[code].finish(b.topicNames))
	}
	if a := accs[""]; a != nil {
		rep.Rows = append(rep.Rows, a.finish(b.topicNames))
	}
	var extra []string
	for code, a := range accs {
		if a != nil && code != "" && !slices.Contains(order, code) {
			extra = append(extra, code)
		}
	}
	slices.Sort(extra)
	for _, code := range extra {
		rep.Rows = append(rep.Rows, accs[code].finish(b.topicNames))
	}
	rep.Total = total.finish(b.topicNames)

	// League: OPD rows only (not the unrouted row nor unknown codes).
	rep.League = append(rep.League, rep.Rows[:len(order)]...)
	rank(rep.League, opt.MinSample)
	ranks := map[string]int{}
	for _, r := range rep.League {
		ranks[r.OPD] = r.Rank
	}
	for i := range rep.Rows {
		rep.Rows[i].Rank = ranks[rep.Rows[i].OPD]
	}
	rep.Charts = b.chart.finish(accs, total.topicCounts(b.topicNames))
	return rep
}

// seenIDs tells whether an item was visited before (an item may be in both
// Items and Others, or twice in one of them). Data from Load has distinct
// ids within Items, so only the ids of Others are remembered then, and an
// item of Items is looked up among them.
type seenIDs struct {
	all    map[string]bool // every id visited, when Items may repeat ids
	others map[string]bool // ids of Others (Load's data): true once visited
}

func newSeen(d *Data) *seenIDs {
	if !d.distinct {
		return &seenIDs{all: make(map[string]bool, len(d.Items)+len(d.Others))}
	}
	s := &seenIDs{others: make(map[string]bool, len(d.Others))}
	for i := range d.Others {
		s.others[d.Others[i].ID] = false
	}
	return s
}

// visited reports whether id was visited before, and remembers it.
func (s *seenIDs) visited(id string, other bool) bool {
	if s.all != nil {
		if s.all[id] {
			return true
		}
		s.all[id] = true
		return false
	}
	if len(s.others) == 0 {
		return false
	}
	v, ok := s.others[id]
	if !ok {
		return false // an item of Items that is not in Others
	}
	if v {
		return true
	}
	s.others[id] = true
	return false
}

// rank orders league rows: those with at least min received first, by %
// within target (descending), % followed up (descending), median working
// hours to first response (ascending), received (descending), code; then
// the rest by received (descending) and code.
func rank(rows []Row, minSample int) {
	key := func(r *Row) (float64, float64, time.Duration) {
		wt, ok := r.WithinTarget()
		if !ok {
			wt = -1
		}
		fu, ok := r.FollowedUp()
		if !ok {
			fu = -1
		}
		med := r.FirstResponseWork.Median
		if r.FirstResponseWork.N == 0 {
			med = math.MaxInt64
		}
		return wt, fu, med
	}
	slices.SortStableFunc(rows, func(a, b Row) int {
		ea, eb := a.Received >= minSample, b.Received >= minSample
		if ea != eb {
			if ea {
				return -1
			}
			return 1
		}
		if ea {
			wa, fa, ma := key(&a)
			wb, fb, mb := key(&b)
			if c := cmp.Compare(wb, wa); c != 0 {
				return c
			}
			if c := cmp.Compare(fb, fa); c != 0 {
				return c
			}
			if c := cmp.Compare(ma, mb); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(b.Received, a.Received); c != 0 {
			return c
		}
		return strings.Compare(a.OPD, b.OPD)
	})
	for i := range rows {
		rows[i].Rank = 0
		if rows[i].Received >= minSample {
			rows[i].Rank = i + 1
		}
	}
}

// RowName is the display name of a row: the OPD's name, the unrouted or
// total label, or the code of an OPD not in the configuration.
func RowName(r *Row, lang string) string {
	switch {
	case r.OPD == "":
		return text(lang, "unrouted")
	case r.OPD == Total:
		return text(lang, "total")
	case r.Name != "":
		return r.Name
	}
	return r.OPD
}

// Formula is one definition printed with the report.
type Formula struct {
	Name string
	Text string
}

// Formulas are the definitions of every figure, verbatim as printed on the
// page, the print page and the exports.
func (r *Report) Formulas(lang string) []Formula {
	hours := r.OfficeStart + "-" + r.OfficeEnd
	target := fmtTarget(r.Target, lang)
	days := int(r.Lookback / (24 * time.Hour))
	if lang == "en" {
		return []Formula{
			{"Received", "Received = citizen complaints that need an answer (they entered an OPD queue; official accounts' replies are not counted) whose platform time (T0) lies in the period, grouped by their current OPD."},
			{"Need an answer", "Need an answer = Received − Archived (not a complaint: praise, spam, answered elsewhere)."},
			{"% followed up (persentase tindak lanjut)", "% followed up = Answered ÷ Need an answer × 100%, where Answered = complaints (not archived) whose first public response has been recorded, whenever it was given."},
			{"% within target", "% within target = Answered with first response ≤ first-response deadline (" + target + " from T0 unless set otherwise per OPD or for urgent posts) ÷ (Need an answer − unanswered complaints whose deadline has not passed yet) × 100%."},
			{"Time to first response", "Time to first response = time of the first public response − T0, in clock hours and in working hours (only office hours " + hours + " WIB on working days of the holiday calendar)."},
			{"Median and P90", "Median = the middle value (the mean of the two middle values when their number is even); P90 = the value of rank ⌈0.9 × n⌉ among the n sorted times (nearest rank)."},
			{"% resolved", "% resolved = complaints with a recorded resolution time (status Resolved, or Closed after Resolved) ÷ Need an answer × 100%."},
			{"Mean resolution (working days)", "Mean resolution = mean working days (fractional: office time ÷ one office day) from T0 to resolution, over resolved complaints."},
			{"Overdue (now)", "Overdue (now) = complaints still open (whatever their T0) whose running clock's deadline has passed at the time the data was read."},
			{"Oldest open (working days)", "Oldest open = working days from T0 of the oldest open complaint to the time the data was read."},
			{"Carried over", fmt.Sprintf("Carried over = complaints with T0 before the period that were still open at its start (searched among complaints open now and those of the %d days before the period; Archived, Out of scope and Duplicate complaints count as ended at their last change).", days)},
			{"Rank", fmt.Sprintf("Only OPDs with Received ≥ %d are ranked; the others read \"not enough data\". Order: %% within target (highest first), then %% followed up (highest first), then median working hours to first response (shortest first).", r.MinSample)},
			{"Top channel and topic", "Top channel and topic = the most frequent among Received complaints."},
		}
	}
	return []Formula{
		{"Diterima", "Diterima = aduan warga yang perlu tanggapan (masuk antrian OPD; balasan akun resmi tidak dihitung) dengan waktu unggah (T0) di dalam periode, dikelompokkan menurut OPD saat ini."},
		{"Perlu jawaban", "Perlu jawaban = Diterima − Diarsipkan (bukan aduan: pujian, spam, sudah dijawab di tempat lain)."},
		{"Persentase tindak lanjut", "Persentase tindak lanjut = Dijawab ÷ Perlu jawaban × 100%, dengan Dijawab = aduan (tidak diarsipkan) yang tanggapan publik pertamanya sudah tercatat, kapan pun tanggapan itu diberikan."},
		{"Persentase tepat waktu", "Persentase tepat waktu = Dijawab dengan waktu tanggapan pertama ≤ tenggat tanggapan pertama (" + target + " sejak T0 kecuali diatur lain per OPD atau untuk aduan darurat) ÷ (Perlu jawaban − aduan belum dijawab yang tenggatnya belum lewat) × 100%."},
		{"Waktu tanggapan pertama", "Waktu tanggapan pertama = waktu tanggapan publik pertama − T0, dalam jam (jam dinding) dan dalam jam kerja (hanya jam kantor " + hours + " WIB pada hari kerja menurut kalender libur)."},
		{"Median dan P90", "Median = nilai tengah (rata-rata dua nilai tengah bila jumlahnya genap); P90 = nilai ke-⌈0,9 × n⌉ dari n waktu tanggapan yang diurutkan (nearest rank)."},
		{"Persentase selesai", "Persentase selesai = aduan dengan waktu penyelesaian tercatat (status Selesai, atau Ditutup setelah Selesai) ÷ Perlu jawaban × 100%."},
		{"Rata-rata penyelesaian (HK)", "Rata-rata penyelesaian = rata-rata hari kerja (pecahan: jam kantor ÷ panjang satu hari kerja) dari T0 sampai waktu penyelesaian, atas aduan yang sudah selesai."},
		{"Terlambat (saat ini)", "Terlambat (saat ini) = aduan yang masih terbuka (berapa pun T0-nya) yang tenggat berjalannya sudah lewat pada waktu posisi data."},
		{"Terbuka tertua (HK)", "Terbuka tertua = hari kerja dari T0 aduan terbuka tertua sampai waktu posisi data."},
		{"Sisa awal periode", fmt.Sprintf("Sisa awal periode = aduan dengan T0 sebelum awal periode yang masih terbuka pada awal periode (dicari di antara aduan yang kini masih terbuka dan aduan %d hari sebelum periode; aduan Diarsipkan, Bukan Wewenang dan Duplikat dianggap berakhir pada perubahan terakhirnya).", days)},
		{"Peringkat", fmt.Sprintf("Peringkat hanya untuk OPD dengan Diterima ≥ %d; lainnya tertulis \"belum cukup data\". Urutan: persentase tepat waktu tertinggi, lalu persentase tindak lanjut tertinggi, lalu median jam kerja tanggapan pertama tersingkat.", r.MinSample)},
		{"Kanal dan topik terbanyak", "Kanal dan topik terbanyak = yang paling sering muncul di antara aduan Diterima."},
	}
}

func fmtTarget(d time.Duration, lang string) string {
	h := d.Hours()
	unit := " jam"
	if lang == "en" {
		unit = " hours"
	}
	if h == math.Trunc(h) {
		return fmt.Sprintf("%d%s", int(h), unit)
	}
	return Decimal(h, 1, lang) + unit
}

// Notes are the metadata every export and print page carries: period, the
// time of the data, scope, holiday calendar version, the cuti bersama
// setting and office hours.
func (r *Report) Notes(lang string) [][2]string {
	cuti := text(lang, "meta_cuti_on")
	if r.CutiNonworking {
		cuti = text(lang, "meta_cuti_off")
	}
	var pruned [][2]string
	if n := r.PrunedNote(lang); n != "" {
		pruned = [][2]string{{text(lang, "meta_pruned"), n}}
	}
	return append(pruned, [][2]string{
		{text(lang, "meta_period"), r.Period.Label(lang, r.loc) + " (" + r.Period.From.In(r.loc).Format("2006-01-02") + " – " + r.Period.Last(r.loc).Format("2006-01-02") + ")"},
		{text(lang, "meta_generated"), TimeLabel(r.Now, lang, r.loc)},
		{text(lang, "meta_scope"), r.ScopeLabel(lang)},
		{text(lang, "meta_calendar"), r.CalendarVersion},
		{text(lang, "meta_cuti"), cuti},
		{text(lang, "meta_office"), r.OfficeStart + "-" + r.OfficeEnd + " WIB"},
		{text(lang, "meta_zone"), "WIB (Asia/Jakarta, UTC+07:00)"},
	}...)
}

// PrunedNote says that the figures leave out the items a prune removed,
// when the period starts before its cutoff ("" otherwise).
func (r *Report) PrunedNote(lang string) string {
	if r.PrunedBefore.IsZero() || !r.Period.From.Before(r.PrunedBefore) {
		return ""
	}
	return fmt.Sprintf(text(lang, "meta_pruned_text"), r.PrunedBefore.In(r.loc).Format("2006-01-02"))
}

// ScopeLabel names what the report covers.
func (r *Report) ScopeLabel(lang string) string {
	if r.Scope.Citywide() {
		return text(lang, "scope_city")
	}
	var names []string
	for _, o := range r.Scope.OPDs {
		names = append(names, o.Name)
	}
	if r.Scope.Unrouted {
		names = append(names, text(lang, "unrouted"))
	}
	return strings.Join(names, ", ")
}

// Title is the recap's title.
func Title(lang string) string { return text(lang, "title_recap") }

// LeagueTitle is the league table's title.
func LeagueTitle(lang string) string { return text(lang, "title_league") }

// Text exposes the report's fixed labels (column names, chart titles) to
// callers that lay them out, such as the web pages.
func Text(lang, key string) string { return text(lang, key) }
