package report

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	switch s[0] {
	case ' ', '\t', '\r', '=', '+', '-', '@':
	default:
		return s // the common case: nothing to check further
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
// The rows are appended by csvRecord, byte for byte what encoding/csv writes
// for them, without a string per time or number.
func WriteRegisterCSV(w io.Writer, rep *Report, reg *Register, opt CSVOptions) error {
	return writeRegisterCSV(w, rep, builtRows(reg.Rows), reg.Unmasked, opt)
}

func writeRegisterCSV(w io.Writer, rep *Report, rows rowChunks, unmasked bool, opt CSVOptions) error {
	c, bw, err := newCSV(w, opt, rep.loc)
	if err != nil {
		return err
	}
	cols := RegisterColumns(opt.Lang)
	for i := range cols {
		cols[i] = c.txt(cols[i])
	}
	c.w.Write(cols)
	c.w.Flush() // the rows go to bw directly, after the header
	if err := c.w.Error(); err != nil {
		return err
	}
	rec := &csvRecord{comma: opt.sep(), b: make([]byte, 0, 96<<10)}
	numLang := opt.numLang()
	ts := newTimeFormatter(rep.loc)
	when := func(t time.Time) {
		if t.IsZero() {
			rec.plain(nil)
			return
		}
		rec.plain(ts.append(rec.scratch[:0], t))
	}
	for k := 0; ; k++ {
		chunk, err := rows.chunk(k)
		if err != nil {
			return err
		}
		if chunk == nil {
			break
		}
		for i := range chunk {
			rec.register(&chunk[i], when, numLang)
			if len(rec.b) >= 64<<10 {
				if _, err := bw.Write(rec.b); err != nil {
					return err
				}
				rec.b = rec.b[:0]
			}
		}
	}
	if _, err := bw.Write(rec.b); err != nil {
		return err
	}
	mask := text(opt.Lang, "meta_masked")
	if unmasked {
		mask = text(opt.Lang, "meta_unmasked")
	}
	c.footer(rep, text(opt.Lang, "title_register"), mask)
	return c.close(bw)
}

// register appends one register row.
func (rec *csvRecord) register(r *RegisterRow, when func(time.Time), numLang string) {
	rec.text(SafeCell(r.ID))
	when(r.Posted)
	when(r.Captured)
	rec.text(SafeCell(r.Platform))
	rec.text(SafeCell(r.Account))
	rec.text(SafeCell(r.Interaction))
	rec.text(SafeCell(r.Link))
	rec.text(SafeCell(r.Reporter))
	rec.text(SafeCell(r.Summary))
	rec.text(SafeCell(r.Kind))
	rec.text(SafeCell(r.Topic))
	rec.text(SafeCell(r.Kecamatan))
	rec.text(SafeCell(r.Kelurahan))
	code := r.OPD
	if code == "" {
		code = "_unrouted"
	}
	rec.text(SafeCell(code))
	rec.text(SafeCell(r.OPDName))
	when(r.Assigned)
	when(r.FirstResponse)
	when(r.Resolved)
	rec.text(SafeCell(r.Evidence))
	rec.text(SafeCell(r.StatusLabel))
	when(r.Deadline)
	if r.HasHKLeft {
		rec.plain(appendDecimal(rec.scratch[:0], r.HKLeft, 2, numLang))
	} else {
		rec.plain(nil)
	}
	rec.text(SafeCell(r.ExternalRef))
	rec.text(SafeCell(r.Officer))
	rec.end()
}

// csvRecord appends one record at a time as encoding/csv's Writer (with
// UseCRLF) writes it.
type csvRecord struct {
	comma   rune
	b       []byte
	n       int    // fields in the current record
	scratch []byte // for formatting a field
}

func (r *csvRecord) sep() {
	if r.n > 0 {
		r.b = utf8.AppendRune(r.b, r.comma)
	}
	r.n++
}

// plain appends a field made of digits, '-', ':', ' ', ',' or '.' only
// (times and numbers): quoted only when it holds the separator or starts
// with a space, which these fields never do with ',' or ';' as separators
// and decimals that do not use the separator.
func (r *csvRecord) plain(f []byte) {
	r.sep()
	if len(f) > 0 && (f[0] == ' ' || bytes.ContainsRune(f, r.comma)) {
		r.quoted(string(f))
		return
	}
	r.b = append(r.b, f...)
	r.scratch = f[:0]
}

func (r *csvRecord) text(f string) {
	r.sep()
	if !r.needsQuotes(f) {
		r.b = append(r.b, f...)
		return
	}
	r.quoted(f)
}

func (r *csvRecord) quoted(f string) {
	r.b = append(r.b, '"')
	for len(f) > 0 {
		i := strings.IndexAny(f, "\"\r\n")
		if i < 0 {
			i = len(f)
		}
		r.b = append(r.b, f[:i]...)
		f = f[i:]
		if len(f) > 0 {
			switch f[0] {
			case '"':
				r.b = append(r.b, `""`...)
			case '\r':
				// dropped: UseCRLF writes every line end as \r\n
			case '\n':
				r.b = append(r.b, "\r\n"...)
			}
			f = f[1:]
		}
	}
	r.b = append(r.b, '"')
}

// needsQuotes is encoding/csv's fieldNeedsQuotes.
func (r *csvRecord) needsQuotes(f string) bool {
	if f == "" {
		return false
	}
	if f == `\.` {
		return true
	}
	if r.comma < utf8.RuneSelf {
		c := byte(r.comma)
		for i := 0; i < len(f); i++ {
			if b := f[i]; b == '\n' || b == '\r' || b == '"' || b == c {
				return true
			}
		}
	} else if strings.ContainsRune(f, r.comma) || strings.ContainsAny(f, "\"\r\n") {
		return true
	}
	if f[0] < utf8.RuneSelf {
		return f[0] == ' ' || f[0] >= '\t' && f[0] <= '\r'
	}
	r1, _ := utf8.DecodeRuneInString(f)
	return unicode.IsSpace(r1)
}

func (r *csvRecord) end() {
	r.b = append(r.b, '\r', '\n')
	r.n = 0
}

// appendDecimal appends Decimal(v, dec, lang).
func appendDecimal(b []byte, v float64, dec int, lang string) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, v, 'f', dec, 64)
	s := b[start:]
	if len(s) > 1 && s[0] == '-' && s[1] == '0' && (len(s) == 2 || s[2] == '.' && allZeros(s[3:])) {
		copy(s, s[1:]) // no "-0,0"
		b = b[:len(b)-1]
		s = b[start:]
	}
	if lang != "en" {
		if i := bytes.IndexByte(s, '.'); i >= 0 {
			s[i] = ','
		}
	}
	return b
}

