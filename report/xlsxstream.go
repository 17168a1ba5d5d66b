package report

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
)

// The register sheet holds one row per item (100,000 in a busy month).
// excelize's stream writer spends microseconds per cell (a cell name, a
// struct and interface conversions, a temporary file past 16 MB); the rows
// are written here instead, as the very XML excelize writes for the same
// cells (TestRegisterXLSXSameAsExcelize compares the parts), straight into
// the zip entry of the sheet, which excelize writes with the header row
// only. Everything else of the workbook (styles, the notes sheet, page
// set-up) is still excelize's.

// spliceZip is the zip writer excelize writes the workbook through. The
// entry named sheet gets rows (from fill) inserted before its
// </sheetData>.
type spliceZip struct {
	zw    *zip.Writer
	sheet string
	fill  func(w io.Writer) error

	pending *bytes.Buffer // excelize's XML of the sheet, until the next entry
	done    bool
}

func (z *spliceZip) Create(name string) (io.Writer, error) {
	if err := z.finish(); err != nil {
		return nil, err
	}
	if name == z.sheet {
		z.pending = &bytes.Buffer{}
		return z.pending, nil
	}
	return z.zw.Create(name)
}

func (z *spliceZip) finish() error {
	p := z.pending
	if p == nil {
		return nil
	}
	z.pending = nil
	xml := p.Bytes()
	// The stream writer was given the header row only.
	end := bytes.LastIndex(xml, []byte("</sheetData>"))
	if end < 0 || bytes.Count(xml, []byte("<row ")) != 1 {
		return fmt.Errorf("xlsx: %s is not a sheet with one row", z.sheet)
	}
	w, err := z.zw.Create(z.sheet)
	if err != nil {
		return err
	}
	if _, err := w.Write(xml[:end]); err != nil {
		return err
	}
	if err := z.fill(w); err != nil {
		return err
	}
	_, err = w.Write(xml[end:])
	z.done = true
	return err
}

func (z *spliceZip) AddFS(fsys fs.FS) error {
	if err := z.finish(); err != nil {
		return err
	}
	return z.zw.AddFS(fsys)
}

// Close ends the archive; it always closes the zip writer, which ends the
// compressor of the entry in progress (and its goroutines).
func (z *spliceZip) Close() error {
	err := z.finish()
	if cerr := z.zw.Close(); err == nil {
		err = cerr
	}
	if err == nil && !z.done {
		err = fmt.Errorf("xlsx: excelize wrote no %s", z.sheet)
	}
	return err
}

// sheetWriter appends rows of cells as excelize's StreamWriter.SetRow
// writes them.
type sheetWriter struct {
	b   []byte
	row []byte // the current row number, in digits
}

var sheetBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, 2<<20)
	return &b
}}

func getSheetBuf() []byte { return (*sheetBufs.Get().(*[]byte))[:0] }

func putSheetBuf(b []byte) {
	b = b[:0]
	sheetBufs.Put(&b)
}

// cellFmt is the fixed text of the cells of one column and style:
// `<c r="<column>` before the row number and `" s="<style>"` after it.
type cellFmt struct {
	pre, post string
}

func newCellFmt(col string, style int) cellFmt {
	f := cellFmt{pre: `<c r="` + col, post: `"`}
	if style != 0 {
		f.post += ` s="` + strconv.Itoa(style) + `"`
	}
	return f
}

func (s *sheetWriter) startRow(r int) {
	s.row = strconv.AppendInt(s.row[:0], int64(r), 10)
	s.b = append(s.b, `<row r="`...)
	s.b = append(s.b, s.row...)
	s.b = append(s.b, `">`...)
}

func (s *sheetWriter) endRow() { s.b = append(s.b, `</row>`...) }

