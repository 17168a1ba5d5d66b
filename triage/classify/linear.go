package classify

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// table holds the weights of every head (the OPD model and the kind
// model) over one hashed feature space. For speed, each bucket's IDF and
// row live together, and one row holds the int8 weights of all heads, so a
// feature costs two memory reads whatever the number of heads.
type table struct {
	bits   uint8
	def    float32      // IDF of buckets without a stored one
	meta   []bucketMeta // by bucket
	scales []float32    // rows * len(heads): weight = q * scale
	q      []int8       // rows * width
	width  int          // sum of the heads' label counts
	heads  []*head
}

type bucketMeta struct {
	idf float32 // 0: use table.def
	row int32   // -1: no weights
}

// head is one labelling task.
type head struct {
	labels []string
	bias   []float32
	temp   float64 // calibration temperature: p = softmax(z / temp)
	off    int     // offset of its weights in a row
	index  int     // position in table.heads
}

func (h *head) k() int { return len(h.labels) }

// prepare weighs features by IDF, scales the vector to unit length and
// resolves each feature's row.
func (t *table) prepare(fs []feat) {
	var ss float64
	for i := range fs {
		m := bucketMeta{row: -1}
		if b := fs[i].bucket; int(b) < len(t.meta) {
			m = t.meta[b]
		}
		w := m.idf
		if w == 0 {
			w = t.def
		}
		fs[i].val *= w
		fs[i].row = m.row
		ss += float64(fs[i].val) * float64(fs[i].val)
	}
	if ss > 0 {
		inv := float32(1 / math.Sqrt(ss))
		for i := range fs {
			fs[i].val *= inv
		}
	}
}

// resolve sets each feature's row without touching its value.
func (t *table) resolve(fs []feat) {
	for i := range fs {
		fs[i].row = -1
		if b := fs[i].bucket; int(b) < len(t.meta) {
			fs[i].row = t.meta[b].row
		}
	}
}

// scores writes the raw scores (logits) of a head into out; acc is scratch
// of at least K. Features must have been prepared.
func (t *table) scores(h *head, fs []feat, out []float64, acc []float32) {
	k := h.k()
	acc = acc[:k]
	copy(acc, h.bias)
	nh := len(t.heads)
	for _, f := range fs {
		r := int(f.row)
		if r < 0 {
			continue
		}
		sv := f.val * t.scales[r*nh+h.index]
		if sv == 0 {
			continue
		}
		row := t.q[r*t.width+h.off : r*t.width+h.off+k]
		for c, q := range row {
			acc[c] += sv * float32(q)
		}
	}
	for c, v := range acc {
		out[c] = float64(v)
	}
}

// contribution is the weight times value of one prepared feature for one
// label of a head.
func (t *table) contribution(h *head, f feat, c int) float64 {
	r := int(f.row)
	if r < 0 {
		return 0
	}
	return float64(f.val * t.scales[r*len(t.heads)+h.index] * float32(t.q[r*t.width+h.off+c]))
}

func (t *table) rows() int {
	if len(t.heads) == 0 {
		return 0
	}
	return len(t.scales) / len(t.heads)
}

// softmax turns logits into calibrated probabilities in place and returns
// the index of the largest.
func softmax(z []float64, temp float64) int {
	if temp <= 0 {
		temp = 1
	}
	best := 0
	for i := range z {
		if z[i] > z[best] {
			best = i
		}
	}
	mx := z[best]
	var sum float64
	for i := range z {
		z[i] = math.Exp((z[i] - mx) / temp)
		sum += z[i]
	}
	for i := range z {
		z[i] /= sum
	}
	return best
}

// denseHead is a head's training output: weights laid out [bucket][K].
type denseHead struct {
	labels []string
	w      []float32
	bias   []float32
	temp   float64
}

