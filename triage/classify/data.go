package classify

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/tanggap/tanggap"
)

// Row is one labelled text from a training or evaluation CSV. Columns are
// found by name: text (required), opd, kind, date (YYYY-MM-DD...) and
// map_confidence (high/medium/low); others are ignored.
type Row struct {
	Text          string
	OPD           string
	Kind          tanggap.Kind
	Date          string
	MapConfidence string // map_confidence column: high, medium, low
	// WeakKind marks a kind that was not written by a person: rows of an
	// OPD-only file (a complaint system's export) count as PENGADUAN with a
	// small weight, so that the kind model knows formal complaints too.
	WeakKind bool
}

// Table is the rows of one CSV and which optional columns it had.
type Table struct {
	Rows    []Row
	HasOPD  bool
	HasKind bool
	HasDate bool
}

// ReadCSV reads a CSV with a header row. Texts longer than
// tanggap.MaxTextBytes are cut, as at the edge.
func ReadCSV(r io.Reader) (*Table, error) {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	ti, ok := col["text"]
	if !ok {
		return nil, errors.New("no text column")
	}
	get := func(rec []string, name string) string {
		i, ok := col[name]
		if !ok || i >= len(rec) {
			return ""
		}
		return strings.TrimSpace(rec[i])
	}
	t := &Table{}
	_, t.HasOPD = col["opd"]
	_, t.HasKind = col["kind"]
	_, t.HasDate = col["date"]
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return t, nil
		}
		if err != nil {
			return nil, err
		}
		if ti >= len(rec) {
			continue
		}
		text := rec[ti]
		if len(text) > tanggap.MaxTextBytes {
			p := tanggap.Post{Text: text}
			p.Sanitize()
			text = p.Text
		}
		t.Rows = append(t.Rows, Row{
			Text:          strings.Clone(text),
			OPD:           strings.ToLower(get(rec, "opd")),
			Kind:          tanggap.Kind(strings.ToUpper(get(rec, "kind"))),
			Date:          strings.Clone(get(rec, "date")),
			MapConfidence: strings.ToLower(get(rec, "map_confidence")),
		})
	}
}

// ReadCSVFile reads one CSV file.
func ReadCSVFile(path string) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := ReadCSV(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// inRange reports whether a row's date (first 10 characters) is within
// [from, to]; empty bounds are open. Rows without a date are in range only
// when no bound is set.
func inRange(date, from, to string) bool {
	if from == "" && to == "" {
		return true
	}
	if len(date) < 10 {
		return false
	}
	d := date[:10]
	return (from == "" || d >= from) && (to == "" || d <= to)
}

// rowWeight down-weights rows whose OPD label was mapped with little
// confidence.
func rowWeight(r Row) float64 {
	switch r.MapConfidence {
	case "medium":
		return 0.8
	case "low":
		return 0.5
	}
	return 1
}