// cellStart writes <c r="<col><row>"[ s="style"][ t="typ"]>.
func (s *sheetWriter) cellStart(f *cellFmt, typ string) {
	s.b = append(s.b, f.pre...)
	s.b = append(s.b, s.row...)
	s.b = append(s.b, f.post...)
	if typ != "" {
		s.b = append(s.b, ` t="`...)
		s.b = append(s.b, typ...)
		s.b = append(s.b, '"')
	}
	s.b = append(s.b, '>')
}

// empty is a cell with a style and no value.
func (s *sheetWriter) empty(f *cellFmt) {
	s.cellStart(f, "")
	s.b = append(s.b, `</c>`...)
}

// text is a string cell: an inline string, as excelize writes a Go string.
func (s *sheetWriter) text(f *cellFmt, v string) {
	s.cellStart(f, "inlineStr")
	s.inline(v)
	s.b = append(s.b, `</c>`...)
}

// inline writes <is><t>v</t></is> as excelize's setInlineStr does:
// truncated to Excel's 32,767 UTF-16 units, xml:space="preserve" for
// surrounding white space, XML-escaped (line feeds kept), and the _xHHHH_
// escapes of OOXML strings escaped.
func (s *sheetWriter) inline(v string) {
	if len(v) > excelize.TotalCellChars && countUTF16(v) > excelize.TotalCellChars {
		v = truncateUTF16(v, excelize.TotalCellChars)
	}
	s.b = append(s.b, `<is><t`...)
	if v != "" && (isXMLSpace(v[0]) || isXMLSpace(v[len(v)-1])) {
		s.b = append(s.b, ` xml:space="preserve"`...)
	}
	s.b = append(s.b, '>')
	if plainXML(v) && !strings.Contains(v, "_x") {
		s.b = append(s.b, v...)
	} else {
		s.b = append(s.b, bstrMarshal(escapeXML(v))...)
	}
	s.b = append(s.b, `</t></is>`...)
}

// number is a numeric cell as excelize writes a float64.
func (s *sheetWriter) number(f *cellFmt, v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s.text(f, fmt.Sprint(v))
		return
	}
	s.cellStart(f, "")
	s.b = append(s.b, `<v>`...)
	s.b = append(s.b, formatCellFloat(v)...)
	s.b = append(s.b, `</v></c>`...)
}

// when is a date-time cell as excelize writes a time.Time: the serial
// number of the wall-clock time of t in its location.
func (s *sheetWriter) when(f *cellFmt, t time.Time) {
	_, offset := t.Zone()
	t = t.Add(time.Duration(offset) * time.Second)
	x := timeToExcelTime(t)
	if x <= 0 { // before 1900: excelize writes the time as text
		s.cellStart(f, "inlineStr")
		v := t.Format(time.RFC3339Nano)
		s.b = append(s.b, `<is><t>`...)
		s.b = append(s.b, v...)
		s.b = append(s.b, `</t></is></c>`...)
		return
	}
	s.cellStart(f, "")
	s.b = append(s.b, `<v>`...)
	s.b = strconv.AppendFloat(s.b, x, 'f', -1, 64)
	s.b = append(s.b, `</v></c>`...)
}

func isXMLSpace(c byte) bool { return c == '\t' || c == '\n' || c == '\r' || c == ' ' }

// plainXML reports whether v is printable ASCII that XML text needs no
// escape for.
func plainXML(v string) bool {
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c >= 0x7f || c == '&' || c == '<' || c == '>' || c == '"' || c == '\'' {
			return false
		}
	}
	return true
}

// escapeXML is xml.EscapeText, with line feeds kept as they are (excelize
// turns &#xA; back into a line feed).
func escapeXML(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); {
		r, w := utf8.DecodeRuneInString(v[i:])
		var esc string
		switch r {
		case '"':
			esc = "&#34;"
		case '\'':
			esc = "&#39;"
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "\n"
		case '\r':
			esc = "&#xD;"
		default:
			if !inXMLCharRange(r) || (r == utf8.RuneError && w == 1) {
				esc = "\uFFFD"
			}
		}
		if esc != "" {
			b.WriteString(esc)
		} else {
			b.WriteString(v[i : i+w])
		}
		i += w
	}
	return b.String()
}

