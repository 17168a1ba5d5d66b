package report

import (
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// The charts are SVG built on the server: no JavaScript, no inline style
// (the pages' Content-Security-Policy forbids it). Colours come from CSS
// classes (f-overdue, f-due_soon, f-on_track in style.css; c-0..c-5,
// f-none, axis, grid, lbl, val, lg in report.css). Every label is escaped
// with html.EscapeString, citizen-derived or not, so the result is safe to
// embed as template.HTML.

// Charts are a report's charts, ready to embed in a page.
type Charts struct {
	Weekly        template.HTML
	FirstResponse template.HTML
	Aging         template.HTML
	Topics        template.HTML
	Kecamatan     template.HTML
}

// Bar is one bar of a chart: a label, a value and the CSS class it is
// filled with.
type Bar struct {
	Label string
	N     int
	Class string
}

// Stack is one category of a stacked chart: a label and one value per
// series.
type Stack struct {
	Label string
	N     []int
}

// Legend is one series of a stacked chart.
type Legend struct {
	Label string
	Class string
}

// Chart geometry.
const (
	chartW     = 640
	maxLabel   = 28 // runes of a label before it is cut
	legendRune = 6.5
)

type svg struct{ b strings.Builder }

func esc(s string) string { return html.EscapeString(s) }

// cut shortens a label to n runes with an ellipsis and drops control
// characters, so a long or odd label cannot break the layout.
func cut(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	rs := []rune(s)
	return strings.TrimSpace(string(rs[:n-1])) + "…"
}

func f1(v float64) string { return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64) }
func itoa(n int) string   { return strconv.Itoa(n) }

// titleH is the height of the visible title line at the top of a chart.
const titleH = 22

func (s *svg) open(w, h int, title string) {
	s.b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 `)
	s.b.WriteString(itoa(w) + " " + itoa(h) + `" width="` + itoa(w) + `" height="` + itoa(h))
	s.b.WriteString(`" role="img" aria-label="` + esc(title) + `"><title>` + esc(title) + "</title>")
	s.text(4, 15, "", "ttl", title)
}

func (s *svg) rect(x, y, w, h float64, class, tip string) {
	s.b.WriteString(`<rect x="` + f1(x) + `" y="` + f1(y) + `" width="` + f1(w) + `" height="` + f1(h) + `" class="` + esc(class) + `">`)
	if tip != "" {
		s.b.WriteString("<title>" + esc(tip) + "</title>")
	}
	s.b.WriteString("</rect>")
}

func (s *svg) text(x, y float64, anchor, class, t string) {
	s.b.WriteString(`<text x="` + f1(x) + `" y="` + f1(y) + `"`)
	if anchor != "" {
		s.b.WriteString(` text-anchor="` + anchor + `"`)
	}
	s.b.WriteString(` class="` + esc(class) + `">` + esc(t) + "</text>")
}

func (s *svg) line(x1, y1, x2, y2 float64, class string) {
	s.b.WriteString(`<line x1="` + f1(x1) + `" y1="` + f1(y1) + `" x2="` + f1(x2) + `" y2="` + f1(y2) + `" class="` + esc(class) + `"/>`)
}

func (s *svg) html() template.HTML {
	s.b.WriteString("</svg>")
	return template.HTML(s.b.String()) // every interpolated string above went through esc
}

// niceMax rounds n up to 1, 2 or 5 times a power of ten (at least 1).
func niceMax(n int) int {
	if n <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(float64(n))))
	for _, m := range []float64{1, 2, 5, 10} {
		if v := m * p; v >= float64(n) {
			return int(v)
		}
	}
	return n
}

func empty(title, msg string) template.HTML {
	var s svg
	s.open(chartW, titleH+30, title)
	s.text(8, titleH+20, "", "lbl", msg)
	return s.html()
}

