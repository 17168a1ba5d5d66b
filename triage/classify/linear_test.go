package classify

import (
	"bufio"
	"bytes"
	"math"
	"testing"
)

// The compact table keeps, per bucket, either a row (with its IDF next to
// the scales) or an IDF alone; both must survive newTable and a file round
// trip.
func TestTableBuckets(t *testing.T) {
	const bits = 8
	idf := make([]float32, 1<<bits)
	idf[3], idf[7], idf[9] = 2.5, 3.0625, 1.75
	k := 3
	w := make([]float32, (1<<bits)*k)
	// Bucket 3: IDF and weights; bucket 5: weights, default IDF; bucket 7:
	// IDF only; bucket 9: IDF and weights too small to keep.
	copy(w[3*k:], []float32{0.5, -0.25, 0})
	copy(w[5*k:], []float32{0, 0, -1})
	copy(w[9*k:], []float32{0.001, 0, 0})
	tab := newTable(bits, idf, 1.5, 0.02, denseHead{labels: []string{"a", "b", "c"}, w: w, bias: []float32{0.1, 0.2, 0.3}, temp: 1})
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	tab.writeTo(bw)
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	read, err := readTable(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	for name, tb := range map[string]*table{"built": tab, "read": read} {
		if tb.rows() != 2 {
			t.Errorf("%s: %d rows, want 2", name, tb.rows())
		}
		for _, c := range []struct {
			b      uint32
			idf    float32
			hasRow bool
			w      []float32
		}{
			{3, 2.5, true, []float32{0.5, -0.25, 0}},
			{5, 0, true, []float32{0, 0, -1}},
			{7, 3.0625, false, nil},
			{9, 1.75, false, nil},
			{11, 0, false, nil},
			{1 << 20, 0, false, nil}, // outside the space
		} {
			gotIDF, row := tb.bucket(c.b)
			if gotIDF != c.idf || (row >= 0) != c.hasRow {
				t.Errorf("%s: bucket %d = idf %v row %d, want idf %v row? %v", name, c.b, gotIDF, row, c.idf, c.hasRow)
				continue
			}
			for j, want := range c.w {
				got := tb.contribution(tb.heads[0], feat{row: row, val: 1}, j)
				if math.Abs(got-float64(want)) > 0.005 {
					t.Errorf("%s: bucket %d label %d weight %v, want %v", name, c.b, j, got, want)
				}
			}
		}
	}
}

// scoreAll reads each row once for every head; it must give the logits
// that scoring each head alone gives.
func TestScoreAllMatchesScores(t *testing.T) {
	c := defaultClassifier(t)
	tab := c.model.tab
	var seen bucketSet
	for _, text := range []string{"jalan rusak parah di jatiasih", "terima kasih pak wali, mantap", "kapan pendaftaran ppdb smp dibuka?", "x"} {
		fs := c.ext.extract(c.norm.Normalize(text).Tokens, nil, &seen)
		tab.prepare(fs)
		all := make([]float32, tab.width)
		tab.scoreAll(fs, all)
		for _, h := range tab.heads {
			out := make([]float64, h.k())
			tab.scores(h, fs, out, make([]float32, h.k()))
			for i, v := range out {
				if d := math.Abs(v - float64(all[h.off+i])); d > 1e-5 {
					t.Errorf("%q head %d label %s: scoreAll %v, scores %v", text, h.index, h.labels[i], all[h.off+i], v)
				}
			}
		}
	}
}
