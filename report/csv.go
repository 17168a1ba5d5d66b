package report

import (
	"bufio"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/tanggap/tanggap"
)

// BOM starts every CSV export, so that Excel reads it as UTF-8.
const BOM = "\uFEFF"

// CSVOptions choose the dialect of a CSV export.
type CSVOptions struct {
	// Semicolon separates fields with ';' and writes decimal commas, as
	// spreadsheets set to an Indonesian locale expect; otherwise ',' and
	// decimal points.
	Semicolon bool
	// Lang is the language of headers and notes ("id" or "en").
	Lang string
}

func (o CSVOptions) sep() rune {
	if o.Semicolon {
		return ';'
	}
	return ','
}

// numLang is the decimal convention of numbers: decimal comma with ';'.
func (o CSVOptions) numLang() string {
	if o.Semicolon {
		return "id"
	}
	return "en"
}

// SafeCell neutralises spreadsheet formula injection: a text cell whose
// first non-blank character is = + - @ (or that starts with a tab or a
// carriage return) gets a leading apostrophe, so spreadsheets show it as
// text instead of evaluating it.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	if t := strings.TrimLeft(s, " "); t != "" {
		switch t[0] {
		case '=', '+', '-', '@':
			return "'" + s
		}
	}
	return s
}

// CSVTime is how exports write instants: local time (WIB), minutes.
const CSVTime = "2006-01-02 15:04"

type csvOut struct {
	w   *csv.Writer
	opt CSVOptions
	loc *time.Location
}

func newCSV(w io.Writer, opt CSVOptions, loc *time.Location) (*csvOut, *bufio.Writer, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(BOM); err != nil {
		return nil, nil, err
	}
	cw := csv.NewWriter(bw)
	cw.Comma = opt.sep()
	cw.UseCRLF = true
	return &csvOut{w: cw, opt: opt, loc: loc}, bw, nil
}

func (c *csvOut) txt(s string) string { return SafeCell(s) }

func (c *csvOut) num(v float64, dec int) string { return Decimal(v, dec, c.opt.numLang()) }

func (c *csvOut) pct(v float64, ok bool) string {
	if !ok {
		return ""
	}
	return c.num(v*100, 1)
}

func (c *csvOut) hours(d time.Duration, n int) string {
	if n == 0 {
		return ""
	}
	return c.num(d.Hours(), 1)
}

func (c *csvOut) time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(c.loc).Format(CSVTime)
}

func (c *csvOut) footer(rep *Report, title string, extra ...string) {
	l := c.opt.Lang
	c.w.Write(nil)
	c.w.Write([]string{c.txt(title)})
	for _, n := range rep.Notes(l) {
		c.w.Write([]string{c.txt(n[0]), c.txt(n[1])})
	}
	for _, e := range extra {
		c.w.Write([]string{c.txt(e)})
	}
	c.w.Write([]string{c.txt(text(l, "meta_formulas"))})
	for _, f := range rep.Formulas(l) {
		c.w.Write([]string{c.txt(f.Name), c.txt(f.Text)})
	}
}