// HBarChart draws horizontal bars, one per line, with their labels on the
// left and values on the right. emptyMsg is shown when there is nothing.
func HBarChart(title string, bars []Bar, emptyMsg string) template.HTML {
	if len(bars) == 0 {
		return empty(title, emptyMsg)
	}
	const labelW, rowH, barH, valW = 190.0, 22.0, 15.0, 50.0
	h := int(rowH*float64(len(bars))) + 8 + titleH
	maxN := 1
	for _, b := range bars {
		maxN = max(maxN, b.N)
	}
	plot := float64(chartW) - labelW - valW
	var s svg
	s.open(chartW, h, title)
	for i, b := range bars {
		y := titleH + 4 + rowH*float64(i)
		s.text(labelW-6, y+barH-3, "end", "lbl", cut(b.Label, maxLabel))
		w := plot * float64(b.N) / float64(maxN)
		s.rect(labelW, y, w, barH, b.Class, cut(b.Label, 200)+": "+itoa(b.N))
		s.text(labelW+w+5, y+barH-3, "", "val", itoa(b.N))
	}
	return s.html()
}

// ColumnChart draws vertical bars with labels below them (a histogram when
// the labels are ranges).
func ColumnChart(title string, bars []Bar, emptyMsg string) template.HTML {
	total := 0
	for _, b := range bars {
		total += b.N
	}
	if total == 0 {
		return empty(title, emptyMsg)
	}
	stacks := make([]Stack, len(bars))
	for i, b := range bars {
		stacks[i] = Stack{Label: b.Label, N: []int{b.N}}
	}
	return stacked(title, stacks, nil, func(i, _ int) string { return bars[i].Class }, emptyMsg)
}

// StackedChart draws one vertical bar per category, its series stacked
// bottom up in legend order, with the legend on the right.
func StackedChart(title string, cats []Stack, legend []Legend, emptyMsg string) template.HTML {
	return stacked(title, cats, legend, func(_, j int) string { return legend[j].Class }, emptyMsg)
}

func stacked(title string, cats []Stack, legend []Legend, class func(i, j int) string, emptyMsg string) template.HTML {
	maxT := 0
	for _, c := range cats {
		t := 0
		for _, n := range c.N {
			t += n
		}
		maxT = max(maxT, t)
	}
	if len(cats) == 0 || maxT == 0 {
		return empty(title, emptyMsg)
	}
	const h, top, bottom, left = 280, 14.0 + titleH, 40.0, 44.0
	right := 12.0
	if len(legend) > 0 {
		right = 170
	}
	plotW := float64(chartW) - left - right
	plotH := float64(h) - top - bottom
	top1 := niceMax(maxT)
	var s svg
	s.open(chartW, h, title)
	// Grid and axis: 0, the middle (when whole) and the top.
	ticks := []int{0, top1}
	if top1 >= 2 && top1%2 == 0 {
		ticks = append(ticks, top1/2)
	}
	for _, v := range ticks {
		y := top + plotH - plotH*float64(v)/float64(top1)
		cls := "grid"
		if v == 0 {
			cls = "axis"
		}
		s.line(left, y, left+plotW, y, cls)
		s.text(left-6, y+4, "end", "val", itoa(v))
	}
	slot := plotW / float64(len(cats))
	barW := math.Min(slot*0.7, 60)
	for i, c := range cats {
		x := left + slot*float64(i) + (slot-barW)/2
		y := top + plotH
		t := 0
		for j, n := range c.N {
			t += n
			if n == 0 {
				continue
			}
			bh := plotH * float64(n) / float64(top1)
			y -= bh
			tip := cut(c.Label, 60)
			if j < len(legend) {
				tip += " · " + cut(legend[j].Label, 60)
			}
			s.rect(x, y, barW, bh, class(i, j), tip+": "+itoa(n))
		}
		if t > 0 {
			s.text(x+barW/2, y-3, "middle", "val", itoa(t))
		}
		fit := int(math.Max(4, slot/legendRune))
		first, second := c.Label, ""
		if utf8.RuneCountInString(c.Label) > fit {
			if i := strings.LastIndex(c.Label, " "); i > 0 {
				first, second = c.Label[:i], c.Label[i+1:]
			}
		}
		s.text(x+barW/2, top+plotH+16, "middle", "lbl", cut(first, fit))
		if second != "" {
			s.text(x+barW/2, top+plotH+30, "middle", "lbl", cut(second, fit))
		}
	}
	for j, l := range legend {
		y := top + 4 + 20*float64(j)
		x := left + plotW + 16
		s.rect(x, y, 12, 12, l.Class, "")
		s.text(x+18, y+10, "", "lbl", cut(l.Label, 20))
	}
	return s.html()
}

