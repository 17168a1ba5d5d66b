package report

import (
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// XLSX exports keep numbers as numbers (shares as fractions formatted as
// percentages, hours and working days with decimals, instants as date-time
// cells in WIB) and every text as a string cell in the Text number format
// ("@"), so no cell is ever a formula, even after someone edits it.

type xstyles struct {
	title, bold, header, text, textBold, int, intBold, pct, pctBold, dec1, dec1Bold, dec2, when, wrap int
}

func newStyles(f *excelize.File) (xstyles, error) {
	var s xstyles
	var err error
	mk := func(dst *int, st *excelize.Style) {
		if err == nil {
			*dst, err = f.NewStyle(st)
		}
	}
	pct, dec1, dec2, when := "0.0%", "0.0", "0.00", "yyyy-mm-dd hh:mm"
	bold := &excelize.Font{Bold: true}
	mk(&s.title, &excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}})
	mk(&s.bold, &excelize.Style{Font: bold})
	mk(&s.header, &excelize.Style{Font: bold, NumFmt: 49, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"},
		Fill:   excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"DCE6F1"}},
		Border: []excelize.Border{{Type: "bottom", Color: "000000", Style: 1}}})
	mk(&s.text, &excelize.Style{NumFmt: 49})
	mk(&s.textBold, &excelize.Style{NumFmt: 49, Font: bold})
	mk(&s.int, &excelize.Style{NumFmt: 1})
	mk(&s.intBold, &excelize.Style{NumFmt: 1, Font: bold})
	mk(&s.pct, &excelize.Style{CustomNumFmt: &pct})
	mk(&s.pctBold, &excelize.Style{CustomNumFmt: &pct, Font: bold})
	mk(&s.dec1, &excelize.Style{CustomNumFmt: &dec1})
	mk(&s.dec1Bold, &excelize.Style{CustomNumFmt: &dec1, Font: bold})
	mk(&s.dec2, &excelize.Style{CustomNumFmt: &dec2})
	mk(&s.when, &excelize.Style{CustomNumFmt: &when})
	mk(&s.wrap, &excelize.Style{NumFmt: 49, Alignment: &excelize.Alignment{WrapText: true, Vertical: "top"}})
	return s, err
}

// footerText escapes '&', the code character of Excel headers and footers.
func footerText(s string) string { return strings.ReplaceAll(s, "&", "&&") }

func (r *Report) pageSetup(f *excelize.File, sheet, lang string) error {
	landscape, a4 := "landscape", 9
	if err := f.SetPageLayout(sheet, &excelize.PageLayoutOptions{Orientation: &landscape, Size: &a4}); err != nil {
		return err
	}
	return f.SetHeaderFooter(sheet, &excelize.HeaderFooterOptions{
		OddFooter: "&L" + footerText(text(lang, "meta_period")+": "+r.Period.Label(lang, r.loc)) +
			"&C" + footerText(text(lang, "meta_calendar")+": "+r.CalendarVersion) + "&R&P/&N",
	})
}

// notesSheet writes the notes and formulas on their own sheet.
func (r *Report) notesSheet(f *excelize.File, st xstyles, title, lang string, extra ...string) error {
	sheet := text(lang, "sheet_notes")
	if _, err := f.NewSheet(sheet); err != nil {
		return err
	}
	row := 1
	set := func(vals []any, style int) error {
		cell, _ := excelize.CoordinatesToCellName(1, row)
		if err := f.SetSheetRow(sheet, cell, &vals); err != nil {
			return err
		}
		end, _ := excelize.CoordinatesToCellName(len(vals), row)
		row++
		return f.SetCellStyle(sheet, cell, end, style)
	}
	if err := set([]any{title}, st.title); err != nil {
		return err
	}
	for _, n := range r.Notes(lang) {
		if err := set([]any{n[0], n[1]}, st.wrap); err != nil {
			return err
		}
	}
	for _, e := range extra {
		if err := set([]any{e}, st.textBold); err != nil {
			return err
		}
	}
	row++
	if err := set([]any{text(lang, "meta_formulas")}, st.textBold); err != nil {
		return err
	}
	for _, fm := range r.Formulas(lang) {
		if err := set([]any{fm.Name, fm.Text}, st.wrap); err != nil {
			return err
		}
	}
	if err := f.SetColWidth(sheet, "A", "A", 32); err != nil {
		return err
	}
	if err := f.SetColWidth(sheet, "B", "B", 110); err != nil {
		return err
	}
	return r.pageSetup(f, sheet, lang)
}