// inXMLCharRange is encoding/xml's isInCharacterRange.
func inXMLCharRange(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}

func countUTF16(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

func truncateUTF16(s string, length int) string {
	n := 0
	for i, r := range s {
		if n += utf16.RuneLen(r); n > length {
			return s[:i]
		}
	}
	return s
}

// The functions below reproduce excelize v2's (BSD-3-Clause, Copyright
// (c) 2016-2026 The excelize Authors) formatting of cell values, so that
// the rows written here are the ones its stream writer writes.

var (
	bstrExp       = regexp.MustCompile(`_x[a-fA-F\d]{4}_`)
	bstrEscapeExp = regexp.MustCompile(`x[a-fA-F\d]{4}_`)
)

// bstrMarshal escapes the _xHHHH_ sequences of a string (excelize's
// bstrMarshal).
func bstrMarshal(s string) (result string) {
	matches, l, cursor := bstrExp.FindAllStringSubmatchIndex(s, -1), len(s), 0
	for _, match := range matches {
		result += s[cursor:match[0]]
		subStr := s[match[0]:match[1]]
		if subStr == "_x005F_" {
			cursor = match[1]
			if match[1]+6 <= l && bstrEscapeExp.MatchString(s[match[1]:match[1]+6]) {
				_, err := strconv.Unquote(`"\u` + s[match[1]+1:match[1]+5] + `"`)
				if err == nil {
					result += subStr + "x005F" + subStr
					continue
				}
			}
			result += subStr + "x005F_"
			continue
		}
		if bstrExp.MatchString(subStr) {
			cursor = match[1]
			if _, err := strconv.Unquote(`"\u` + s[match[0]+2:match[1]-1] + `"`); err == nil {
				result += "_x005F" + subStr
				continue
			}
		}
	}
	if cursor < l {
		result += s[cursor:]
	}
	return result
}

// formatCellFloat formats a float with Excel's 15 significant digits
// (excelize's formatCellFloat with automatic precision).
func formatCellFloat(value float64) string {
	str := strconv.FormatFloat(value, 'f', -1, 64)
	if math.Abs(value) == math.MaxFloat64 {
		return str
	}
	const maxPrec = 15
	decimal := strings.IndexByte(str, '.')
	significant := 0
	for idx := range str {
		if str[idx] < '0' || str[idx] > '9' || significant == 0 && str[idx] == '0' {
			continue
		}
		significant++
		if significant <= maxPrec {
			continue
		}
		if decimal >= 0 && idx > decimal {
			return strings.TrimSuffix(str[:idx], ".")
		}
		if decimal < 0 {
			decimal = len(str)
		}
		truncated := []byte(str[:decimal])
		for ; idx < len(truncated); idx++ {
			truncated[idx] = '0'
		}
		return string(truncated)
	}
	return str
}

var (
	excelMinTime1900      = time.Date(1899, time.December, 31, 0, 0, 0, 0, time.UTC)
	excelBuggyPeriodStart = time.Date(1900, time.March, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)
)

// timeToExcelTime is excelize's serial date of t (1900 date system).
func timeToExcelTime(t time.Time) float64 {
	const (
		dayNanoseconds = 24 * time.Hour
		maxDuration    = 290 * 364 * dayNanoseconds
	)
	date := excelMinTime1900
	if t.Before(date) {
		return 0
	}
	tt, diff, result := t, t.Sub(date), 0.0
	for diff >= maxDuration {
		result += float64(maxDuration / dayNanoseconds)
		tt = tt.Add(-maxDuration)
		diff = tt.Sub(date)
	}
	rem := diff % dayNanoseconds
	result += float64(diff-rem)/float64(dayNanoseconds) + float64(rem)/float64(dayNanoseconds)
	if t.After(excelBuggyPeriodStart) {
		result++
	}
	return result
}
