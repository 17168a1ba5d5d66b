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
// model) over one hashed feature space. For speed, a bucket costs 4 bytes
// (its row, or its IDF when it has no row), a row's IDF and scales live
// together, and one row holds the int8 weights of all heads, so a feature
// costs three memory reads whatever the number of heads, in tables small
// enough to stay in the processor's caches.
type table struct {
	bits  uint8
	def   float32   // IDF of buckets without a stored one
	meta  []int32   // by bucket: >= 0 its row; < 0 no row, and ^meta holds the bits of its float32 IDF (0: use def)
	rowf  []float32 // by row, stride len(heads)+1: the bucket's IDF (0: use def), then one scale per head (weight = q * scale)
	q     []int8    // rows * width
	width int       // sum of the heads' label counts
	heads []*head
	nrows int
}

// bucket returns a bucket's IDF (0: use def) and row (-1: no weights).
func (t *table) bucket(b uint32) (float32, int32) {
	if int(b) >= len(t.meta) {
		return 0, -1
	}
	m := t.meta[b]
	if m < 0 {
		return math.Float32frombits(uint32(^m)), -1
	}
	return t.rowf[int(m)*(len(t.heads)+1)], m
}

// addBucket sets bucket b's IDF (idf >= 0, 0 for the default) and, when
// scales is not nil, appends a row with those per-head scales and
// weights.
func (t *table) addBucket(b int, idf float32, scales []float32, q []int8) {
	if scales == nil {
		t.meta[b] = ^int32(math.Float32bits(idf))
		return
	}
	t.meta[b] = int32(t.nrows)
	t.rowf = append(t.rowf, idf)
	t.rowf = append(t.rowf, scales...)
	t.q = append(t.q, q...)
	t.nrows++
}

// scale is the scale of head h in row r.
func (t *table) scale(r int, h int) float32 { return t.rowf[r*(len(t.heads)+1)+1+h] }

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
		w, row := t.bucket(fs[i].bucket)
		if w == 0 {
			w = t.def
		}
		fs[i].val *= w
		fs[i].row = row
		ss += float64(fs[i].val) * float64(fs[i].val)
		if row >= 0 {
			// Read the row's first and last weight now: the loads of
			// many features overlap here, where scoreAll's long
			// per-feature loop would wait for them one by one.
			r := int(row) * t.width
			fs[i].touch = t.q[r] ^ t.q[r+t.width-1]
		}
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
		_, fs[i].row = t.bucket(fs[i].bucket)
	}
}

// scores writes the raw scores (logits) of a head into out; acc is scratch
// of at least K. Features must have been prepared.
func (t *table) scores(h *head, fs []feat, out []float64, acc []float32) {
	k := h.k()
	acc = acc[:k]
	copy(acc, h.bias)
	for _, f := range fs {
		r := int(f.row)
		if r < 0 {
			continue
		}
		sv := f.val * t.scale(r, h.index)
		if sv == 0 {
			continue
		}
		axpy(acc, t.q[r*t.width+h.off:r*t.width+h.off+k], sv)
	}
	for c, v := range acc {
		out[c] = float64(v)
	}
}

// scoreAll accumulates the logits of every head in one pass over the
// features, so each feature's row is read from memory once: acc (at least
// t.width long) gets head h's logits at [h.off, h.off+K). Features must
// have been prepared.
func (t *table) scoreAll(fs []feat, acc []float32) {
	acc = acc[:t.width]
	for _, h := range t.heads {
		copy(acc[h.off:h.off+h.k()], h.bias)
	}
	nh := len(t.heads)
	w := t.width
	for _, f := range fs {
		r := int(f.row)
		if r < 0 {
			continue
		}
		row := t.q[r*w : r*w+w]
		sc := t.rowf[r*(nh+1)+1 : r*(nh+1)+1+nh]
		if nh == 2 {
			// The usual case (OPD and kind heads): no loop over heads.
			off := t.heads[1].off
			if sv := f.val * sc[0]; sv != 0 {
				axpy(acc[:off], row[:off], sv)
			}
			if sv := f.val * sc[1]; sv != 0 {
				axpy(acc[off:], row[off:], sv)
			}
			continue
		}
		for i, h := range t.heads {
			if sv := f.val * sc[i]; sv != 0 {
				axpy(acc[h.off:h.off+h.k()], row[h.off:h.off+h.k()], sv)
			}
		}
	}
}