// newTable quantises dense heads into a table. A head's part of a row is
// dropped when its largest weight is below minAbs; a bucket keeps its IDF
// when idf[b] > 0.
func newTable(bits uint8, idf []float32, def float32, minAbs float32, dense ...denseHead) *table {
	t := &table{bits: bits, def: def, meta: make([]bucketMeta, 1<<bits)}
	for i, d := range dense {
		t.heads = append(t.heads, &head{labels: d.labels, bias: append([]float32(nil), d.bias...), temp: d.temp, off: t.width, index: i})
		t.width += len(d.labels)
	}
	scales := make([]float32, len(dense))
	for b := range t.meta {
		t.meta[b] = bucketMeta{row: -1}
		if b < len(idf) {
			t.meta[b].idf = idf[b]
		}
		keep := false
		for i, d := range dense {
			k := len(d.labels)
			scales[i] = rowScale(d.w[b*k : b*k+k])
			if scales[i]*127 < minAbs || scales[i] == 0 {
				scales[i] = 0
				continue
			}
			keep = true
		}
		if !keep {
			continue
		}
		t.meta[b].row = int32(t.rows())
		t.scales = append(t.scales, scales...)
		for i, d := range dense {
			k := len(d.labels)
			for _, v := range d.w[b*k : b*k+k] {
				t.q = append(t.q, quant(v, scales[i]))
			}
		}
	}
	return t
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

// rowScale maps the largest weight of a row to 127.
func rowScale(row []float32) float32 {
	var mx float32
	for _, v := range row {
		mx = max(mx, abs32(v))
	}
	return mx / 127
}

func quant(v, scale float32) int8 {
	if scale == 0 {
		return 0
	}
	q := math.Round(float64(v / scale))
	return int8(max(-127, min(127, q)))
}

// writeTo stores the table: heads (labels, temperature, bias), the default
// IDF, then every bucket with an IDF or a row as (bucket delta, IDF in
// sixteenths or 0, row flag, per-head scales and int8 weights).
func (t *table) writeTo(w *bufio.Writer) {
	w.WriteByte(t.bits)
	putUvarint(w, uint64(len(t.heads)))
	for _, h := range t.heads {
		putUvarint(w, uint64(len(h.labels)))
		for _, l := range h.labels {
			putString(w, l)
		}
		putFloat64(w, h.temp)
		for _, b := range h.bias {
			putFloat32(w, b)
		}
	}
	putFloat32(w, t.def)
	n := 0
	for _, m := range t.meta {
		if m.idf > 0 || m.row >= 0 {
			n++
		}
	}
	putUvarint(w, uint64(n))
	last := 0
	nh := len(t.heads)
	for b, m := range t.meta {
		if m.idf <= 0 && m.row < 0 {
			continue
		}
		putUvarint(w, uint64(b-last))
		last = b
		putUvarint(w, uint64(math.Round(float64(m.idf)*16)))
		if m.row < 0 {
			w.WriteByte(0)
			continue
		}
		w.WriteByte(1)
		r := int(m.row)
		for _, s := range t.scales[r*nh : r*nh+nh] {
			putFloat32(w, s)
		}
		for _, q := range t.q[r*t.width : r*t.width+t.width] {
			w.WriteByte(byte(q))
		}
	}
}

func readTable(r *bufio.Reader) (*table, error) {
	t := &table{}
	var err error
	if t.bits, err = r.ReadByte(); err != nil || t.bits < 8 || t.bits > 24 {
		return nil, fmt.Errorf("bits: %w", orBad(err))
	}
	nh, err := binary.ReadUvarint(r)
	if err != nil || nh == 0 || nh > 8 {
		return nil, fmt.Errorf("heads: %w", orBad(err))
	}
	for i := 0; i < int(nh); i++ {
		n, err := binary.ReadUvarint(r)
		if err != nil || n == 0 || n > 1000 {
			return nil, fmt.Errorf("labels: %w", orBad(err))
		}
		h := &head{labels: make([]string, n), bias: make([]float32, n), off: t.width, index: i}
		for j := range h.labels {
			if h.labels[j], err = readString(r); err != nil {
				return nil, err
			}
		}
		if h.temp, err = readFloat64(r); err != nil || !(h.temp > 0) {
			return nil, fmt.Errorf("temperature: %w", orBad(err))
		}
		for j := range h.bias {
			if h.bias[j], err = readFloat32(r); err != nil {
				return nil, err
			}
		}
		t.heads = append(t.heads, h)
		t.width += int(n)
	}
	if t.def, err = readFloat32(r); err != nil || !(t.def > 0) {
		return nil, fmt.Errorf("idf: %w", orBad(err))
	}
	t.meta = make([]bucketMeta, 1<<t.bits)
	for i := range t.meta {
		t.meta[i].row = -1
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(len(t.meta)) {
		return nil, fmt.Errorf("buckets: %w", orBad(err))
	}
	buf := make([]byte, t.width)
	b := 0
	for i := 0; i < int(n); i++ {
		d, err := binary.ReadUvarint(r)
		if err != nil {
			return nil, fmt.Errorf("bucket %d: %w", i, err)
		}
		b += int(d)
		if b >= len(t.meta) || (i > 0 && d == 0) {
			return nil, fmt.Errorf("bucket %d: %w", i, errBadModel)
		}
		q, err := binary.ReadUvarint(r)
		if err != nil || q > 1<<12 {
			return nil, fmt.Errorf("bucket %d: %w", i, orBad(err))
		}
		t.meta[b].idf = float32(q) / 16
		flag, err := r.ReadByte()
		if err != nil || flag > 1 {
			return nil, fmt.Errorf("bucket %d: %w", i, orBad(err))
		}
		if flag == 0 {
			continue
		}
		t.meta[b].row = int32(t.rows())
		for range t.heads {
			s, err := readFloat32(r)
			if err != nil {
				return nil, err
			}
			t.scales = append(t.scales, s)
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("bucket %d: %w", i, err)
		}
		for _, v := range buf {
			t.q = append(t.q, int8(v))
		}
	}
	return t, nil
}

var errBadModel = errors.New("malformed model")

func orBad(err error) error {
	if err != nil {
		return err
	}
	return errBadModel
}

func putUvarint(w *bufio.Writer, v uint64) {
	var b [binary.MaxVarintLen64]byte
	w.Write(b[:binary.PutUvarint(b[:], v)])
}

func putString(w *bufio.Writer, s string) {
	putUvarint(w, uint64(len(s)))
	w.WriteString(s)
}

func putFloat32(w *bufio.Writer, v float32) {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
	w.Write(b[:])
}

func putFloat64(w *bufio.Writer, v float64) {
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
	w.Write(b[:])
}

func readString(r *bufio.Reader) (string, error) {
	n, err := binary.ReadUvarint(r)
	if err != nil || n > 1<<16 {
		return "", fmt.Errorf("string: %w", orBad(err))
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return string(b), nil
}

func readFloat32(r *bufio.Reader) (float32, error) {
	var b [4]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, err
	}
	return math.Float32frombits(binary.LittleEndian.Uint32(b[:])), nil
}

func readFloat64(r *bufio.Reader) (float64, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return 0, err
	}
	return math.Float64frombits(binary.LittleEndian.Uint64(b[:])), nil
}