func (c *csvOut) close(bw *bufio.Writer) error {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// RecapColumns are the recap's column headers.
func RecapColumns(lang string) []string {
	cols := []string{text(lang, "col_no"), text(lang, "col_opd_code"), text(lang, "col_opd"), text(lang, "col_rank"),
		text(lang, "col_carry"), text(lang, "col_received")}
	for _, st := range tanggap.Statuses {
		cols = append(cols, st.Label(lang))
	}
	return append(cols, text(lang, "col_need"), text(lang, "col_answered"), text(lang, "col_in_target"),
		text(lang, "col_pct_follow"), text(lang, "col_pct_target"), text(lang, "col_pct_resolved"),
		text(lang, "col_fr_mean"), text(lang, "col_fr_median"), text(lang, "col_fr_p90"),
		text(lang, "col_fr_median_wh"), text(lang, "col_fr_p90_wh"), text(lang, "col_res_mean"),
		text(lang, "col_overdue"), text(lang, "col_oldest"), text(lang, "col_top_channel"), text(lang, "col_top_topic"))
}

// RankLabel is a row's place in the league table: its rank, "belum cukup
// data", or "" for rows that are not OPDs (unrouted, other codes, total).
func (r *Report) RankLabel(row *Row, lang string) string {
	switch {
	case row.Rank > 0:
		return strconv.Itoa(row.Rank)
	case row.OPD == "" || row.OPD == Total:
		return ""
	}
	for _, o := range r.Scope.OPDs {
		if o.Code == row.OPD {
			return text(lang, "not_enough")
		}
	}
	return ""
}

func (c *csvOut) recapRecord(rep *Report, no string, r *Row) []string {
	l := c.opt.Lang
	rec := []string{no, c.txt(codeCell(r)), c.txt(RowName(r, l)), c.txt(rep.RankLabel(r, l)),
		strconv.Itoa(r.CarryOver), strconv.Itoa(r.Received)}
	for _, n := range r.StatusCounts() {
		rec = append(rec, strconv.Itoa(n))
	}
	fu, fuOK := r.FollowedUp()
	wt, wtOK := r.WithinTarget()
	rs, rsOK := r.ResolvedShare()
	rec = append(rec, strconv.Itoa(r.NeedAnswer), strconv.Itoa(r.Answered), strconv.Itoa(r.InTarget),
		c.pct(fu, fuOK), c.pct(wt, wtOK), c.pct(rs, rsOK),
		c.hours(r.FirstResponse.Mean, r.FirstResponse.N), c.hours(r.FirstResponse.Median, r.FirstResponse.N), c.hours(r.FirstResponse.P90, r.FirstResponse.N),
		c.hours(r.FirstResponseWork.Median, r.FirstResponseWork.N), c.hours(r.FirstResponseWork.P90, r.FirstResponseWork.N))
	if r.ResolvedN > 0 {
		rec = append(rec, c.num(r.ResolutionHK, 1))
	} else {
		rec = append(rec, "")
	}
	rec = append(rec, strconv.Itoa(r.Overdue))
	if r.OpenNow > 0 {
		rec = append(rec, c.num(r.OldestOpenHK, 1))
	} else {
		rec = append(rec, "")
	}
	top := ""
	if r.TopPlatformN > 0 {
		top = r.TopPlatform.Label()
	}
	return append(rec, c.txt(top), c.txt(r.TopTopic))
}

// codeCell is the code column of a row ("" for the total).
func codeCell(r *Row) string {
	if r.OPD == Total {
		return ""
	}
	if r.OPD == "" {
		return "_unrouted"
	}
	return r.OPD
}

// WriteRecapCSV writes the recap: a header line, one line per row, the
// total, then the notes (period, calendar version, cuti bersama setting)
// and the formulas.
func WriteRecapCSV(w io.Writer, rep *Report, opt CSVOptions) error {
	c, bw, err := newCSV(w, opt, rep.loc)
	if err != nil {
		return err
	}
	cols := RecapColumns(opt.Lang)
	for i := range cols {
		cols[i] = c.txt(cols[i])
	}
	c.w.Write(cols)
	for i := range rep.Rows {
		c.w.Write(c.recapRecord(rep, strconv.Itoa(i+1), &rep.Rows[i]))
	}
	c.w.Write(c.recapRecord(rep, "", &rep.Total))
	c.footer(rep, text(opt.Lang, "title_recap"))
	return c.close(bw)
}

// RegisterColumns are the register's column headers.
func RegisterColumns(lang string) []string {
	keys := []string{"reg_id", "reg_posted", "reg_captured", "reg_platform", "reg_account", "reg_interaction", "reg_link",
		"reg_reporter", "reg_summary", "reg_kind", "reg_topic", "reg_kecamatan", "reg_kelurahan", "col_opd_code", "col_opd",
		"reg_assigned", "reg_first_response", "reg_resolved", "reg_evidence", "reg_status", "reg_deadline", "reg_hk_left",
		"reg_external", "reg_officer"}
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = text(lang, k)
	}
	return out
}

// WriteRegisterCSV writes the detail register, then the notes and formulas.
func WriteRegisterCSV(w io.Writer, rep *Report, reg *Register, opt CSVOptions) error {
	c, bw, err := newCSV(w, opt, rep.loc)
	if err != nil {
		return err
	}
	cols := RegisterColumns(opt.Lang)
	for i := range cols {
		cols[i] = c.txt(cols[i])
	}
	c.w.Write(cols)
	rec := make([]string, len(cols))
	for i := range reg.Rows {
		r := &reg.Rows[i]
		hk := ""
		if r.HasHKLeft {
			hk = c.num(r.HKLeft, 2)
		}
		code := r.OPD
		if code == "" {
			code = "_unrouted"
		}
		rec = append(rec[:0], c.txt(r.ID), c.time(r.Posted), c.time(r.Captured), c.txt(r.Platform), c.txt(r.Account),
			c.txt(r.Interaction), c.txt(r.Link), c.txt(r.Reporter), c.txt(r.Summary), c.txt(r.Kind), c.txt(r.Topic),
			c.txt(r.Kecamatan), c.txt(r.Kelurahan), c.txt(code), c.txt(r.OPDName), c.time(r.Assigned), c.time(r.FirstResponse),
			c.time(r.Resolved), c.txt(r.Evidence), c.txt(r.StatusLabel), c.time(r.Deadline), hk, c.txt(r.ExternalRef), c.txt(r.Officer))
		if err := c.w.Write(rec); err != nil {
			return err
		}
	}
	mask := text(opt.Lang, "meta_masked")
	if reg.Unmasked {
		mask = text(opt.Lang, "meta_unmasked")
	}
	c.footer(rep, text(opt.Lang, "title_register"), mask)
	return c.close(bw)
}
