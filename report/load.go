package report

import (
	"context"
	"time"

	"github.com/tanggap/tanggap"
)

// Source is the part of the store a report reads (store.Store).
type Source interface {
	// AppendCreated appends to dst the items whose platform time is in
	// [from, to) and for which keep is true, oldest first, reading about
	// batch items per round trip. With opd set it reads only the items that
	// have been in that OPD (keep still sees each one's current OPD).
	AppendCreated(ctx context.Context, opd string, from, to time.Time, batch int64, dst []tanggap.Item,
		keep func(*tanggap.Item) bool) ([]tanggap.Item, error)
	// ScanCreatedIn calls fn with batches of the items (of an OPD, or every
	// item for "") whose platform time is in [from, to), oldest first.
	ScanCreatedIn(ctx context.Context, opd string, from, to time.Time, batch int64, fn func([]tanggap.Item) error) error
	// OpenOutside calls fn with each open item of OPD slots ("" is the
	// unrouted one) whose platform time is before from or at or after to:
	// its id, slot, platform time, and the deadline and due-soon instants
	// of its current clock (zero when none runs), without reading it.
	OpenOutside(ctx context.Context, slots []string, from, to time.Time, fn func(id, opd string, created, due, soon time.Time)) error
	// EndedIDs lists the items whose platform time is in [from, to) (and
	// maybe a few around it) that ended at or after endedFrom.
	EndedIDs(ctx context.Context, from, to, endedFrom time.Time) ([]string, error)
	// ReopenedIDs lists the items that became open again after they had
	// ended, the last time after since.
	ReopenedIDs(ctx context.Context, since time.Time) ([]string, error)
	// AppendRows appends to dst the items of ids (the fields reports
	// read) for which keep is true, skipping missing ones, reading about
	// batch items per round trip.
	AppendRows(ctx context.Context, ids []string, batch int, dst []tanggap.Item, keep func(*tanggap.Item) bool) ([]tanggap.Item, error)
}

// OPD is a department as reports name it.
type OPD struct {
	Code, Name, Abbrev string
}

// Scope is what a viewer may see in a report.
type Scope struct {
	// OPDs are the departments reported on, in display order. Each gets a
	// row even when it received nothing.
	OPDs []OPD
	// Unrouted adds the items no OPD was chosen for yet (city-wide viewers).
	Unrouted bool
	// Other adds items whose OPD code is not in OPDs (such as triage's
	// out_of_scope code), each under its code (city-wide viewers).
	Other bool
}

// Includes reports whether an item of OPD slot code is in the scope.
func (s Scope) Includes(code string) bool {
	if code == "" {
		return s.Unrouted
	}
	for _, o := range s.OPDs {
		if o.Code == code {
			return true
		}
	}
	return s.Other
}

// matcher is Includes with a set, for loops over many items.
func (s Scope) matcher() func(code string) bool {
	set := make(map[string]bool, len(s.OPDs))
	for _, o := range s.OPDs {
		set[o.Code] = true
	}
	return func(code string) bool {
		if code == "" {
			return s.Unrouted
		}
		return set[code] || s.Other
	}
}

// Slots are the store's OPD slots of the scope: "" (the unrouted items)
// when it has them, then its OPDs' codes. Other codes have no slot list.
func (s Scope) Slots() []string {
	slots := make([]string, 0, len(s.OPDs)+1)
	if s.Unrouted {
		slots = append(slots, "")
	}
	for _, o := range s.OPDs {
		slots = append(slots, o.Code)
	}
	return slots
}

// Citywide reports whether the scope is the whole city.
func (s Scope) Citywide() bool { return s.Unrouted && s.Other }

// Data is what a report is computed from.
type Data struct {
	Period Period
	Scope  Scope
	// Items are the complaints received in the period: platform time in
	// [Period.From, Period.To), in the scope, needing an answer.
	Items []tanggap.Item
	// Others are the other complaints of the scope the report needs: those
	// received in the lookback window before the period that were open
	// when it began and have ended since (the carry-over), and those of
	// the open backlog received before the period that became open again
	// after it began (whether they are carried over depends on when they
	// were ended: tanggap.Item.Reopens). Load leaves out the items of the
	// period (they are in Items) and the other open ones (in Open).
	Others []tanggap.Item
	// Open is the open backlog received outside the period: for the
	// carry-over, "overdue now", "oldest open" and the aging chart. Each
	// was open all along since the period began.
	Open []OpenItem

	// distinct is set by Load: no id repeats within Items.
	distinct bool
}