// LeagueColumns are the league table's column headers.
func LeagueColumns(lang string) []string {
	keys := []string{"col_rank", "col_opd_code", "col_opd", "col_received", "col_answered", "col_pct_follow", "col_pct_target",
		"col_fr_median", "col_fr_p90", "col_fr_median_wh", "col_fr_p90_wh", "col_overdue", "col_oldest"}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = text(lang, k)
	}
	return out
}

// xcell is a typed value and its style.
type xcell struct {
	v     any
	style int
}

func hoursVal(d time.Duration, n int) any {
	if n == 0 {
		return nil
	}
	return d.Hours()
}

func shareVal(v float64, ok bool) any {
	if !ok {
		return nil
	}
	return v
}

func (r *Report) recapCells(st xstyles, no any, row *Row, lang string, bold bool) []xcell {
	t, i, p, d := st.text, st.int, st.pct, st.dec1
	if bold {
		t, i, p, d = st.textBold, st.intBold, st.pctBold, st.dec1Bold
	}
	cells := []xcell{{no, i}, {codeCell(row), t}, {RowName(row, lang), t}, {r.RankLabel(row, lang), t}, {row.CarryOver, i}, {row.Received, i}}
	for _, n := range row.StatusCounts() {
		cells = append(cells, xcell{n, i})
	}
	fu, fuOK := row.FollowedUp()
	wt, wtOK := row.WithinTarget()
	rs, rsOK := row.ResolvedShare()
	var res, oldest any
	if row.ResolvedN > 0 {
		res = row.ResolutionHK
	}
	if row.OpenNow > 0 {
		oldest = row.OldestOpenHK
	}
	top := ""
	if row.TopPlatformN > 0 {
		top = row.TopPlatform.Label()
	}
	return append(cells, xcell{row.NeedAnswer, i}, xcell{row.Answered, i}, xcell{row.InTarget, i},
		xcell{shareVal(fu, fuOK), p}, xcell{shareVal(wt, wtOK), p}, xcell{shareVal(rs, rsOK), p},
		xcell{hoursVal(row.FirstResponse.Mean, row.FirstResponse.N), d}, xcell{hoursVal(row.FirstResponse.Median, row.FirstResponse.N), d},
		xcell{hoursVal(row.FirstResponse.P90, row.FirstResponse.N), d}, xcell{hoursVal(row.FirstResponseWork.Median, row.FirstResponseWork.N), d},
		xcell{hoursVal(row.FirstResponseWork.P90, row.FirstResponseWork.N), d}, xcell{res, d}, xcell{row.Overdue, i}, xcell{oldest, d},
		xcell{top, t}, xcell{row.TopTopic, t})
}

func (r *Report) leagueCells(st xstyles, row *Row, lang string) []xcell {
	fu, fuOK := row.FollowedUp()
	wt, wtOK := row.WithinTarget()
	var rank any = text(lang, "not_enough")
	rankStyle := st.text
	if row.Rank > 0 {
		rank, rankStyle = row.Rank, st.int
	}
	var oldest any
	if row.OpenNow > 0 {
		oldest = row.OldestOpenHK
	}
	return []xcell{{rank, rankStyle}, {row.OPD, st.text}, {RowName(row, lang), st.text}, {row.Received, st.int}, {row.Answered, st.int},
		{shareVal(fu, fuOK), st.pct}, {shareVal(wt, wtOK), st.pct},
		{hoursVal(row.FirstResponse.Median, row.FirstResponse.N), st.dec1}, {hoursVal(row.FirstResponse.P90, row.FirstResponse.N), st.dec1},
		{hoursVal(row.FirstResponseWork.Median, row.FirstResponseWork.N), st.dec1}, {hoursVal(row.FirstResponseWork.P90, row.FirstResponseWork.N), st.dec1},
		{row.Overdue, st.int}, {oldest, st.dec1}}
}