// axpy adds s*q to a, element by element (len(a) >= len(q)), four at a
// time.
func axpy(a []float32, q []int8, s float32) {
	a = a[:len(q)]
	i := 0
	for ; i+4 <= len(q); i += 4 {
		a4 := a[i : i+4 : i+4]
		q4 := q[i : i+4 : i+4]
		a4[0] += s * float32(q4[0])
		a4[1] += s * float32(q4[1])
		a4[2] += s * float32(q4[2])
		a4[3] += s * float32(q4[3])
	}
	for ; i < len(q); i++ {
		a[i] += s * float32(q[i])
	}
}

// contribution is the weight times value of one prepared feature for one
// label of a head.
func (t *table) contribution(h *head, f feat, c int) float64 {
	r := int(f.row)
	if r < 0 {
		return 0
	}
	return float64(f.val * t.scale(r, h.index) * float32(t.q[r*t.width+h.off+c]))
}

func (t *table) rows() int { return t.nrows }

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
	t := &table{bits: bits, def: def, meta: make([]int32, 1<<bits)}
	for i, d := range dense {
		t.heads = append(t.heads, &head{labels: d.labels, bias: append([]float32(nil), d.bias...), temp: d.temp, off: t.width, index: i})
		t.width += len(d.labels)
	}
	scales := make([]float32, len(dense))
	q := make([]int8, 0, t.width)
	for b := range t.meta {
		var w float32
		if b < len(idf) {
			w = max(idf[b], 0)
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
			t.addBucket(b, w, nil, nil)
			continue
		}
		q = q[:0]
		for i, d := range dense {
			k := len(d.labels)
			for _, v := range d.w[b*k : b*k+k] {
				q = append(q, quant(v, scales[i]))
			}
		}
		t.addBucket(b, w, scales, q)
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
	for b := range t.meta {
		if idf, row := t.bucket(uint32(b)); idf > 0 || row >= 0 {
			n++
		}
	}
	putUvarint(w, uint64(n))
	last := 0
	nh := len(t.heads)
	for b := range t.meta {
		idf, row := t.bucket(uint32(b))
		if idf <= 0 && row < 0 {
			continue
		}
		putUvarint(w, uint64(b-last))
		last = b
		putUvarint(w, uint64(math.Round(float64(idf)*16)))
		if row < 0 {
			w.WriteByte(0)
			continue
		}
		w.WriteByte(1)
		r := int(row)
		for h := range nh {
			putFloat32(w, t.scale(r, h))
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
	t.meta = make([]int32, 1<<t.bits)
	for i := range t.meta {
		t.meta[i] = ^int32(0) // no row, default IDF
	}
	n, err := binary.ReadUvarint(r)
	if err != nil || n > uint64(len(t.meta)) {
		return nil, fmt.Errorf("buckets: %w", orBad(err))
	}
	buf := make([]byte, t.width)
	q8 := make([]int8, t.width)
	scales := make([]float32, nh)
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
		idf := float32(q) / 16
		flag, err := r.ReadByte()
		if err != nil || flag > 1 {
			return nil, fmt.Errorf("bucket %d: %w", i, orBad(err))
		}
		if flag == 0 {
			t.addBucket(b, idf, nil, nil)
			continue
		}
		for h := range scales {
			if scales[h], err = readFloat32(r); err != nil {
				return nil, err
			}
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, fmt.Errorf("bucket %d: %w", i, err)
		}
		for j, v := range buf {
			q8[j] = int8(v)
		}
		t.addBucket(b, idf, scales, q8)
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