// OpenItem is an open complaint as the store's open sets know it, without
// reading it: its id, OPD slot ("" unrouted), platform time, and its
// current clock's deadline and due-soon instants (zero when none runs, as
// for an item on hold).
type OpenItem struct {
	ID, OPD             string
	CreatedAt           time.Time
	Deadline, DueSoonAt time.Time
}

// stateAt is tanggap.Item.StateAt for an open item.
func (o *OpenItem) stateAt(now time.Time) tanggap.DeadlineState {
	switch {
	case o.Deadline.IsZero():
		return tanggap.OnTrack
	case !now.Before(o.Deadline):
		return tanggap.Overdue
	case !o.DueSoonAt.IsZero() && !now.Before(o.DueSoonAt):
		return tanggap.DueSoon
	}
	return tanggap.OnTrack
}

// DefaultLookback is how far before the period Load looks for items that
// were open at its start and have ended since (the carry-over); items open
// now are found whatever their age.
const DefaultLookback = 90 * 24 * time.Hour

// Counted reports whether an item is a complaint reports count: a citizen
// post that went into an OPD queue. Official replies and posts that never
// needed an answer (praise, noise at triage) are not counted.
func Counted(it *tanggap.Item) bool {
	return it.Queued && it.ReplyBy == "" && it.Kind != tanggap.KindOfficial
}

// Load reads a report's data: the items of the period, the items of the
// lookback window before it that were open when it began and have ended
// since, and the open backlog of the scope's slots outside the period.
// lookback <= 0 means DefaultLookback.
func Load(ctx context.Context, src Source, p Period, sc Scope, lookback time.Duration) (*Data, error) {
	if lookback <= 0 {
		lookback = DefaultLookback
	}
	d, err := LoadPeriod(ctx, src, p, sc)
	if err != nil {
		return nil, err
	}
	// The carry-over: items of the lookback that ended at or after the
	// period's start (the store indexes ended items by when they ended),
	// and the open backlog received before the period or after it (a past
	// month's report still counts today's overdue), from the open sets.
	ids, err := src.EndedIDs(ctx, p.From.Add(-lookback), p.From, p.From)
	if err != nil {
		return nil, err
	}
	keep := sc.keep()
	d.Others, err = src.AppendRows(ctx, ids, scanBatch, nil, func(it *tanggap.Item) bool {
		return !p.Contains(it.CreatedAt) && !it.Status.Open() && keep(it)
	})
	if err != nil {
		return nil, err
	}
	// An open item received before the period that became open again
	// after it began was not open all along: whether it was open at the
	// start is its reopenings' to say, so it is read in full.
	re, err := src.ReopenedIDs(ctx, p.From)
	if err != nil {
		return nil, err
	}
	reopened := make(map[string]bool, len(re))
	for _, id := range re {
		reopened[id] = true
	}
	var read []string
	err = src.OpenOutside(ctx, sc.Slots(), p.From, p.To, func(id, opd string, created, due, soon time.Time) {
		if reopened[id] && created.Before(p.From) {
			read = append(read, id)
			return
		}
		d.Open = append(d.Open, OpenItem{ID: id, OPD: opd, CreatedAt: created, Deadline: due, DueSoonAt: soon})
	})
	if err != nil {
		return nil, err
	}
	if len(read) > 0 {
		if d.Others, err = src.AppendRows(ctx, read, scanBatch, d.Others, keep); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// LoadPeriod reads the items of the period only: what the detail register
// lists. Its Data has no Others, so a report built from it has no
// carry-over and counts only the period's items as open now; the register
// does not need them (see Header).
func LoadPeriod(ctx context.Context, src Source, p Period, sc Scope) (*Data, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	d := &Data{Period: p, Scope: sc, distinct: true}
	var err error
	if d.Items, err = src.AppendCreated(ctx, sc.source(), p.From, p.To, scanBatch, nil, sc.keep()); err != nil {
		return nil, err
	}
	return d, nil
}

// source is the OPD whose items a scan of the scope may read alone: the
// scope's only OPD when it has neither the unrouted items nor other codes;
// "" (every item) otherwise.
func (s Scope) source() string {
	if len(s.OPDs) == 1 && !s.Unrouted && !s.Other {
		return s.OPDs[0].Code
	}
	return ""
}

// keep selects the items of the scope a report counts.
func (s Scope) keep() func(*tanggap.Item) bool {
	in := s.matcher()
	return func(it *tanggap.Item) bool { return Counted(it) && in(it.OPD) }
}

// scanBatch is how many items Load reads per round trip.
const scanBatch = 2000