// table writes a title block and a table on a sheet with the normal API
// (small tables: the recap and the league).
func table(f *excelize.File, st xstyles, sheet string, head []string, title []string, rows [][]xcell) error {
	r := 1
	for i, t := range title {
		cell, _ := excelize.CoordinatesToCellName(1, r)
		if err := f.SetCellStr(sheet, cell, t); err != nil {
			return err
		}
		style := st.bold
		if i == 0 {
			style = st.title
		}
		if err := f.SetCellStyle(sheet, cell, cell, style); err != nil {
			return err
		}
		r++
	}
	r++
	headRow := r
	for c, h := range head {
		cell, _ := excelize.CoordinatesToCellName(c+1, r)
		if err := f.SetCellStr(sheet, cell, h); err != nil {
			return err
		}
	}
	first, _ := excelize.CoordinatesToCellName(1, r)
	last, _ := excelize.CoordinatesToCellName(len(head), r)
	if err := f.SetCellStyle(sheet, first, last, st.header); err != nil {
		return err
	}
	if err := f.SetRowHeight(sheet, r, 45); err != nil {
		return err
	}
	for _, row := range rows {
		r++
		for c, x := range row {
			cell, _ := excelize.CoordinatesToCellName(c+1, r)
			if x.v != nil {
				var err error
				if s, ok := x.v.(string); ok {
					err = f.SetCellStr(sheet, cell, s)
				} else {
					err = f.SetCellValue(sheet, cell, x.v)
				}
				if err != nil {
					return err
				}
			}
			if err := f.SetCellStyle(sheet, cell, cell, x.style); err != nil {
				return err
			}
		}
	}
	top, _ := excelize.CoordinatesToCellName(4, headRow+1)
	return f.SetPanes(sheet, &excelize.Panes{Freeze: true, XSplit: 3, YSplit: headRow, TopLeftCell: top, ActivePane: "bottomRight"})
}

// WriteRecapXLSX writes the recap workbook: the recap sheet, the league
// table sheet and the notes sheet (period, calendar version, cuti bersama
// setting, formulas); every sheet prints A4 landscape with the period and
// the calendar version in its footer. After an error, w may hold part of
// the file.
func WriteRecapXLSX(w io.Writer, rep *Report, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	sheet := text(lang, "sheet_recap")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	title := []string{text(lang, "title_recap"), text(lang, "meta_period") + ": " + rep.Period.Label(lang, rep.loc),
		text(lang, "meta_generated") + ": " + TimeLabel(rep.Now, lang, rep.loc)}
	var rows [][]xcell
	for i := range rep.Rows {
		rows = append(rows, rep.recapCells(st, i+1, &rep.Rows[i], lang, false))
	}
	rows = append(rows, rep.recapCells(st, nil, &rep.Total, lang, true))
	if err := table(f, st, sheet, RecapColumns(lang), title, rows); err != nil {
		return err
	}
	if err := widths(f, sheet, len(RecapColumns(lang))); err != nil {
		return err
	}
	if err := rep.pageSetup(f, sheet, lang); err != nil {
		return err
	}

	league := text(lang, "sheet_league")
	if _, err := f.NewSheet(league); err != nil {
		return err
	}
	rows = rows[:0]
	for i := range rep.League {
		rows = append(rows, rep.leagueCells(st, &rep.League[i], lang))
	}
	title[0] = text(lang, "title_league")
	if err := table(f, st, league, LeagueColumns(lang), title, rows); err != nil {
		return err
	}
	if err := widths(f, league, len(LeagueColumns(lang))); err != nil {
		return err
	}
	if err := rep.pageSetup(f, league, lang); err != nil {
		return err
	}
	if err := rep.notesSheet(f, st, text(lang, "title_recap"), lang); err != nil {
		return err
	}
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return newZip(w) }) // straight to w, see WriteRegisterXLSX
	return f.Write(io.Discard)
}

func widths(f *excelize.File, sheet string, n int) error {
	last, _ := excelize.ColumnNumberToName(n)
	if err := f.SetColWidth(sheet, "A", last, 12); err != nil {
		return err
	}
	if err := f.SetColWidth(sheet, "B", "B", 18); err != nil {
		return err
	}
	return f.SetColWidth(sheet, "C", "C", 40)
}

// registerSheetPath is the part of the register sheet: the first sheet of
// a new workbook (spliceZip fails the export if excelize names it
// otherwise).
const registerSheetPath = "xl/worksheets/sheet1.xml"

// WriteRegisterXLSX writes the detail register, then the notes sheet. The
// register sheet's header, column widths and frozen pane are excelize's
// stream writer's; its rows (a month can hold 100,000) are written by
// sheetWriter into the sheet's zip entry, and every entry is compressed by
// parallelDeflate. The file is written to w as it is made: after an error,
// w may hold part of it.
func WriteRegisterXLSX(w io.Writer, rep *Report, reg *Register, lang string) error {
	return writeRegisterXLSX(w, rep, builtRows(reg.Rows), reg.Unmasked, lang)
}