// ChartSVG draws the report's charts with labels in lang.
func (r *Report) ChartSVG(lang string) Charts {
	cd := &r.Charts
	none := text(lang, "chart_empty")
	var ch Charts

	// Weekly volume per OPD: the top OPDs stacked, the rest as "others".
	cats := make([]Stack, len(cd.Weeks))
	for w, start := range cd.Weeks {
		cats[w] = Stack{Label: start.In(r.loc).Format("02/01")}
		for _, s := range cd.WeeklySeries {
			cats[w].N = append(cats[w].N, s.Counts[w])
		}
	}
	var legend []Legend
	for j, s := range cd.WeeklySeries {
		l := s.Label
		switch s.OPD {
		case OthersSeries:
			l = text(lang, "others")
		case "":
			l = text(lang, "unrouted")
		}
		legend = append(legend, Legend{Label: l, Class: "c-" + itoa(min(j, 5))})
	}
	ch.Weekly = StackedChart(text(lang, "chart_weekly"), cats, legend, none)

	// Time to first response.
	var bars []Bar
	prev := time.Duration(0)
	for i, n := range cd.FRBuckets {
		var label string
		cls := "f-on_track"
		if i < len(cd.FRBounds) {
			b := cd.FRBounds[i]
			if i == 0 {
				label = "≤" + hoursLabel(b, lang)
			} else {
				label = hoursLabel(prev, lang) + "–" + hoursLabel(b, lang)
			}
			if b > r.Target {
				cls = "f-overdue"
			}
			prev = b
		} else {
			label = ">" + hoursLabel(prev, lang)
			cls = "f-overdue"
		}
		bars = append(bars, Bar{Label: label, N: n, Class: cls})
	}
	bars = append(bars, Bar{Label: text(lang, "chart_unanswered"), N: cd.FRUnanswered, Class: "f-none"})
	ch.FirstResponse = ColumnChart(text(lang, "chart_frt"), bars, none)

	// Backlog aging by deadline state.
	cats = cats[:0:0]
	for i, a := range cd.Aging {
		var label string
		switch {
		case i == 0:
			label = "<" + f1(cd.AgingBounds[0])
		case i < len(cd.AgingBounds):
			label = f1(cd.AgingBounds[i-1]) + "–" + f1(cd.AgingBounds[i])
		default:
			label = "≥" + f1(cd.AgingBounds[i-1])
		}
		cats = append(cats, Stack{Label: label + text(lang, "aging_unit"), N: []int{a[0], a[1], a[2]}})
	}
	ch.Aging = StackedChart(text(lang, "chart_aging"), cats, []Legend{
		{text(lang, "state_overdue"), "f-overdue"}, {text(lang, "state_due_soon"), "f-due_soon"}, {text(lang, "state_on_track"), "f-on_track"},
	}, none)

	toBars := func(cs []Count) []Bar {
		out := make([]Bar, len(cs))
		for i, c := range cs {
			out[i] = Bar{Label: c.Label, N: c.N, Class: "c-0"}
		}
		return out
	}
	ch.Topics = HBarChart(text(lang, "chart_topics"), toBars(cd.Topics), none)
	ch.Kecamatan = HBarChart(text(lang, "chart_kecamatan"), toBars(cd.Kecamatan), none)
	return ch
}

func hoursLabel(d time.Duration, lang string) string {
	if lang == "en" {
		return f1(d.Hours()) + "h"
	}
	return f1(d.Hours()) + "j"
}
