package report

import (
	"cmp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
)

// OthersSeries is the OPD code of the weekly chart's "others" series.
const OthersSeries = "_others"

// Chart settings.
const (
	weeklyTopOPDs = 5
	topTopics     = 10
	topKecamatan  = 12
)

type chartAcc struct {
	period Period
	weeks  []time.Time
	frb    []time.Duration
	fr     []int
	unans  int
	agingB []float64
	aging  [][3]int
	kec    map[string]int
}

func newChartAcc(p Period, loc *time.Location) *chartAcc {
	c := &chartAcc{period: p, kec: map[string]int{},
		frb:    []time.Duration{time.Hour, 3 * time.Hour, 6 * time.Hour, 12 * time.Hour, 24 * time.Hour, 48 * time.Hour, 72 * time.Hour},
		agingB: []float64{1, 3, 5, 10, 14}}
	c.fr = make([]int, len(c.frb)+1)
	c.aging = make([][3]int, len(c.agingB)+1)
	c.weeks = WeekStarts(p, loc)
	return c
}

// WeekStarts lists the starts of the weeks (Monday to Sunday, local time)
// a period overlaps; the first is clipped to the period's start.
func WeekStarts(p Period, loc *time.Location) []time.Time {
	out := []time.Time{p.From}
	f := p.From.In(loc)
	day := time.Date(f.Year(), f.Month(), f.Day(), 0, 0, 0, 0, loc)
	back := (int(day.Weekday()) + 6) % 7 // days since Monday
	for w := day.AddDate(0, 0, 7-back); w.Before(p.To); w = w.AddDate(0, 0, 7) {
		out = append(out, w)
	}
	return out
}

func (c *chartAcc) week(t time.Time) int {
	return sort.Search(len(c.weeks), func(i int) bool { return c.weeks[i].After(t) }) - 1
}

func (c *chartAcc) add(f *facts) {
	it := f.it
	if f.openNow {
		b := sort.SearchFloat64s(c.agingB, f.ageHK)
		if b < len(c.agingB) && c.agingB[b] == f.ageHK {
			b++ // bounds are lower-inclusive: an age of exactly 1 HK is in "1-3"
		}
		switch f.deadlineSt {
		case tanggap.Overdue:
			c.aging[b][0]++
		case tanggap.DueSoon:
			c.aging[b][1]++
		default:
			c.aging[b][2]++
		}
	}
	if !f.received {
		return
	}
	// Weekly counts per OPD and topics are the rows' (acc.weekly, the total
	// row's topics).
	if it.Kecamatan != "" {
		c.kec[it.Kecamatan]++
	}
	if !f.need {
		return
	}
	if f.answered {
		i := sort.Search(len(c.frb), func(i int) bool { return f.frClock <= c.frb[i] })
		c.fr[i]++
	} else {
		c.unans++
	}
}

func (c *chartAcc) finish(accs map[string]*acc, topics map[string]int) ChartData {
	cd := ChartData{Weeks: c.weeks, FRBounds: c.frb, FRBuckets: c.fr, FRUnanswered: c.unans, AgingBounds: c.agingB, Aging: c.aging,
		Topics: topCounts(topics, topTopics), Kecamatan: topCounts(c.kec, topKecamatan)}
	type tot struct {
		code string
		n    int
	}
	var tots []tot
	weekly := map[string][]int{}
	for code, a := range accs {
		if a == nil || a.weekly == nil {
			continue
		}
		weekly[code] = a.weekly
		n := 0
		for _, v := range a.weekly {
			n += v
		}
		tots = append(tots, tot{code, n})
	}
	slices.SortFunc(tots, func(a, b tot) int {
		if x := cmp.Compare(b.n, a.n); x != 0 {
			return x
		}
		return strings.Compare(a.code, b.code)
	})
	var rest []int
	for i, t := range tots {
		if i < weeklyTopOPDs {
			label := t.code
			if a, ok := accs[t.code]; ok && a.row.Abbrev != "" {
				label = a.row.Abbrev
			} else if ok && a.row.Name != "" {
				label = a.row.Name
			}
			cd.WeeklySeries = append(cd.WeeklySeries, Series{OPD: t.code, Label: label, Counts: weekly[t.code]})
			continue
		}
		if rest == nil {
			rest = make([]int, len(c.weeks))
		}
		for w, v := range weekly[t.code] {
			rest[w] += v
		}
	}
	if rest != nil {
		cd.WeeklySeries = append(cd.WeeklySeries, Series{OPD: OthersSeries, Counts: rest})
	}
	return cd
}