func writeRegisterXLSX(w io.Writer, rep *Report, rows rowChunks, unmasked bool, lang string) error {
	f := excelize.NewFile()
	defer f.Close()
	st, err := newStyles(f)
	if err != nil {
		return err
	}
	sheet := text(lang, "sheet_register")
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	cols := RegisterColumns(lang)
	colW := []float64{24, 17, 17, 10, 18, 11, 30, 16, 60, 14, 18, 16, 16, 18, 30, 17, 17, 17, 30, 14, 17, 12, 18, 14}
	for i, wd := range colW[:min(len(colW), len(cols))] {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(cols))
	for i, c := range cols {
		head[i] = excelize.Cell{StyleID: st.header, Value: c}
	}
	if err := sw.SetRow("A1", head, excelize.RowOpts{Height: 30}); err != nil {
		return err
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	mask := text(lang, "meta_masked")
	if unmasked {
		mask = text(lang, "meta_unmasked")
	}
	if err := rep.notesSheet(f, st, text(lang, "title_register"), lang, mask); err != nil {
		return err
	}
	// excelize writes the archive into a buffer of its own, then copies the
	// buffer to w; the zip writer writes to w directly instead (the buffer
	// stays empty), which saves growing and copying a 20 MB buffer.
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		return &spliceZip{zw: newZip(w), sheet: registerSheetPath, fill: func(w io.Writer) error {
			return writeRegisterRows(w, rep, rows, st)
		}}
	})
	return f.Write(io.Discard)
}

// registerCells are the fixed parts of the register's 24 cells.
var registerCells = func() []string {
	out := make([]string, 24)
	for i := range out {
		out[i], _ = excelize.ColumnNumberToName(i + 1)
	}
	return out
}()

// registerSegment is how many rows one goroutine turns into XML at a time.
const registerSegment = 1000

// writeRegisterRows writes the register's rows from row 2 on, cell for
// cell what the stream writer wrote for them before. Chunks of rows are
// turned into XML on every core and written in order.
func writeRegisterRows(w io.Writer, rep *Report, rows rowChunks, st xstyles) error {
	type segment struct {
		b    []byte
		done chan struct{}
	}
	cells := newRegisterCells(st)
	queue := make(chan *segment, runtime.GOMAXPROCS(0))
	var rowsErr error // set before queue is closed
	go func() {
		defer close(queue)
		for k := 0; ; k++ {
			chunk, err := rows.chunk(k)
			if err != nil || chunk == nil {
				rowsErr = err
				return
			}
			seg := &segment{done: make(chan struct{})}
			queue <- seg
			go func(first int) {
				defer close(seg.done)
				s := &sheetWriter{b: getSheetBuf()}
				for i := range chunk {
					s.registerRow(cells, &chunk[i], first+i, rep.loc)
				}
				seg.b = s.b
			}(k*registerSegment + 2)
		}
	}()
	var err error
	for seg := range queue {
		<-seg.done
		if err == nil {
			_, err = w.Write(seg.b)
		}
		putSheetBuf(seg.b)
	}
	if err == nil {
		err = rowsErr
	}
	return err
}

// registerCellSet are the register's columns as cells of their style.
type registerCellSet struct {
	text, when [24]cellFmt
	dec2       cellFmt
}

func newRegisterCells(st xstyles) *registerCellSet {
	c := &registerCellSet{}
	for i, col := range registerCells {
		c.text[i] = newCellFmt(col, st.text)
		c.when[i] = newCellFmt(col, st.when)
	}
	c.dec2 = newCellFmt(registerCells[21], st.dec2)
	return c
}

func (s *sheetWriter) registerRow(c *registerCellSet, r *RegisterRow, row int, loc *time.Location) {
	s.startRow(row)
	when := func(i int, t time.Time) {
		if t.IsZero() {
			s.empty(&c.when[i])
			return
		}
		s.when(&c.when[i], t.In(loc))
	}
	s.text(&c.text[0], r.ID)
	when(1, r.Posted)
	when(2, r.Captured)
	s.text(&c.text[3], r.Platform)
	s.text(&c.text[4], r.Account)
	s.text(&c.text[5], r.Interaction)
	s.text(&c.text[6], r.Link)
	s.text(&c.text[7], r.Reporter)
	s.text(&c.text[8], r.Summary)
	s.text(&c.text[9], r.Kind)
	s.text(&c.text[10], r.Topic)
	s.text(&c.text[11], r.Kecamatan)
	s.text(&c.text[12], r.Kelurahan)
	code := r.OPD
	if code == "" {
		code = "_unrouted"
	}
	s.text(&c.text[13], code)
	s.text(&c.text[14], r.OPDName)
	when(15, r.Assigned)
	when(16, r.FirstResponse)
	when(17, r.Resolved)
	s.text(&c.text[18], r.Evidence)
	s.text(&c.text[19], r.StatusLabel)
	when(20, r.Deadline)
	if r.HasHKLeft {
		s.number(&c.dec2, r.HKLeft)
	} else {
		s.empty(&c.dec2)
	}
	s.text(&c.text[22], r.ExternalRef)
	s.text(&c.text[23], r.Officer)
	s.endRow()
}