func allZeros(b []byte) bool {
	for _, c := range b {
		if c != '0' {
			return false
		}
	}
	return true
}

// timeFormatter appends instants as CSVTime in a location. It keeps the
// text and the bounds of recently seen local days (a register's times fall
// on few days), so most instants cost a division.
type timeFormatter struct {
	loc    *time.Location
	offset int64 // the last zone offset seen: day numbers are guessed with it
	days   [64]dayEntry
}

type dayEntry struct {
	start, end int64 // Unix seconds of the day's local midnight and the next one
	text       [11]byte
}

func newTimeFormatter(loc *time.Location) *timeFormatter {
	f := &timeFormatter{loc: loc}
	for i := range f.days {
		f.days[i].start, f.days[i].end = 1, 0 // empty
	}
	return f
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (f *timeFormatter) append(b []byte, t time.Time) []byte {
	sec := t.Unix()
	e := &f.days[floorDiv(sec+f.offset, 86400)&63]
	if sec < e.start || sec >= e.end {
		lt := t.In(f.loc)
		y, m, d := lt.Date()
		start := time.Date(y, m, d, 0, 0, 0, 0, f.loc)
		end := time.Date(y, m, d+1, 0, 0, 0, 0, f.loc)
		_, offStart := start.Zone()
		_, offEnd := end.Add(-time.Second).Zone()
		day := lt.AppendFormat(make([]byte, 0, 16), "2006-01-02 ")
		if offStart != offEnd || end.Sub(start) != 24*time.Hour || len(day) != len(e.text) {
			return lt.AppendFormat(b, CSVTime) // a day with a zone change, a year past 9999
		}
		f.offset = int64(offStart)
		e = &f.days[floorDiv(start.Unix()+f.offset, 86400)&63]
		e.start, e.end = start.Unix(), end.Unix()
		copy(e.text[:], day)
	}
	s := sec - e.start // seconds into the local day
	hh, mm := s/3600, s%3600/60
	b = append(b, e.text[:]...)
	return append(b, byte('0'+hh/10), byte('0'+hh%10), ':', byte('0'+mm/10), byte('0'+mm%10))
}
